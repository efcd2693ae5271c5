#!/usr/bin/python3
"""Temporal stability and cost of `stylize video` (docs/BENCHMARKS.md, "Video").

For each clip, stylizes every frame twice at the same evaluations per frame
(so the same total): independently (--frame-init content --temporal-weight 0,
each frame from its own content) and in temporal mode (warped previous frame
as the start, temporal loss). Reads the per-frame reports and prints, per clip
and mode, the mean warping error (mean absolute difference between each
output frame and the previous output warped by the content flow, over
reliable pixels, in [0,1] units), the mean style and content losses, and the
seconds for the first and the later frames.

  tools/video_benchmark.py --stylize build/stylize --style STYLE.jpg \\
      --pan IMAGE.jpg [--size 256] [--frames 8] [--iterations 100] [--modes bilinear:300,nearest:300]

Each temporal mode is WARP:WEIGHT (--warp and --temporal-weight).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")


def summary(report):
    lines = [json.loads(l) for l in open(report)]
    ok = [l for l in lines if l["status"] == "ok"]
    we = [l["warping_error"] for l in ok if "warping_error" in l]
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")
    # Losses of the frames after the first (the first is the same run in every mode).
    return {
        "warping_error": mean(we),
        "style": mean([l["losses"]["style"] for l in ok[1:]]),
        "content": mean([l["losses"]["content"] for l in ok[1:]]),
        "first_s": ok[0]["seconds"],
        "later_s": mean([l["seconds"] for l in ok[1:]]),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stylize", default=os.path.join(here, "..", "build", "stylize"))
    p.add_argument("--model", default="")
    p.add_argument("--style", required=True)
    p.add_argument("--pan", required=True, help="still image the panning clip is cut from")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--iterations", type=int, default=100, help="evaluations per frame, both modes")
    p.add_argument("--modes", default="bilinear:300,nearest:300", help="WARP:WEIGHT,... temporal modes to run")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--work", default="", help="keep clips and outputs here")
    a = p.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="stylize-video-")
    h = a.size * 3 // 4
    clips = {"synthetic": os.path.join(work, "synthetic"), "pan": os.path.join(work, "pan")}
    run([os.path.join(here, "..", "scripts", "make_clip.py"), "synthetic", clips["synthetic"], "--frames", str(a.frames),
         "--size", f"{a.size}x{h}"])
    run([os.path.join(here, "..", "scripts", "make_clip.py"), "pan", a.pan, clips["pan"], "--frames", str(a.frames),
         "--size", f"{a.size}x{h}"])
    common = ["-s", str(a.size), "-n", str(a.iterations), "-q", "-j", str(a.threads)]
    if a.model:
        common += ["-m", a.model]
    modes = [("independent", ["--frame-init", "content", "--temporal-weight", "0"])]
    for m in a.modes.split(","):
        warp, w = m.split(":")
        modes.append((f"temporal {warp} {w}",
                      ["--frame-iterations", str(a.iterations), "--temporal-weight", w, "--warp", warp]))
    print(f"| clip | mode | warping error | vs independent | style loss (frames 2..) | content loss (frames 2..) "
          f"| first frame s | later frame s |")
    print("|---|---|---|---|---|---|---|---|")
    for clip, folder in clips.items():
        base = None
        for name, extra in modes:
            tag = name.replace(" ", "-")
            report = os.path.join(work, f"{clip}-{tag}.jsonl")
            run([a.stylize, "video", folder, a.style, "-o", os.path.join(work, f"{clip}-{tag}") + "/",
                 "--report", report] + common + extra)
            s = summary(report)
            base = base or s
            print(f"| {clip} | {name} | {s['warping_error']:.4f} | {base['warping_error'] / s['warping_error']:.2f}x lower "
                  f"| {s['style']:.3f} ({s['style'] / base['style']:.2f}x) | {s['content']:.3f} "
                  f"({s['content'] / base['content']:.2f}x) | {s['first_s']:.1f} | {s['later_s']:.1f} |", flush=True)
    print(f"\nclips, outputs and reports in {work}")


if __name__ == "__main__":
    main()
