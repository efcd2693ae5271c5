#!/usr/bin/python3
"""Fast mode against the optimisation on held-out images (docs/BENCHMARKS.md
"Fast mode"; issue 16's quality target).

For each held-out content image, at --size px:
  fast:      `stylize apply NET` (one forward pass);
  optimised: `stylize CONTENT STYLE -n ITERATIONS` (the still-image default, 300 evaluations).
Both are scored from the written PNGs by a *judge*, the same architecture
with another seed, which neither the training nor the optimisation saw, with
the metrics of tools/defaults_study.py: content = the judge's relu4_2
distance to the photo (relative), style = the judge's style distance
relative to the photo's own (mean of four families; 1 = no more like the
style than the photo), ssim_y = SSIM of the luminance to the photo. The bar
(per image): content <= 1.5x the optimisation's, ssim_y >= 0.25, style <=
0.6. Prints a markdown table and writes a picture sheet (content | fast |
optimised per row).

  tools/fast_quality.py NET STYLE HELDOUT... -o docs/images/fast_vs_optimised.jpg [--size 512 -n 300]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from defaults_study import ssim_y  # noqa: E402
from style_loss_study import LOSSES, Judge, judge_output, load  # noqa: E402

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def passes(r):
    """The bar: content within 1.5x the optimisation's, luminance SSIM >= 0.25, style <= 0.6 of the photo's."""
    return r["fast_content"] <= 1.5 * r["opt_content"] and r["fast_ssim_y"] >= 0.25 and r["fast_style"] <= 0.6


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("net")
    p.add_argument("style")
    p.add_argument("heldout", nargs="+")
    p.add_argument("-o", "--output", required=True, help="the picture sheet (.jpg or .png)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("-n", "--iterations", type=int, default=300)
    p.add_argument("--model", default=os.path.join(repo, "models", "vgg19-random.pt"))
    p.add_argument("--judge", default=os.path.join(repo, "models", "vgg19-random-seed1.pt"))
    p.add_argument("--keep", help="folder for the outputs (default: a temporary one)")
    p.add_argument("--build", default=os.path.join(repo, "build"))
    a = p.parse_args()
    exe = os.path.join(a.build, "stylize")
    if not os.path.exists(a.judge):
        subprocess.run([sys.executable, os.path.join(repo, "scripts", "export_vgg19.py"), "--weights", "random",
                        "--seed", "1", "-o", a.judge], check=True)
    out = a.keep or tempfile.mkdtemp(prefix="stylize-fast-")
    os.makedirs(out, exist_ok=True)
    subprocess.run([exe, "apply", a.net] + a.heldout + ["-O", os.path.join(out, "fast"), "--size", str(a.size),
                    "--name", "{content}.png", "-q"], check=True)
    judge = Judge(a.judge)
    rows, sheet_rows = [], []
    for c in a.heldout:
        stem = os.path.splitext(os.path.basename(c))[0]
        fast = os.path.join(out, "fast", stem + ".png")
        opt = os.path.join(out, "optimised", stem + ".png")
        if not os.path.exists(opt):
            os.makedirs(os.path.dirname(opt), exist_ok=True)
            subprocess.run([exe, c, a.style, "-o", opt, "--model", a.model, "-s", str(a.size), "-n",
                            str(a.iterations), "--progress", "none", "-q"], check=True)
        r = {"image": stem}
        for kind, img in (("fast", fast), ("opt", opt)):
            j = judge_output(judge, c, a.style, img)
            o = load(img)
            r[f"{kind}_content"] = j["content"]
            r[f"{kind}_style"] = sum(j["style_" + k] for k in LOSSES) / len(LOSSES)
            r[f"{kind}_ssim_y"] = ssim_y(o, load(c, max(o.shape[2:])))
        r["pass"] = passes(r)
        rows.append(r)
        sheet_rows.append((c, fast, opt))
    print("| image | content fast / optimised | ratio (<= 1.5) | ssim_y fast (>= 0.25) / optimised | "
          "style fast (<= 0.6) / optimised | bar |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(f"| {r['image']} | {r['fast_content']:.3f} / {r['opt_content']:.3f} | "
              f"{r['fast_content'] / r['opt_content']:.2f} | {r['fast_ssim_y']:.3f} / {r['opt_ssim_y']:.3f} | "
              f"{r['fast_style']:.3f} / {r['opt_style']:.3f} | {'pass' if r['pass'] else 'FAIL'} |")
    print(f"all pass: {all(r['pass'] for r in rows)}")
    with open(os.path.join(out, "quality.json"), "w") as f:
        json.dump(rows, f, indent=1)
    # Sheet: one row per image, content | fast | optimised, each 360 px high.
    h = 360
    tiles = []
    for c, fast, opt in sheet_rows:
        ims = [Image.open(x).convert("RGB") for x in (fast, opt)]
        w = round(ims[0].width * h / ims[0].height)
        tiles.append([Image.open(c).convert("RGB").resize((w, h), Image.LANCZOS)] + [i.resize((w, h), Image.LANCZOS) for i in ims])
    width = max(sum(t.width for t in row) + 10 * 4 for row in tiles)
    sheet = Image.new("RGB", (width, (h + 30) * len(tiles) + 10), "white")
    d = ImageDraw.Draw(sheet)
    y = 10
    for row, name in zip(tiles, [r["image"] for r in rows]):
        x = 10
        for t, label in zip(row, (name, "fast (one pass)", f"optimised ({a.iterations} evaluations)")):
            sheet.paste(t, (x, y + 20))
            d.text((x, y + 4), label, fill="black")
            x += t.width + 10
        y += h + 30
    sheet.save(a.output, quality=88)
    print(f"sheet: {a.output}; outputs in {out}")


if __name__ == "__main__":
    main()
