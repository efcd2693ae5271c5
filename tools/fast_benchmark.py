#!/usr/bin/python3
"""Fast mode's speed (docs/BENCHMARKS.md "Fast mode"): seconds per image of
`stylize apply` at 512x512 and 1024x1024 (the median of the images after the
first, which warms TorchScript's executor up), and the training throughput
(images per second at 256 px crops, after a warm-up step), with user and
system CPU time. Same seed, same generated images.

  tools/fast_benchmark.py [--net NET.pt] [--repeats 5] [--train-steps 12 (0: apply only)] [--width 16] [--precision auto]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    """Runs cmd under /usr/bin/time: (result, wall, user, sys seconds, peak RSS in MB)."""
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    wall, user, sys_t, rss = r.stderr.strip().splitlines()[-1].split()[1:]
    return r, float(wall), float(user), float(sys_t), int(rss) // 1024


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", help="a trained network (default: one made by a short training run here)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--train-steps", type=int, default=12)
    p.add_argument("--build", default=os.path.join(repo, "build"))
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--width", type=int, default=16, help="the trained network's --width")
    p.add_argument("--precision", default="auto", help="stylize apply --precision: auto, fp32 or bf16")
    a = p.parse_args()
    exe = os.path.join(a.build, "stylize")
    tmp = tempfile.mkdtemp(prefix="stylize-fastbench-")
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(tmp, "train"))
    for i in range(8):
        Image.fromarray((rng.random((300, 400, 3)) * 255).astype("uint8")).save(os.path.join(tmp, "train", f"{i}.png"))
    style = os.path.join(tmp, "style.png")
    Image.fromarray((rng.random((256, 256, 3)) * 255).astype("uint8")).save(style)
    result = {}
    if a.train_steps > 0:
        result = train_speed(a, exe, tmp, style)
    net = a.net or os.path.join(tmp, "bench.pt")
    for size in (512, 1024):
        files = []
        img = (rng.random((size, size, 3)) * 255).astype("uint8")
        for k in range(a.repeats):
            f = os.path.join(tmp, f"sq{size}_{k}.png")
            Image.fromarray(img).save(f)
            files.append(f)
        report = os.path.join(tmp, f"report{size}.jsonl")
        r, wall, user, sys_t, rss = timed([exe, "apply", net] + files + ["-O", os.path.join(tmp, f"out{size}"), "-s", "0",
                                           "--report", report, "--threads", str(a.threads),
                                           "--precision", a.precision])
        lines = [json.loads(l) for l in open(report)]
        secs = [l["seconds"] for l in lines]
        result["apply_precision"] = lines[0]["precision"]
        result[f"apply_{size}_first_s"] = round(secs[0], 3)
        result[f"apply_{size}_median_s"] = round(statistics.median(secs[1:]), 3)
        result[f"apply_{size}_user_s"] = round(user, 2)
        result[f"apply_{size}_sys_s"] = round(sys_t, 2)
        result[f"apply_{size}_wall_s"] = round(wall, 2)
        result[f"apply_{size}_peak_rss_mb"] = rss
    print(json.dumps(result))


def train_speed(a, exe, tmp, style):
    """Images per second of a short training run (which also makes the network to apply)."""
    r, wall, user, sys_t, rss = timed([exe, "train", style, "--content-dir", os.path.join(tmp, "train"), "-o",
                                       os.path.join(tmp, "bench.pt"), "--steps", str(a.train_steps), "--log-every", "1", "--width", str(a.width),
                                       "--threads", str(a.threads)])
    found = re.findall(r"step (\d+)/\d+ .*? ([0-9.]+) img/s", r.stderr)
    steps, rates = [int(m[0]) for m in found], [float(m[1]) for m in found]
    # The log's rate is cumulative since the start: the rate after the first
    # step, from the last two cumulative figures' elapsed times.
    per_step = []
    for k in range(1, len(rates)):
        t_k, t_prev = steps[k] * 4 / rates[k], steps[k - 1] * 4 / rates[k - 1]
        per_step.append(t_k - t_prev)
    steady = 4 / statistics.median(per_step[1:]) if len(per_step) > 2 else rates[-1]
    return {"train_images_per_second": round(steady, 3), "train_wall_s": round(wall, 1),
            "train_user_s": round(user, 1), "train_sys_s": round(sys_t, 1), "train_peak_rss_mb": rss}


if __name__ == "__main__":
    main()
