#!/usr/bin/python3
"""Makes the models the tests use, into a folder given on the command line:
tiny.pt (narrow VGG19, width/8, via scripts/export_vgg19.py), vgg19.pt (full
width, random weights, seed 1), nometa.pt (the
same without metadata), notvgg.pt (a TorchScript module that is not a
conv/relu stack), nan.pt (NaN weights), corrupt.pt (a truncated archive),
badhash.pt and edited.pt (recorded parameter SHA-256 does not match)."""
import json
import os
import subprocess
import sys

import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
export = os.path.join(here, "..", "scripts", "export_vgg19.py")
tiny = os.path.join(out, "tiny.pt")
subprocess.check_call([sys.executable, export, "--weights", "random", "--seed", "1",
                       "--width-divisor", "8", "-o", tiny], stderr=subprocess.DEVNULL)

# Full width (80 MB, a few seconds): for the checks that need VGG19's real
# layer shapes, such as oneDNN's Winograd work schedules.
subprocess.check_call([sys.executable, export, "--weights", "random", "--seed", "1",
                       "-o", os.path.join(out, "vgg19.pt")], stderr=subprocess.DEVNULL)

m = torch.jit.load(tiny)
torch.jit.save(m, os.path.join(out, "nometa.pt"))

nan = torch.jit.load(tiny)
with torch.no_grad():
    for name, p in nan.named_parameters():
        if name.endswith("weight"):
            p.fill_(float("nan"))
            break
torch.jit.save(nan, os.path.join(out, "nan.pt"))

torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.ReLU())), os.path.join(out, "notvgg.pt"))

# Models whose recorded parameter SHA-256 no longer matches: badhash.pt has its
# metadata's sha256 altered, edited.pt a weight changed under intact metadata.
extra = {"stylize.json": ""}
m = torch.jit.load(tiny, _extra_files=extra)
meta = json.loads(extra["stylize.json"])
good = meta["sha256"]
meta["sha256"] = ("0" if good[0] != "0" else "1") + good[1:]
torch.jit.save(m, os.path.join(out, "badhash.pt"), _extra_files={"stylize.json": json.dumps(meta, indent=1)})
with torch.no_grad():
    next(iter(m.parameters())).view(-1)[0] += 1e-3
torch.jit.save(m, os.path.join(out, "edited.pt"), _extra_files={"stylize.json": extra["stylize.json"]})

with open(tiny, "rb") as f:
    data = f.read()
with open(os.path.join(out, "corrupt.pt"), "wb") as f:
    f.write(data[: len(data) // 3])
print("fixtures in", out)

# Odd images, made with PIL (a dependency of python3-torchvision).
from PIL import Image  # noqa: E402

img_dir = os.path.join(out, "images")
os.makedirs(img_dir, exist_ok=True)
w, h = 40, 24
rgb = Image.new("RGB", (w, h))
for y in range(h):
    for x in range(w):
        rgb.putpixel((x, y), (x * 6, y * 10, 128 if x < w // 2 else 30))
rgb.convert("CMYK").save(os.path.join(img_dir, "cmyk.jpg"), quality=95)
# EXIF orientation 6: stored 40x24, to be shown rotated 90 degrees clockwise (24x40).
exif = Image.Exif()
exif[0x0112] = 6
rgb.save(os.path.join(img_dir, "exif_rot90.jpg"), quality=95, exif=exif.tobytes())
rgb.save(os.path.join(img_dir, "plain.jpg"), quality=95)
g16 = Image.new("I;16", (w, h))
for y in range(h):
    for x in range(w):
        g16.putpixel((x, y), x * 1500 + y)
g16.save(os.path.join(img_dir, "grey16.png"))
rgb.save(os.path.join(img_dir, "anim.gif"))
Image.new("RGB", (1, 1), (200, 30, 30)).save(os.path.join(img_dir, "one.png"))
Image.new("RGB", (600, 2), (20, 30, 200)).save(os.path.join(img_dir, "wide.png"))
with open(os.path.join(img_dir, "plain.jpg"), "rb") as f:
    jpg = f.read()
with open(os.path.join(img_dir, "truncated.jpg"), "wb") as f:
    f.write(jpg[: len(jpg) * 2 // 3])
# A JPEG whose frame header claims 60000 x 60000 pixels.
sof = jpg.find(b"\xff\xc0")
big = bytearray(jpg)
big[sof + 5:sof + 9] = (60000).to_bytes(2, "big") * 2
with open(os.path.join(img_dir, "huge_header.jpg"), "wb") as f:
    f.write(bytes(big))

# A short synthetic clip (textured plane translating and rotating, a square
# moving across it: occlusions), as numbered PNG frames, and a folder whose
# third frame has another size.
clip_dir = os.path.join(out, "clip")
subprocess.check_call([sys.executable, os.path.join(here, "..", "scripts", "make_clip.py"), "synthetic", clip_dir,
                       "--frames", "8", "--size", "64x48"], stdout=subprocess.DEVNULL)
mixed = os.path.join(out, "clip_mixed")
os.makedirs(mixed, exist_ok=True)
for i, name in enumerate(sorted(os.listdir(clip_dir))[:4]):
    im = Image.open(os.path.join(clip_dir, name))
    (im.resize((60, 48)) if i == 2 else im).save(os.path.join(mixed, name))
