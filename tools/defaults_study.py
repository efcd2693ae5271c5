#!/usr/bin/python3
"""Chooses the still-image defaults by the image as written, judged by a
network other than the one optimised, on a study set of content/style pairs
that includes a dark sparse style, a high-contrast graphic style, painterly
styles and a photograph used as a style.

Every configuration gets the same time per pair (the default's time for
--budget evaluations, measured by a calibration run). For every output it
records, from the written PNG:
  style     the judge's style distance (mean over the gram, mean-cov,
            sliced-Wasserstein and histogram families, relu1_1..relu5_1),
            relative to the content image's own distance (1 = no more like
            the style than the photo, 0 = matched);
  content   the judge's relu4_2 content distance (absolute);
  ssim_y    SSIM of the luminance to the content's (Wang et al. 2004,
            11x11 Gaussian window, sigma 1.5);
  mean      the mean brightness;
  gap       |reported - optimiser's own| / reported total loss (sidecar).
The bar for a default: on every pair style <= 0.5 and ssim_y >= 0.25.

  tools/defaults_study.py --out out/defaults --size 256 --budget 150
Writes OUT/results.jsonl, OUT/table.md and OUT/sheet_<size>.jpg.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from style_loss_study import Judge, judge_output, load, make_deep_field, sheet  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> stylize options (beyond -s/-n/-m); the first is the one timed.
CONFIGS = {
    "default": [],
    "gram": ["--style-loss", "gram"],
    "sw": ["--style-loss", "sliced-wasserstein"],
    "c22+42": ["--content-layers", "relu2_2:0.5,relu4_2:0.5"],
    "c42-cw3": ["--content-weight", "3"],
    "c22+42-sw300": ["--content-layers", "relu2_2:0.5,relu4_2:0.5", "--style-weight", "300"],
    "cw10": ["--content-weight", "10"],
    "cw30": ["--content-weight", "30"],
    "cw100": ["--content-weight", "100"],
    "c22+42-cw10": ["--content-layers", "relu2_2:0.5,relu4_2:0.5", "--content-weight", "10"],
    "c22-cw10": ["--content-layers", "relu2_2", "--content-weight", "10"],
    "sw100": ["--style-weight", "100"],
    "sw10": ["--style-weight", "10"],
    "sw1": ["--style-weight", "1"],
    "sw2": ["--style-weight", "2"],
    "sw3": ["--style-weight", "3"],
    "c22+42-sw3": ["--content-layers", "relu2_2:0.5,relu4_2:0.5", "--style-weight", "3"],
    "c22+42-sw10": ["--content-layers", "relu2_2:0.5,relu4_2:0.5", "--style-weight", "10"],
    "c22+42-sw1": ["--content-layers", "relu2_2:0.5,relu4_2:0.5", "--style-weight", "1"],
    # Variants of the chosen default (style weight 3, relu2_2 + relu4_2).
    # Fixed evaluation counts of about the same time at 256 px (the last
    # -n wins over the one the calibration gives): 150 evaluations, or 50 at
    # half the size (about a quarter of the cost each) and 120 at full size.
    "one-scale-150": ["-n", "150"],
    "c2f-50+120": ["--scales", "2", "--scale-iterations", "50", "-n", "120"],
    "noise-150": ["--init", "noise", "-n", "150"],
}

PAIRS = ("tubingen:starry_night,fruits:seated-nude,building:shipwreck,butterfly:picasso_selfport1907,"
         "butterfly:deep_field,tubingen:deep_field,building:graphic,fruits:tubingen")


def make_graphic(path, w=640, h=640, seed=3):
    """A high-contrast graphic style: flat black, white and red shapes with
    hard edges, like a poster or a woodcut."""
    rng = np.random.default_rng(seed)
    img = np.ones((h, w, 3), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    palette = [(0.05, 0.05, 0.05), (0.85, 0.1, 0.1), (0.97, 0.97, 0.95), (0.1, 0.1, 0.6)]
    for _ in range(60):
        col = np.array(palette[rng.integers(len(palette))], np.float32)
        if rng.random() < 0.5:  # bars
            t = rng.uniform(0, np.pi)
            c = rng.uniform(-w, w)
            width = rng.uniform(6, 40)
            d = np.abs(xx * np.cos(t) + yy * np.sin(t) - c)
            img[d < width] = col
        else:  # discs
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(15, 90)
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = col
    Image.fromarray((img * 255).astype(np.uint8)).save(path)


def add_study_arguments(ap):
    """The options every study over the pairs shares: pairs, images, binary,
    model, judge and threads."""
    ap.add_argument("--pairs", default=PAIRS)
    ap.add_argument("--images", default=os.path.join(REPO, "..", "shared", "images"))
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "stylize"))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "vgg19-random.pt"))
    ap.add_argument("--judge", default=os.path.join(REPO, "models", "vgg19-random-seed1.pt"))
    ap.add_argument("--threads", type=int, default=2)

def study_judge(path):
    """The judge network (VGG19, random weights, seed 1), exported if missing."""
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "export_vgg19.py"), "--weights", "random",
                        "--seed", "1", "-o", path], check=True)
    return Judge(path)


def find_image(name, kind, images, out):
    """A study image by name: the made ones (deep_field, graphic) are drawn
    into `out` once; the others are looked up in `images`/{kind,content,style}."""
    made = {"deep_field": make_deep_field, "graphic": make_graphic}
    if name in made:
        p = os.path.join(out, name + ".png")
        if not os.path.exists(p):
            made[name](p)
        return p
    for k in (kind, "content", "style"):
        for ext in (".jpg", ".png"):
            p = os.path.join(images, k, name + ext)
            if os.path.exists(p):
                return p
    raise SystemExit(f"no image {name} in {images}")


def luminance(img):
    return 0.299 * img[:, 0:1] + 0.587 * img[:, 1:2] + 0.114 * img[:, 2:3]


def ssim_y(a, b):
    """SSIM of the luminance of two (1,3,H,W) images in [0,1]."""
    x, y = luminance(a).double(), luminance(b).double()
    g = torch.exp(-((torch.arange(11, dtype=torch.float64) - 5) ** 2) / (2 * 1.5 ** 2))
    g = (g / g.sum())
    win = (g[:, None] * g[None, :])[None, None]
    mu_x, mu_y = F.conv2d(x, win), F.conv2d(y, win)
    sxx = F.conv2d(x * x, win) - mu_x ** 2
    syy = F.conv2d(y * y, win) - mu_y ** 2
    sxy = F.conv2d(x * y, win) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2))
    return float(s.mean())


def run_reference(args, content, style, out, seconds):
    """The plain Gatys of the Python tools (tools/reference_gatys.py: Gram,
    style weight 1000, relu4_2, L-BFGS without line search, clamped only
    when written) for `seconds`; returns a sidecar-like record."""
    cmd = [sys.executable, os.path.join(REPO, "tools", "reference_gatys.py"), "--model", args.model,
           "--size", str(args.size), "--threads", str(args.threads), "--content", content, "--style", style,
           "--output", out, "--seconds", str(seconds), "--json"]
    r = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
    return {"evaluations": r["evaluations"], "seconds": seconds, "losses": {"total": r["loss_total"]}}


def run(args, content, style, out, n, opts):
    cmd = [args.exe, content, style, "-o", out, "-s", str(args.size), "-n", str(n), "-m", args.model,
           "--threads", str(args.threads), "--sidecar", "-q"] + opts
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return json.load(open(out + ".json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "defaults"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--budget", type=int, default=150, help="evaluations of the default whose time every config gets")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    add_study_arguments(ap)
    ap.add_argument("--budget-seconds", type=float, default=0,
                    help="seconds per run instead of calibrating --budget evaluations of the first config")
    ap.add_argument("--extra", default="", help="more stylize options for every run (e.g. an old binary's)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    judge = study_judge(args.judge)
    pairs = [(find_image(c, "content", args.images, args.out), find_image(s, "style", args.images, args.out))
             for c, s in (p.split(":") for p in args.pairs.split(","))]
    configs = args.configs.split(",")
    extra = args.extra.split() if args.extra else []
    # Calibration: seconds per evaluation of each configuration at this size.
    cal = {}
    for name in configs:
        if name == "reference-gatys":
            continue  # runs for the budget's seconds, not a number of evaluations
        side = run(args, pairs[0][0], pairs[0][1], os.path.join(args.out, f"cal_{name}.png"), 12, CONFIGS[name] + extra)
        cal[name] = side["seconds"] / side["evaluations"]
    budget_s = args.budget_seconds if args.budget_seconds > 0 else args.budget * cal[configs[0]]
    print("s/eval " + ", ".join(f"{k} {v:.3f}" for k, v in cal.items()) + f"; budget {budget_s:.0f} s per run", flush=True)
    results = open(os.path.join(args.out, "results.jsonl"), "a")
    rows = []
    for content, style in pairs:
        cname = os.path.splitext(os.path.basename(content))[0]
        sname = os.path.splitext(os.path.basename(style))[0]
        cells = [("content", content), ("style", style)]
        for name in configs:
            out = os.path.join(args.out, f"{args.size}_{cname}_{sname}_{name}.png")
            if name == "reference-gatys":
                side = run_reference(args, content, style, out, budget_s)
            else:
                n = max(10, round(budget_s / cal[name]))
                side = run(args, content, style, out, n, CONFIGS[name] + extra)
            j = judge_output(judge, content, style, out)
            o = load(out)
            c = load(content, max(o.shape[2:]))
            c = F.interpolate(c, size=o.shape[2:], mode="bilinear", align_corners=False) if c.shape != o.shape else c
            fams = [k for k in j if k.startswith("style_")]
            rep = side["losses"]["total"]
            rec = {"size": args.size, "config": name, "content_image": cname, "style_image": sname,
                   "evaluations": side["evaluations"], "seconds": round(side["seconds"], 1),
                   "style": sum(j[k] for k in fams) / len(fams), "content": j["content"],
                   "ssim_y": ssim_y(o, c), "mean": float(o.mean()),
                   "reported": rep, "optimizer": side.get("optimizer_loss", rep),
                   "gap": abs(rep - side.get("optimizer_loss", rep)) / max(abs(rep), 1e-12),
                   "rejected": side.get("rejected_evaluations", 0), **j}
            results.write(json.dumps(rec) + "\n")
            results.flush()
            print(json.dumps(rec), flush=True)
            cells.append((name, out))
        rows.append((cname, cells))
    sheet(rows, os.path.join(args.out, f"sheet_{args.size}.jpg"))
    write_table(args.out)


def write_table(out_dir):
    recs = [json.loads(l) for l in open(os.path.join(out_dir, "results.jsonl")) if l.strip()]
    lines = ["| size | config | pair | evals | style | content | SSIM Y | mean | gap |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in recs:
        lines.append(f"| {r['size']} | {r['config']} | {r['content_image']} x {r['style_image']} | {r['evaluations']} | "
                     f"{r['style']:.3f} | {r['content']:.3f} | {r['ssim_y']:.3f} | {r['mean']:.2f} | {r['gap']:.4f} |")
    lines += ["", "| size | config | pairs | worst style | mean style | worst SSIM Y | mean SSIM Y | mean content | "
              "max gap | passes (style <= 0.5 and SSIM >= 0.25 on every pair) |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    groups = {}
    for r in recs:
        groups.setdefault((r["size"], r["config"]), []).append(r)
    for (size, config), rs in sorted(groups.items()):
        ws = max(rs, key=lambda r: r["style"])
        wq = min(rs, key=lambda r: r["ssim_y"])
        ok = all(r["style"] <= 0.5 and r["ssim_y"] >= 0.25 for r in rs)
        lines.append(f"| {size} | {config} | {len(rs)} | {ws['style']:.3f} ({ws['content_image']} x {ws['style_image']}) | "
                     f"{sum(r['style'] for r in rs) / len(rs):.3f} | {wq['ssim_y']:.3f} ({wq['content_image']} x "
                     f"{wq['style_image']}) | {sum(r['ssim_y'] for r in rs) / len(rs):.3f} | "
                     f"{sum(r['content'] for r in rs) / len(rs):.3f} | {max(r['gap'] for r in rs):.4f} | "
                     f"{'yes' if ok else 'no'} |")
    open(os.path.join(out_dir, "table.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
