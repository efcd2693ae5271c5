#!/usr/bin/python3
"""Can another network tell a bf16 optimisation from an fp32 one?

Runs every study pair three ways for the same number of evaluations:
  fp32      the default path (fp32; Winograd where the CPU has it),
  direct    fp32 with --conv-algorithm direct: another exact fp32 path, whose
            difference from the default is the yardstick for "cannot tell
            apart" (the same arithmetic in another order, amplified by
            L-BFGS),
  bf16      --precision bf16,
and judges the written PNGs with a network other than the one optimised
(tools/style_loss_study.py: style distance relative to the photo's, relu4_2
content distance; SSIM of the luminance to the content), plus the PSNR of
each to the fp32 output. Prints a table; writes OUT/results.jsonl.

  tools/precision_study.py --out out/precision --size 256 -n 150
"""
import argparse
import json
import math
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from defaults_study import add_study_arguments, find_image, ssim_y, study_judge  # noqa: E402
from style_loss_study import judge_output, load  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAYS = {"fp32": [], "direct": ["--conv-algorithm", "direct"], "bf16": ["--precision", "bf16"]}


def psnr(a, b):
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * math.log10(1 / mse)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "precision"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("-n", "--evaluations", type=int, default=150)
    add_study_arguments(ap)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    judge = study_judge(args.judge)

    rows = []
    with open(os.path.join(args.out, "results.jsonl"), "w") as log:
        for pair in args.pairs.split(","):
            c_name, s_name = pair.split(":")
            content = find_image(c_name, "content", args.images, args.out)
            style = find_image(s_name, "style", args.images, args.out)
            outs = {}
            for way, opts in WAYS.items():
                out = os.path.join(args.out, f"{c_name}__{s_name}__{way}.png")
                cmd = [args.exe, content, style, "-o", out, "-s", str(args.size), "-n", str(args.evaluations),
                       "-m", args.model, "--threads", str(args.threads), "--sidecar", "-q"] + opts
                subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
                side = json.load(open(out + ".json"))
                outs[way] = out
                res = judge_output(judge, content, style, out)
                img = load(out)
                res["ssim_y"] = float(ssim_y(img, load(content, max(img.shape[2:]))))
                res["psnr_to_fp32"] = psnr(img, load(outs["fp32"])) if way != "fp32" else float("inf")
                res["style"] = sum(v for k, v in res.items() if k.startswith("style_")) / 4
                res.update(pair=pair, way=way, seconds=side.get("seconds"))
                log.write(json.dumps(res) + "\n")
                log.flush()
                rows.append(res)
                print(f"{pair:32s} {way:6s} style {res['style']:.4f} content {res['content']:.4f} "
                      f"ssim {res['ssim_y']:.3f} psnr {res['psnr_to_fp32']:.1f} dB  {res['seconds']:.1f} s", flush=True)
    # Differences to fp32, pair by pair: the bf16 ones against direct's.
    by = {(r["pair"], r["way"]): r for r in rows}
    print("\n| pair | style: direct - fp32 | bf16 - fp32 | content: direct - fp32 | bf16 - fp32 | PSNR direct | bf16 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for pair in dict.fromkeys(r["pair"] for r in rows):
        f, d, b = by[(pair, "fp32")], by[(pair, "direct")], by[(pair, "bf16")]
        print(f"| {pair} | {d['style'] - f['style']:+.4f} | {b['style'] - f['style']:+.4f} | "
              f"{d['content'] - f['content']:+.4f} | {b['content'] - f['content']:+.4f} | "
              f"{d['psnr_to_fp32']:.1f} | {b['psnr_to_fp32']:.1f} |")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
