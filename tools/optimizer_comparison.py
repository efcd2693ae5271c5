#!/usr/bin/python3
"""Compares optimisers by the image as written: for each (binary, options)
configuration and pair, runs N evaluations and records
  reported   the total loss the run reports (sidecar),
  written    the total loss of the written PNG, measured again by
             stylize_bench --measure with the same model,
  gap        |reported - written| / written,
  rises      evaluations whose evaluated loss was above the previous one's
             (from --progress json; for the bounded L-BFGS these are the
             rejected trials, which it never keeps),
  s/eval     the run's seconds per evaluation,
  style, content   the judge's distances (tools/style_loss_study.py: a
             VGG19 with another seed; style relative to the content's own).

  tools/optimizer_comparison.py --configs old-lbfgs=/tmp/old/stylize,lbfgs=build/stylize,\\
      adam=build/stylize:--optimizer:adam:--learning-rate:0.02 --out out/optimizers
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from style_loss_study import Judge, judge_output  # noqa: E402
from defaults_study import make_graphic  # noqa: E402
from style_loss_study import make_deep_field  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", required=True, help="name=exe[:opt:opt...],...")
    ap.add_argument("--pairs", default="butterfly:deep_field,building:graphic,tubingen:starry_night")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "optimizers"))
    ap.add_argument("--images", default=os.path.join(REPO, "..", "shared", "images"))
    ap.add_argument("--bench", default=os.path.join(REPO, "build", "stylize_bench"))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "vgg19-random.pt"))
    ap.add_argument("--judge", default=os.path.join(REPO, "models", "vgg19-random-seed1.pt"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    judge = Judge(args.judge)
    made = {"deep_field": make_deep_field, "graphic": make_graphic}

    def find(name):
        if name in made:
            p = os.path.join(args.out, name + ".png")
            if not os.path.exists(p):
                made[name](p)
            return p
        for k in ("content", "style"):
            for ext in (".jpg", ".png"):
                p = os.path.join(args.images, k, name + ext)
                if os.path.exists(p):
                    return p
        raise SystemExit(f"no image {name}")

    rows = []
    for spec in args.configs.split(","):
        name, rest = spec.split("=", 1)
        exe, *opts = rest.split(":")
        for pair in args.pairs.split(","):
            c, s = pair.split(":")
            content, style = find(c), find(s)
            out = os.path.join(args.out, f"{name}_{c}_{s}.png")
            cmd = [exe, content, style, "-o", out, "-s", str(args.size), "-n", str(args.iterations), "-m", args.model,
                   "--sidecar", "--progress", "json"] + opts
            p = subprocess.run(cmd, check=True, capture_output=True, text=True)
            prog = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
            evaluated = [j.get("evaluated", j["loss"]) for j in prog]
            rises = sum(1 for a, b in zip(evaluated, evaluated[1:]) if b > a)
            side = json.load(open(out + ".json"))
            m = subprocess.run([args.bench, "--measure", out, "--content", content, "--style", style, "--model", args.model,
                                "--size", str(args.size)], check=True, capture_output=True, text=True)
            written = json.loads(m.stdout.strip().splitlines()[-1])["total"]
            reported = side["losses"]["total"]
            j = judge_output(judge, content, style, out)
            fams = [k for k in j if k.startswith("style_")]
            row = {"config": name, "pair": f"{c} x {s}", "evaluations": side["evaluations"],
                   "s_per_eval": side["seconds"] / side["evaluations"], "reported": reported, "written": written,
                   "gap": abs(reported - written) / written, "rises": rises,
                   "rejected": side.get("rejected_evaluations", 0),
                   "style": sum(j[k] for k in fams) / len(fams), "content": j["content"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = ["| optimiser | pair | evals | s/eval | reported | written | gap | loss rose | style (judge) | content (judge) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['config']} | {r['pair']} | {r['evaluations']} | {r['s_per_eval']:.3f} | {r['reported']:.4g} | "
                     f"{r['written']:.4g} | {100 * r['gap']:.1f}% | {r['rises']} | {r['style']:.3f} | {r['content']:.3f} |")
    open(os.path.join(args.out, "table.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
