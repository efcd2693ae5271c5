#!/usr/bin/python3
"""Makes the models the tests use, into a folder given on the command line:
tiny.pt (narrow VGG19, width/8, via scripts/export_vgg19.py), nometa.pt (the
same without metadata), notvgg.pt (a TorchScript module that is not a
conv/relu stack), nan.pt (NaN weights), corrupt.pt (a truncated archive)."""
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

with open(tiny, "rb") as f:
    data = f.read()
with open(os.path.join(out, "corrupt.pt"), "wb") as f:
    f.write(data[: len(data) // 3])
print("fixtures in", out)
