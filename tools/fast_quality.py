#!/usr/bin/python3
"""Fast mode against the optimisation on held-out images (docs/BENCHMARKS.md
"Fast mode"; issue 16's quality target).

For each held-out content image, at --size px:
  fast:      `stylize apply NET` (one forward pass);
  optimised: `stylize CONTENT STYLE -n ITERATIONS` (the still-image default, 300 evaluations).
Both are scored by the same code (`stylize_bench --measure`: the default
layers, weights and style loss), with the network the optimisation used and
with a *judge*, the same architecture with another seed, which the
optimisation did not see. Prints a markdown table of the ratios fast /
optimised and writes a picture sheet (content | fast | optimised per row).

  tools/fast_quality.py NET STYLE HELDOUT... -o docs/images/fast_vs_optimised.jpg [--size 512 -n 300]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(bench, model, content, style, image):
    out = subprocess.run([bench, "--model", model, "--measure", image, "--content", content, "--style", style],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


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
    exe, bench = os.path.join(a.build, "stylize"), os.path.join(a.build, "stylize_bench")
    if not os.path.exists(a.judge):
        subprocess.run([sys.executable, os.path.join(repo, "scripts", "export_vgg19.py"), "--weights", "random",
                        "--seed", "1", "-o", a.judge], check=True)
    out = a.keep or tempfile.mkdtemp(prefix="stylize-fast-")
    os.makedirs(out, exist_ok=True)
    subprocess.run([exe, "apply", a.net] + a.heldout + ["-O", os.path.join(out, "fast"), "--size", str(a.size),
                    "--name", "{content}.png", "-q"], check=True)
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
        for who, model in (("own", a.model), ("judge", a.judge)):
            for kind, img in (("fast", fast), ("opt", opt)):
                m = measure(bench, model, c, a.style, img)
                r[f"{who}_{kind}_content"], r[f"{who}_{kind}_style"] = m["content"], m["style"]
        rows.append(r)
        sheet_rows.append((c, fast, opt))
    print("| image | net | content fast | content optimised | ratio | style fast | style optimised | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        for who in ("own", "judge"):
            cf, co = r[f"{who}_fast_content"], r[f"{who}_opt_content"]
            sf, so = r[f"{who}_fast_style"], r[f"{who}_opt_style"]
            print(f"| {r['image']} | {who} | {cf:.4g} | {co:.4g} | {cf / co:.2f}x | {sf:.4g} | {so:.4g} | {sf / so:.2f}x |")
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
