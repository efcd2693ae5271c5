#!/usr/bin/python3
"""Chooses `stylize video`'s default losses and temporal weight by the frames
as written, judged by a network other than the one optimised.

For each style, cuts a panning clip from a content photograph
(scripts/make_clip.py pan), stylizes it with each configuration into a frame
folder, and records per configuration, over the frames after the first:
  style     the judge's style distance relative to each content frame's own
            (mean of the gram, mean-cov, sliced-Wasserstein and histogram
            families; tools/style_loss_study.py), 0 = matched, 1 = unstylized;
  ssim_y    luminance SSIM of each frame to its content frame;
  flicker   the mean warping error from the report (mean absolute difference
            between a frame and the previous output warped by the content
            flow, over reliable pixels, [0,1] units);
  seconds   per later frame.
The still-image bar applies to every frame: style <= 0.5 and ssim_y >= 0.25.

  tools/video_defaults_study.py --out out/video-defaults [--size 256] [--frames 6]
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from defaults_study import luminance, ssim_y  # noqa: E402,F401
from style_loss_study import Judge, judge_output, load, make_deep_field  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STILL = ["--style-loss", "mean-cov", "--style-weight", "3", "--content-layers", "relu2_2:0.5,relu4_2:0.5"]
CONFIGS = {
    "video-now": [],  # gram, style weight 1000, relu4_2, temporal weight 100
    "still-tw0": STILL + ["--temporal-weight", "0", "--frame-init", "content"],
    "still-tw0.3": STILL + ["--temporal-weight", "0.3"],
    "still-tw1": STILL + ["--temporal-weight", "1"],
    "still-tw3": STILL + ["--temporal-weight", "3"],
    "still-tw10": STILL + ["--temporal-weight", "10"],
    "still-tw30": STILL + ["--temporal-weight", "30"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "video-defaults"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--iterations", type=int, default=150, help="evaluations of the first frame")
    ap.add_argument("--frame-iterations", type=int, default=100)
    ap.add_argument("--pairs", default="tubingen:starry_night,butterfly:deep_field")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--images", default=os.path.join(REPO, "..", "shared", "images"))
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "stylize"))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "vgg19-random.pt"))
    ap.add_argument("--judge", default=os.path.join(REPO, "models", "vgg19-random-seed1.pt"))
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    judge = Judge(a.judge)
    results = open(os.path.join(a.out, "results.jsonl"), "a")
    for pair in a.pairs.split(","):
        cname, sname = pair.split(":")
        content = os.path.join(a.images, "content", cname + ".jpg")
        style = os.path.join(a.images, "style", sname + ".jpg")
        if sname == "deep_field":
            style = os.path.join(a.out, "deep_field.png")
            if not os.path.exists(style):
                make_deep_field(style)
        clip = os.path.join(a.out, f"clip_{cname}")
        if not os.path.isdir(clip):
            subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make_clip.py"), "pan", content, clip,
                            "--frames", str(a.frames), "--size", f"{a.size}x{a.size * 3 // 4}"], check=True)
        frames = sorted(f for f in os.listdir(clip) if f.endswith(".png"))
        for name in a.configs.split(","):
            out = os.path.join(a.out, f"{cname}_{sname}_{name}")
            report = out + ".jsonl"
            cmd = [a.exe, "video", clip, style, "-o", out + "/", "-m", a.model, "-s", str(a.size),
                   "-n", str(a.iterations), "--frame-iterations", str(a.frame_iterations), "-j", str(a.threads),
                   "-q", "--report", report] + CONFIGS[name]
            subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
            lines = [json.loads(l) for l in open(report)]
            styles, ssims = [], []
            for i, f in enumerate(frames[1:], start=1):
                written = os.path.join(out, f"frame_{i + 1:05d}.png")
                j = judge_output(judge, os.path.join(clip, f), style, written)
                styles.append(sum(v for k, v in j.items() if k.startswith("style_")) / 4)
                ssims.append(ssim_y(load(written), load(os.path.join(clip, f))))
            flicker = [l["warping_error"] for l in lines if "warping_error" in l]
            later = [l["seconds"] for l in lines[1:]]
            rec = {"pair": f"{cname} x {sname}", "config": name, "size": a.size, "frames": len(frames),
                   "style_mean": sum(styles) / len(styles), "style_worst": max(styles),
                   "ssim_mean": sum(ssims) / len(ssims), "ssim_worst": min(ssims),
                   "flicker": sum(flicker) / len(flicker) if flicker else float("nan"),
                   "later_seconds": sum(later) / len(later)}
            results.write(json.dumps(rec) + "\n")
            results.flush()
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
