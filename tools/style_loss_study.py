#!/usr/bin/python3
"""Issue 17's study: each style loss on several content/style pairs at an
equal time budget, judged by a network other than the one optimised.

For every size, pair, loss and variant it runs `stylize` (the optimised
network: models/vgg19-random.pt, seed 0) with as many evaluations as the
loss can do in the time Gram needs for --budget evaluations (measured by a
short calibration run of each loss), then measures the written image with a
*judge*: VGG19 of the same architecture with another seed
(models/vgg19-random-seed1.pt, made with scripts/export_vgg19.py if absent).

Judged numbers, each relative to the content image's own (so 1.0 = no more
like the style than the photo was, 0 = matched):
  style_<family>  distance of the output's statistic from the style's, for
                  every family (gram, mean-cov, sliced-wasserstein with 256
                  fixed directions, histogram), averaged over relu1_1..relu5_1;
  content         ||F - F_c||^2 / ||F_c||^2 at relu4_2 (absolute).
A loss cannot win by overfitting the statistic it optimises: the judge's
features differ, and every loss is scored by every family.

  tools/style_loss_study.py --out out/study --sizes 256 --budget 200
Writes OUT/results.jsonl, OUT/table.md and OUT/sheet_<size>_<variant>.jpg.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOSSES = ["gram", "mean-cov", "sliced-wasserstein", "histogram"]
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def make_deep_field(path, w=768, h=576, seed=7):
    """A dark, sparse 'deep field' photograph stand-in: stars and small
    galaxies on black. The kind of style the Gram loss from content init
    leaves nearly inert (issue 17)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(400):  # stars
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.6, 1.8)
        b = rng.uniform(0.2, 1.0) ** 2
        col = np.array([1.0, 0.9 + 0.1 * rng.random(), 0.8 + 0.2 * rng.random()])
        x0, x1, y0, y1 = int(max(0, x - 6)), int(min(w, x + 7)), int(max(0, y - 6)), int(min(h, y + 7))
        d = ((xx[y0:y1, x0:x1] - x) ** 2 + (yy[y0:y1, x0:x1] - y) ** 2) / (2 * r * r)
        img[y0:y1, x0:x1] += b * np.exp(-d)[..., None] * col
    for _ in range(40):  # galaxies: elongated, coloured blobs
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a, e, t = rng.uniform(3, 12), rng.uniform(0.3, 1.0), rng.uniform(0, np.pi)
        col = rng.choice([[1.0, 0.7, 0.4], [0.6, 0.7, 1.0], [1.0, 0.5, 0.6]])
        x0, x1, y0, y1 = int(max(0, x - 4 * a)), int(min(w, x + 4 * a)), int(max(0, y - 4 * a)), int(min(h, y + 4 * a))
        dx, dy = xx[y0:y1, x0:x1] - x, yy[y0:y1, x0:x1] - y
        u, v = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
        img[y0:y1, x0:x1] += 0.5 * np.exp(-(u * u / (a * a) + v * v / (a * a * e * e)))[..., None] * np.array(col)
    img += rng.normal(0, 0.01, img.shape).astype(np.float32)
    Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(path)


class Judge:
    def __init__(self, path):
        extra = {"stylize.json": ""}
        self.net = torch.jit.load(path, _extra_files=extra).eval()
        meta = json.loads(extra["stylize.json"])
        self.names = meta["layers"]
        self.mean = torch.tensor(meta["mean"]).view(1, 3, 1, 1)
        self.std = torch.tensor(meta["std"]).view(1, 3, 1, 1)
        self.layers = [getattr(self.net, str(i)) for i in range(len(self.names))]
        gen = torch.Generator().manual_seed(123)
        self.dirs = {}
        self.gen = gen

    @torch.no_grad()
    def features(self, img, wanted):
        x = (img - self.mean) / self.std
        out = {}
        for name, layer in zip(self.names, self.layers):
            x = layer(x)
            if name in wanted:
                out[name] = x[0].reshape(x.shape[1], -1)
            if len(out) == len(wanted):
                break
        return out

    def directions(self, c):
        if c not in self.dirs:
            v = torch.randn(256, c, generator=self.gen)
            self.dirs[c] = v / v.norm(dim=1, keepdim=True)
        return self.dirs[c]


def resample(sorted_rows, n):
    m = sorted_rows.shape[1]
    pos = ((torch.arange(n, dtype=torch.float64) + 0.5) * m / n - 0.5).clamp(0, m - 1)
    i0 = pos.floor().long()
    i1 = (i0 + 1).clamp(max=m - 1)
    f = (pos - i0).float()
    return sorted_rows[:, i0] * (1 - f) + sorted_rows[:, i1] * f


def distances(judge, a, b):
    """Per family: distance of a's statistic from b's, relative to b's size."""
    out = {k: 0.0 for k in LOSSES}
    for name in STYLE_LAYERS:
        fa, fb = a[name].double(), b[name].double()
        ga, gb = fa @ fa.T / fa.shape[1], fb @ fb.T / fb.shape[1]
        out["gram"] += float(((ga - gb) ** 2).sum() / (gb ** 2).sum())
        ma, mb = fa.mean(1, keepdim=True), fb.mean(1, keepdim=True)
        sa, sb = torch.cat([ma.T, ga - ma @ ma.T]), torch.cat([mb.T, gb - mb @ mb.T])
        out["mean-cov"] += float(((sa - sb) ** 2).sum() / (sb ** 2).sum())
        v = judge.directions(fa.shape[0]).double()
        pa, pb = (v @ fa).sort(1).values, (v @ fb).sort(1).values
        out["sliced-wasserstein"] += float(((pa - resample(pb, pa.shape[1])) ** 2).mean() / (pb ** 2).mean())
        ha, hb = fa.sort(1).values, fb.sort(1).values
        out["histogram"] += float(((ha - resample(hb, ha.shape[1])) ** 2).mean() / (hb ** 2).mean())
    return {k: v / len(STYLE_LAYERS) for k, v in out.items()}


def load(path, size=None):
    im = Image.open(path).convert("RGB")
    if size:
        s = size / max(im.size)
        im = im.resize((max(1, round(im.size[0] * s)), max(1, round(im.size[1] * s))), Image.BICUBIC)
    return torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None]


def judge_output(judge, content, style, output):
    o = load(output)
    size = max(o.shape[2:])
    c, s = load(content, size), load(style, size)
    wanted = set(STYLE_LAYERS) | {"relu4_2"}
    fo, fc, fs = judge.features(o, wanted), judge.features(c, wanted), judge.features(s, wanted)
    d_out, d_content = distances(judge, fo, fs), distances(judge, fc, fs)
    res = {"style_" + k: d_out[k] / d_content[k] for k in LOSSES}
    res["content"] = float(((fo["relu4_2"] - fc["relu4_2"]) ** 2).sum() / (fc["relu4_2"] ** 2).sum())
    return res


def run_stylize(args, content, style, out, size, loss, n, extra):
    cmd = [args.exe, content, style, "-o", out, "-s", str(size), "-n", str(n), "--style-loss", loss,
           "-m", args.model, "--threads", str(args.threads), "--sidecar", "-q"] + extra
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    side = json.load(open(out + ".json"))
    return side["seconds"], side["evaluations"]


def sheet(rows, path, cell=192):
    cols = max(len(r) for _, r in rows)
    im = Image.new("RGB", (cols * cell, len(rows) * (cell + 14)), "white")
    d = ImageDraw.Draw(im)
    for ri, (_, cells) in enumerate(rows):
        for ci, (label, p) in enumerate(cells):
            t = Image.open(p).convert("RGB")
            t.thumbnail((cell, cell))
            im.paste(t, (ci * cell, ri * (cell + 14) + 14))
            d.text((ci * cell + 2, ri * (cell + 14)), label, fill="black")
    im.save(path, quality=88)


def write_table(out_dir):
    """OUT/table.md from OUT/results.jsonl: one row per run, and per
    (size, scales, loss) the worst pair and the mean."""
    recs = [json.loads(l) for l in open(os.path.join(out_dir, "results.jsonl")) if l.strip()]
    fams = ["style_" + k for k in LOSSES]
    lines = ["| size | scales | pair | loss | evals | s | content | " + " | ".join(
        f.replace("style_", "style: ") for f in fams) + " | style: mean |",
             "|---|---|---|---|---:|---:|---:|" + "---:|" * (len(fams) + 1)]
    for r in recs:
        mean = sum(r[f] for f in fams) / len(fams)
        lines.append(f"| {r['size']} | {r['scales']}{r.get('variant', '')} | {r['content_image']} x {r['style_image']} | {r['loss']} | "
                     f"{r['evaluations']} | {r['seconds']:.0f} | {r['content']:.3f} | " +
                     " | ".join(f"{r[f]:.3f}" for f in fams) + f" | **{mean:.3f}** |")
    lines += ["", "| size | scales | loss | pairs | worst pair's style (mean of families) | mean style | mean content |",
              "|---|---|---|---:|---:|---:|---:|"]
    groups = {}
    for r in recs:
        groups.setdefault((r["size"], r["scales"], r.get("variant", ""), r["loss"]), []).append(r)
    for (size, scales, variant, loss), rs in sorted(groups.items()):
        means = [sum(r[f] for f in fams) / len(fams) for r in rs]
        worst = max(range(len(rs)), key=lambda i: means[i])
        lines.append(f"| {size} | {scales}{variant} | {loss} | {len(rs)} | {means[worst]:.3f} "
                     f"({rs[worst]['content_image']} x {rs[worst]['style_image']}) | "
                     f"{sum(means) / len(means):.3f} | {sum(r['content'] for r in rs) / len(rs):.3f} |")
    open(os.path.join(out_dir, "table.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "study"))
    ap.add_argument("--sizes", default="256")
    ap.add_argument("--budget", type=int, default=200, help="Gram evaluations whose time every run gets")
    ap.add_argument("--losses", default=",".join(LOSSES))
    ap.add_argument("--pairs", default="tubingen:starry_night,fruits:seated-nude,building:shipwreck,"
                                       "butterfly:deep_field")
    ap.add_argument("--variants", default="1",
                    help="comma-separated number of scales; scales > 1 spend the same time coarse-to-fine")
    ap.add_argument("--images", default=os.path.join(REPO, "..", "shared", "images"))
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "stylize"))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "vgg19-random.pt"))
    ap.add_argument("--judge", default=os.path.join(REPO, "models", "vgg19-random-seed1.pt"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra", default="", help="more stylize options for every run")
    ap.add_argument("--tag", default="", help="a name for --extra's runs in the results and file names")
    ap.add_argument("--table-only", action="store_true", help="only rewrite OUT/table.md from OUT/results.jsonl")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.table_only:
        write_table(args.out)
        return
    if not os.path.exists(args.judge):
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "export_vgg19.py"), "--weights", "random",
                        "--seed", "1", "-o", args.judge], check=True)
    judge = Judge(args.judge)
    deep = os.path.join(args.out, "deep_field.png")
    if not os.path.exists(deep):
        make_deep_field(deep)

    def find(name, kind):
        if name == "deep_field":
            return deep
        for ext in (".jpg", ".png"):
            p = os.path.join(args.images, kind, name + ext)
            if os.path.exists(p):
                return p
        raise SystemExit(f"no image {name} in {args.images}/{kind}")

    pairs = [(find(c, "content"), find(s, "style")) for c, s in (p.split(":") for p in args.pairs.split(","))]
    losses = args.losses.split(",")
    extra = args.extra.split() if args.extra else []
    results = open(os.path.join(args.out, "results.jsonl"), "a")
    for size in (int(s) for s in args.sizes.split(",")):
        # Calibration: seconds per evaluation of each loss at this size.
        cal = {}
        for loss in losses:
            p = os.path.join(args.out, f"cal_{size}_{loss}.png")
            sec, n = run_stylize(args, pairs[0][0], pairs[0][1], p, size, loss, 12, extra)
            cal[loss] = sec / n
        budget_s = args.budget * cal["gram"] if "gram" in cal else args.budget * min(cal.values())
        print(f"size {size}: s/eval " + ", ".join(f"{k} {v:.3f}" for k, v in cal.items()) +
              f"; budget {budget_s:.0f} s", flush=True)
        for scales in (int(v) for v in args.variants.split(",")):
            rows = []
            for content, style in pairs:
                cname = os.path.splitext(os.path.basename(content))[0]
                sname = os.path.splitext(os.path.basename(style))[0]
                cells = [("content", content), ("style", style)]
                for loss in losses:
                    n_equiv = max(10, round(budget_s / cal[loss]))
                    if scales > 1:
                        # Coarse scales at 1/sqrt2 and 1/2 of the side cost about 1/2 and 1/4.
                        coarse = max(5, n_equiv // 4)
                        cost = sum(0.5 ** k for k in range(1, scales)) * coarse
                        final = max(10, round(n_equiv - cost))
                        opts = ["--scales", str(scales), "--scale-iterations", str(coarse)]
                    else:
                        final, opts = n_equiv, []
                    out = os.path.join(args.out, f"{size}_s{scales}{args.tag}_{cname}_{sname}_{loss}.png")
                    t0 = time.time()
                    sec, n = run_stylize(args, content, style, out, size, loss, final, opts + extra)
                    j = judge_output(judge, content, style, out)
                    rec = {"size": size, "scales": scales, "variant": args.tag, "content_image": cname,
                           "style_image": sname, "loss": loss, "evaluations": n, "seconds": round(sec, 1), **j}
                    results.write(json.dumps(rec) + "\n")
                    results.flush()
                    print(json.dumps(rec), flush=True)
                    cells.append((f"{loss} s{scales}", out))
                rows.append((cname, cells))
            sheet(rows, os.path.join(args.out, f"sheet_{size}_s{scales}{args.tag}.jpg"))
    write_table(args.out)


if __name__ == "__main__":
    main()
