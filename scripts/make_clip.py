#!/usr/bin/python3
"""Makes short test clips as folders of PNG frames (no video files are
committed; stylize reads folders as well as videos).

  make_clip.py synthetic OUTDIR [--frames N] [--size WxH]
      A textured plane that translates and slowly rotates, with a textured
      square moving across it the other way (so that there are occlusions
      and disocclusions): the flow is known and the occlusions are real.
  make_clip.py pan IMAGE OUTDIR [--frames N] [--size WxH] [--step PX]
      A camera panning (and slowly zooming) across a still image: a real
      photograph moving like a real clip.
"""
import argparse
import os

import numpy as np
from PIL import Image


def texture(u, v, seed):
    rng = np.random.default_rng(seed)
    out = np.zeros(u.shape + (3,), np.float32)
    for c in range(3):
        acc = np.zeros(u.shape, np.float32)
        for _ in range(6):
            fu, fv = rng.uniform(-0.35, 0.35, 2)
            ph = rng.uniform(0, 2 * np.pi)
            acc += np.sin(u * fu + v * fv + ph).astype(np.float32)
        out[..., c] = 0.5 + 0.5 * acc / 6 * 1.6
    return np.clip(out, 0, 1)


def synthetic(outdir, frames, w, h):
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w / 2, h / 2
    side = max(8, min(w, h) // 4)
    for t in range(frames):
        a = 0.01 * t  # radians per frame
        tx, ty = 1.5 * t, 0.5 * t
        u = np.cos(a) * (xs - cx) - np.sin(a) * (ys - cy) + cx - tx
        v = np.sin(a) * (xs - cx) + np.cos(a) * (ys - cy) + cy - ty
        img = texture(u, v, 1)
        ox = w - side - 2 - 3.0 * t  # the square moves left
        oy = cy - side / 2
        inside = (xs >= ox) & (xs < ox + side) & (ys >= oy) & (ys < oy + side)
        obj = texture((xs - ox) * 2.0, (ys - oy) * 2.0, 7) * np.array([1.0, 0.6, 0.3], np.float32)
        img[inside] = obj[inside]
        Image.fromarray((img * 255 + 0.5).astype(np.uint8)).save(os.path.join(outdir, f"{t:04d}.png"))


def pan(image, outdir, frames, w, h, step):
    src = Image.open(image).convert("RGB")
    sw, sh = src.size
    # The crop is 1.25x the frame, moves right by `step` frame pixels and zooms in by 0.3% a frame.
    for t in range(frames):
        zoom = 1.25 * (1 - 0.003 * t)
        cw, ch = w * zoom * sw / (1.6 * w), h * zoom * sw / (1.6 * w)
        ch = min(ch, sh)
        cw = min(cw, sw)
        x0 = min(sw - cw, t * step * cw / w)
        y0 = (sh - ch) / 2
        crop = src.resize((w, h), Image.BICUBIC, box=(x0, y0, x0 + cw, y0 + ch))
        crop.save(os.path.join(outdir, f"{t:04d}.png"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["synthetic", "pan"])
    p.add_argument("args", nargs="+")
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--size", default="256x192")
    p.add_argument("--step", type=float, default=3.0)
    a = p.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    outdir = a.args[-1]
    os.makedirs(outdir, exist_ok=True)
    if a.kind == "synthetic":
        synthetic(outdir, a.frames, w, h)
    else:
        pan(a.args[0], outdir, a.frames, w, h, a.step)
    print(f"{a.frames} frames of {w}x{h} in {outdir}")


if __name__ == "__main__":
    main()
