#!/usr/bin/python3
"""`--conv-algorithm auto`'s measured plan against the forced paths
(docs/BENCHMARKS.md "The measured convolution plan"): seconds per evaluation
of stylize_bench (random images, fixed seed, default options) at each size,
for auto (the plan it measured once, in a fresh cache folder), winograd and
direct, interleaved over rounds; the median of each, and auto over the best
forced path.

  tools/conv_plan_benchmark.py [--sizes 64,128,256,512] [--rounds 3] [--evaluations 10]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench(build, cache, size, algorithm, evaluations, threads):
    env = dict(os.environ, STYLIZE_CACHE_DIR=cache)
    cmd = [os.path.join(build, "stylize_bench"), "--size", str(size), "--conv-algorithm", algorithm,
           "--evaluations", str(evaluations), "--threads", str(threads), "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="64,128,256,512")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--evaluations", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--build", default=os.path.join(repo, "build"))
    a = p.parse_args()
    print(f"{cpu_name()}, {a.threads} threads, {a.evaluations} evaluations per run, {a.rounds} rounds\n")
    print("| size | plan (auto) | measuring took s | auto s/eval | winograd | direct | auto / best forced |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as cache:
        for size in [int(s) for s in a.sizes.split(",")]:
            # The first auto run measures the plan (before its evaluations).
            first, err = bench(a.build, cache, size, "auto", 1, a.threads)
            took = next((line.split(" in ")[1].split(" s")[0] for line in err.splitlines() if "measured the" in line), "-")
            times = {alg: [] for alg in ("auto", "winograd", "direct")}
            for _ in range(a.rounds):
                for alg in times:
                    rec, _ = bench(a.build, cache, size, alg, a.evaluations, a.threads)
                    times[alg].append(rec["seconds_per_eval_median"])
            med = {alg: statistics.median(v) for alg, v in times.items()}
            best = min(med["winograd"], med["direct"])
            print(f"| {size} | `{first['conv_plan']}` | {took} | {med['auto']:.3f} | {med['winograd']:.3f} | "
                  f"{med['direct']:.3f} | {med['auto'] / best:.2f} |", flush=True)


if __name__ == "__main__":
    main()
