#!/usr/bin/python3
"""Exact tiles against naive independent tiles (docs/BENCHMARKS.md "Tiles").

Stylizes CONTENT with STYLE at --size px twice with the same settings:
  exact: one run with --tile TILE (the whole image's loss, computed by tiles);
  naive: the content cut into TILE x TILE pieces, each stylized on its own
         (the style at the same scale), and the pieces put back together.
Writes both and a side-by-side sheet (downscaled to --sheet px wide).

  tools/tile_picture.py CONTENT STYLE -o docs/images/tiles.jpg [--size 1024 --tile 256 -n 60]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(exe, args):
    subprocess.run([exe] + args + ["--progress", "none", "-q"], check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("-o", "--output", required=True, help="the sheet (.jpg or .png)")
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("-n", "--iterations", type=int, default=60)
    p.add_argument("--sheet", type=int, default=1400, help="width of the sheet")
    p.add_argument("--exe", default=os.path.join(repo, "build", "stylize"))
    p.add_argument("--keep", help="folder to keep the full-size outputs in")
    a = p.parse_args()

    work = a.keep or tempfile.mkdtemp(prefix="tiles-")
    os.makedirs(work, exist_ok=True)
    common = ["-n", str(a.iterations), "--seed", "0"]
    content = Image.open(a.content).convert("RGB")
    scale = a.size / max(content.size)
    w, h = round(content.width * scale), round(content.height * scale)
    content = content.resize((w, h), Image.BICUBIC)
    whole = os.path.join(work, "content.png")
    content.save(whole)

    exact = os.path.join(work, "exact.png")
    run(a.exe, [whole, a.style, "-s", "0", "--tile", str(a.tile), "-o", exact] + common)

    naive = Image.new("RGB", (w, h))
    for y in range(0, h, a.tile):
        for x in range(0, w, a.tile):
            box = (x, y, min(w, x + a.tile), min(h, y + a.tile))
            piece = os.path.join(work, f"piece_{y}_{x}.png")
            out = os.path.join(work, f"piece_{y}_{x}.out.png")
            content.crop(box).save(piece)
            # The style at the whole output's scale: --style-scale is
            # relative to this piece's long side.
            long_side = max(box[2] - box[0], box[3] - box[1])
            run(a.exe, [piece, a.style, "-s", "0", "--style-scale", f"{a.size / long_side:.6f}", "--tile", "off",
                        "-o", out] + common)
            naive.paste(Image.open(out).convert("RGB"), box[:2])
    naive.save(os.path.join(work, "naive.png"))

    half = a.sheet // 2
    th = round(h * half / w)
    sheet = Image.new("RGB", (a.sheet, th + 28), "white")
    sheet.paste(Image.open(exact).convert("RGB").resize((half, th), Image.LANCZOS), (0, 28))
    sheet.paste(naive.resize((half, th), Image.LANCZOS), (half, 28))
    d = ImageDraw.Draw(sheet)
    d.text((8, 8), f"exact tiles (--tile {a.tile}), {w}x{h}, {a.iterations} evaluations", fill="black")
    d.text((half + 8, 8), f"naive: {a.tile} px pieces stylized independently", fill="black")
    sheet.save(a.output, quality=80)
    print(f"wrote {a.output} (full-size outputs in {work})")


if __name__ == "__main__":
    sys.exit(main())
