#!/usr/bin/python3
"""Benchmark stylize against the Python reference, and print a markdown report.

Runs build/stylize_bench (the C++ engine) and tools/reference_gatys.py (the
same algorithm in plain PyTorch, standing in for the Python tools) on the same
synthetic, seeded images, alternately within one run, so both see the same
machine state. Every measurement is its own subprocess, so each peak RSS is
that run's alone. Per round:

  * the machine's ceiling (stylize_bench --ceiling: a large 3x3 convolution,
    forward + input-gradient backward) once per precision;
  * for each size: stylize in each configuration (precision x layout x
    checkpointing) and the reference, back to back, in the opposite order in
    every other round; with --stock-blas also both on the netlib reference
    BLAS, the "stock Debian install" case.

The report gives, per size and implementation, the median over rounds of each
run's median seconds per evaluation, peak RSS, achieved GFLOP/s (from
stylize_bench's cost model, applied to the reference too), that rate as a
fraction of the ceiling, and the speed-up over the reference; then every raw
JSON result, so the table can be audited.

Example:
  /usr/bin/python3 tools/benchmark.py --sizes 256,512 --rounds 2 --threads 2 \\
      --output docs/benchmark-results.md
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED_KEYS = ["impl", "size", "seconds_per_eval_median", "peak_rss_mb"]
CEILING_KEYS = ["impl", "precision", "gflops"]


class RunFailed(Exception):
    pass


def run_json(cmd, env=None):
    """Runs `cmd`, returns the JSON object it prints (its last JSON line)."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=None if env is None else {**os.environ, **env})
    except OSError as e:
        raise RunFailed(f"cannot run {shlex.join(cmd)}: {e}")

    def tail(text, lines=20):
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty)"

    if proc.returncode != 0:
        raise RunFailed(f"{shlex.join(cmd)}\nexited with status {proc.returncode}; stderr tail:\n"
                        f"{tail(proc.stderr)}")
    # Tolerate log lines before the result: the result is the last JSON line.
    for line in reversed(proc.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                break
            if result.get("available") is False:
                return result, line  # a ceiling this CPU or build cannot run (Winograd without AVX-512)
            required = CEILING_KEYS if result.get("impl") == "ceiling" else REQUIRED_KEYS
            missing = [k for k in required if k not in result]
            if missing:
                raise RunFailed(f"{shlex.join(cmd)}\nprinted JSON without {', '.join(missing)}:\n{line}")
            return result, line
    raise RunFailed(f"{shlex.join(cmd)}\nprinted no JSON object; stdout tail:\n{tail(proc.stdout)}\n"
                    f"stderr tail:\n{tail(proc.stderr)}")


# ---------------------------------------------------------------- machine info

def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model():
    for line in read_file("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_total():
    for line in read_file("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            kib = int(line.split()[1])
            return f"{kib / 1024 / 1024:.1f} GiB"
    return "unknown"


def blas_library():
    # Debian's alternatives system decides which libblas.so.3 torch and
    # LibTorch load (reference BLAS, OpenBLAS, BLIS, ...): it matters a lot.
    try:
        out = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    except OSError:
        return "unknown (no update-alternatives)"
    for line in out.splitlines():
        if line.startswith("Value:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def torch_version(python):
    try:
        out = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def linked_libtorch(binary):
    """The libtorch the benchmark binary loads (from ldd), to show whether both
    implementations run on the same torch build."""
    try:
        out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout
    except OSError:
        return "unknown"
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libtorch_cpu.so") and "=>" in parts:
            return parts[parts.index("=>") + 1]
    return "unknown"


# ---------------------------------------------------------------- the runs

def bench_cmd(args, size, variant):
    cmd = [args.bench, "--model", args.model, "--size", str(size), "--evaluations", str(args.evaluations),
           "--warmup", str(args.warmup), "--threads", str(args.threads), "--precision", variant["precision"],
           "--history", str(args.history), "--seed", str(args.seed), "--json"]
    if variant["layout"]:
        cmd += ["--layout", variant["layout"]]
    if variant["conv"]:
        cmd += ["--conv-algorithm", variant["conv"]]
    if variant["checkpoint"]:
        cmd.append("--checkpoint")
    if variant.get("memory"):
        cmd += ["--memory-policy", variant["memory"]]
    return cmd


def reference_cmd(args, size):
    return [args.python, os.path.join(HERE, "reference_gatys.py"), "--model", args.model,
            "--size", str(size), "--evaluations", str(args.evaluations), "--warmup", str(args.warmup),
            "--threads", str(args.threads), "--history", str(args.history), "--seed", str(args.seed),
            "--json"]


def ceiling_cmd(args, precision, conv="direct"):
    return [args.bench, "--ceiling", "--threads", str(args.threads), "--precision", precision,
            "--conv-algorithm", conv, "--json"]


def variants(args):
    """stylize configurations: every precision x conv algorithm x layout x checkpoint setting."""
    out = []
    for prec in args.precisions:
        for conv in args.convs or [None]:
            for layout in args.layouts or [None]:
                for ckpt in {"off": [False], "on": [True], "both": [False, True]}[args.checkpoint]:
                    for memory in args.memory_policies or [None]:
                        label = " ".join([prec] + ([conv] if conv else []) + ([layout] if layout else [])
                                         + (["checkpoint"] if ckpt else []) + ([memory] if memory else []))
                        out.append({"precision": prec, "conv": conv, "layout": layout, "checkpoint": ckpt,
                                    "memory": memory, "label": label})
    return out


STOCK = " (reference BLAS)"
KEPT = " (memory kept)"
KEPT_ENV = {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"}
SYS_LIMIT = 0.10  # system time above this fraction of wall time is flagged


def measure(args):
    """All runs, in order. Returns a list of (round, label, cmd, env, result, raw line)."""
    # The reference runs in fp32, so its fraction of the ceiling needs the fp32 ceiling.
    ceiling_precisions = list(args.precisions)
    if not args.no_reference and "fp32" not in ceiling_precisions:
        ceiling_precisions.append("fp32")

    runs = []

    def one(rnd, label, cmd, env=None):
        result, line = run_json(cmd, env)
        runs.append((rnd, label, cmd, env, result, line))
        if result["impl"] == "ceiling" and "gflops" not in result:
            what = f"ceiling {label}: not available on this CPU or build"
        elif result["impl"] == "ceiling":
            what = f"ceiling {label}: {result['gflops']:.1f} GFLOP/s"
        else:
            what = (f"{label} {result['size']}px: "
                    f"{result['seconds_per_eval_median']:.4f} s/eval, {result['peak_rss_mb']:.0f} MB")
            if "sys_seconds_per_eval_median" in result:
                what += f", sys {result['sys_seconds_per_eval_median']:.3f} s/eval"
        print(f"[round {rnd}] {what}", file=sys.stderr, flush=True)

    stock_env = {"LD_LIBRARY_PATH": args.stock_blas} if args.stock_blas else None
    for rnd in range(1, args.rounds + 1):
        for p in ceiling_precisions:
            one(rnd, "ceiling", ceiling_cmd(args, p))
        if "fp32" in args.precisions and any(c in (None, "auto", "winograd") for c in (args.convs or [None])):
            # For information: the same convolution through oneDNN's Winograd
            # kernels, as a direct-equivalent rate. The floor stays the direct one.
            one(rnd, "ceiling winograd", ceiling_cmd(args, "fp32", "winograd"))
        for size in args.sizes:
            jobs = [("stylize " + v["label"], bench_cmd(args, size, v), None) for v in variants(args)]
            if not args.no_reference:
                jobs.append(("python-reference", reference_cmd(args, size), None))
                if args.reference_kept_memory:
                    # The reference as stylize's recycling runs it: glibc told
                    # never to unmap or trim (the same 2.9x lever for Python).
                    jobs.append(("python-reference" + KEPT, reference_cmd(args, size), KEPT_ENV))
            if stock_env:
                # What a stock Debian install runs: libblas.so.3 resolved to
                # the netlib reference BLAS instead of OpenBLAS.
                first = variants(args)[0]
                jobs.append(("stylize " + first["label"] + STOCK, bench_cmd(args, size, first), stock_env))
                if not args.no_reference:
                    jobs.append(("python-reference" + STOCK, reference_cmd(args, size), stock_env))
            # Alternate the order, so no configuration always runs on the
            # cooler (or hotter) machine.
            if rnd % 2 == 0:
                jobs.reverse()
            for label, cmd, env in jobs:
                one(rnd, label, cmd, env)
    return runs


# ---------------------------------------------------------------- the report

def system_time_flags(runs):
    """stylize runs whose system time per evaluation exceeds SYS_LIMIT of the wall time."""
    out = []
    for rnd, label, _cmd, _env, r, _line in runs:
        if r.get("impl") != "stylize" or "sys_seconds_per_eval_median" not in r:
            continue
        wall, sys_t = r["seconds_per_eval_median"], r["sys_seconds_per_eval_median"]
        if wall > 0 and sys_t > SYS_LIMIT * wall:
            out.append(f"round {rnd}, {label} {r['size']}px: sys {sys_t:.3f} s of {wall:.3f} s "
                       f"({sys_t / wall:.0%})")
    return out


def fmt(value, spec, missing="—"):
    return missing if value is None else format(value, spec)


def report(args, runs, info):
    ceilings = {}  # precision -> [gflops per round]
    winograd = []  # effective GFLOP/s of the same convolution through Winograd kernels
    rows = {}      # (size, label) -> list of results
    order = []     # labels in the order they first ran
    for _, label, _, _, r, _ in runs:
        if r["impl"] == "ceiling" and r.get("conv_algorithm", "direct") == "winograd":
            if "gflops" in r:  # absent where the CPU or the build has no Winograd kernels
                winograd.append(r["gflops"])
        elif r["impl"] == "ceiling":
            ceilings.setdefault(r["precision"], []).append(r["gflops"])
        else:
            rows.setdefault((r["size"], label), []).append(r)
            if label not in order:
                order.append(label)
    ceiling = {p: statistics.median(v) for p, v in ceilings.items()}

    out = []
    out.append("## Benchmark: stylize vs the Python reference\n")
    out.append(f"- CPU: {info['cpu']} ({info['cores']} logical cores), memory {info['memory']}")
    out.append(f"- BLAS (libblas.so.3 alternative): {info['blas']}"
               + (f"; rows marked{STOCK} load {args.stock_blas}/libblas.so.3 instead" if args.stock_blas else ""))
    out.append(f"- torch (reference): {info['torch']}; stylize_bench links {info['libtorch']}")
    out.append(f"- load average at start: {info['load']}")
    out.append(f"- date: {info['date']}")
    out.append(f"- settings: {args.evaluations} timed evaluations after {args.warmup} warm-up, "
               f"{args.rounds} round(s), {args.threads} thread(s), L-BFGS history {args.history}, "
               f"seed {args.seed}, model `{args.model}`")
    out.append("")
    out.append("```")
    out.append(info["command"])
    out.append("```")
    out.append("")
    for p in sorted(ceiling):
        out.append(f"Ceiling, {p}: {ceiling[p]:.1f} GFLOP/s (3x3 convolution forward + input-gradient "
                   f"backward, median of {len(ceilings[p])} round(s)).  ")
    if winograd:
        out.append(f"The same convolution through oneDNN's Winograd kernels: {statistics.median(winograd):.1f} "
                   f"GFLOP/s direct-equivalent (median of {len(winograd)}). The floor and the fraction "
                   f"column below use the direct ceiling, so Winograd rows can exceed 100%.  ")
    out.append("")
    out.append("| size (HxW) | configuration | s/eval | s/eval per round | peak RSS MB | GFLOP/s "
               "| fraction of ceiling | speed-up vs reference |")
    out.append("|---|---|---:|---|---:|---:|---:|---:|")

    for size in args.sizes:
        keys = [(size, label) for label in order if (size, label) in rows]
        # The cost model lives in the C++ binary: borrow its figure for this size.
        gflop = next((r["gflop_per_eval"] for k in keys for r in rows[k] if "gflop_per_eval" in r), None)
        ref = rows.get((size, "python-reference"))
        ref_s = statistics.median(r["seconds_per_eval_median"] for r in ref) if ref else None
        for key in keys:
            rs = rows[key]
            per_round = [r["seconds_per_eval_median"] for r in rs]
            s = statistics.median(per_round)
            rss = max(r["peak_rss_mb"] for r in rs)
            prec = rs[0].get("precision", "fp32")
            rate = gflop / s if gflop is not None and s > 0 else None
            frac = rate / ceiling[prec] if rate is not None and ceiling.get(prec) else None
            speedup = ref_s / s if ref_s is not None and s > 0 else None
            h, w = rs[0].get("height", size), rs[0].get("width", size)
            out.append(f"| {h}x{w} | {key[1]} | {s:.3f} | {' '.join(f'{t:.2f}' for t in per_round)} "
                       f"| {rss:.0f} | {fmt(rate, '.1f')} | {fmt(frac, '.0%')} "
                       f"| {fmt(speedup, '.2f')}{'x' if speedup is not None else ''} |")
    out.append("")
    out.append("s/eval: median over rounds of each run's median seconds per evaluation. Peak RSS: the "
               "largest over rounds. GFLOP/s: stylize_bench's cost model (convolution forward and "
               "input-gradient backward, Gram matrices) per evaluation, divided by s/eval. Speed-up: "
               "the Python reference's s/eval (OpenBLAS) over the row's.")
    out.append("")
    out.append(f"<details><summary>Raw results ({len(runs)} runs, in the order they ran)</summary>\n")
    out.append("```")
    for rnd, label, cmd, env, _, line in runs:
        prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        out.append(f"# round {rnd}, {label}: {(prefix + ' ') if prefix else ''}{shlex.join(cmd)}")
        out.append(line)
    out.append("```")
    out.append("</details>")
    return "\n".join(out) + "\n"


def parse_list(text, conv, name):
    try:
        values = [conv(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: expected a comma-separated list, got '{text}'")
    if not values:
        raise argparse.ArgumentTypeError(f"{name}: empty list")
    return values


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default="build/stylize_bench", help="benchmark binary (default %(default)s)")
    p.add_argument("--model", default="models/vgg19-random.pt", help="TorchScript VGG (default %(default)s)")
    p.add_argument("--sizes", default=[256, 512], type=lambda t: parse_list(t, int, "--sizes"),
                   help="comma-separated square image sides (default 256,512)")
    p.add_argument("--evaluations", type=int, default=10, help="timed evaluations per run (default %(default)s)")
    p.add_argument("--warmup", type=int, default=2, help="untimed evaluations first (default %(default)s)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of every measurement (default %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="threads for every run (default %(default)s)")
    p.add_argument("--history", type=int, default=10, help="L-BFGS history (default %(default)s, as stylize)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic images (default %(default)s)")
    p.add_argument("--precisions", default=["fp32"],
                   type=lambda t: parse_list(t, str, "--precisions"),
                   help="comma-separated stylize precisions: fp32, bf16 (default fp32)")
    p.add_argument("--layouts", default=None, type=lambda t: parse_list(t, str, "--layouts"),
                   help="comma-separated stylize layouts: auto, contiguous, channels-last "
                        "(default: stylize_bench's default)")
    p.add_argument("--convs", default=None, type=lambda t: parse_list(t, str, "--convs"),
                   help="comma-separated stylize convolution algorithms: auto, direct, winograd "
                        "(default: stylize's own default only)")
    p.add_argument("--checkpoint", choices=["off", "on", "both"], default="off",
                   help="stylize with activation checkpointing off, on, or both (default %(default)s)")
    p.add_argument("--stock-blas", nargs="?", const="/usr/lib/x86_64-linux-gnu/blas", default=None,
                   metavar="DIR", help="also run the reference and the first stylize configuration with "
                   "LD_LIBRARY_PATH=DIR, a folder holding the netlib reference libblas.so.3 (what a stock "
                   "Debian install uses; default DIR %(const)s)")
    p.add_argument("--no-reference", action="store_true", help="skip the Python reference")
    p.add_argument("--memory-policies", default=None, type=lambda t: parse_list(t, str, "--memory-policies"),
                   help="stylize --memory-policy values to compare, e.g. recycle,system (default: its default)")
    p.add_argument("--reference-kept-memory", action="store_true",
                   help="also run the reference with glibc told to keep freed memory (GLIBC_TUNABLES)")
    p.add_argument("--python", default=sys.executable,
                   help="Python with torch, for the reference (default: this one, %(default)s)")
    p.add_argument("--output", help="also write the report to this markdown file")
    args = p.parse_args(argv)
    for prec in args.precisions:
        if prec not in ("fp32", "bf16"):
            p.error(f"--precisions: '{prec}' is not fp32 or bf16")
    for conv in args.convs or []:
        if conv not in ("auto", "direct", "winograd"):
            p.error(f"--convs: '{conv}' is not auto, direct or winograd")
    for layout in args.layouts or []:
        if layout not in ("auto", "contiguous", "channels-last"):
            p.error(f"--layouts: '{layout}' is not auto, contiguous or channels-last")
    if args.stock_blas and not os.path.isfile(os.path.join(args.stock_blas, "libblas.so.3")):
        p.error(f"--stock-blas: no libblas.so.3 in {args.stock_blas} (apt-get install libblas3)")
    if min(args.sizes) < 16:
        p.error("--sizes must all be >= 16")
    if args.evaluations < 1 or args.warmup < 0 or args.rounds < 1 or args.threads < 1:
        p.error("--evaluations, --rounds and --threads must be >= 1, --warmup >= 0")
    if not os.access(args.bench, os.X_OK):
        p.error(f"{args.bench}: not an executable; build it with `ninja -C build stylize_bench`")
    if not os.path.isfile(args.model):
        p.error(f"{args.model}: no such model; export one with scripts/export_vgg19.py")

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory": memory_total(),
        "blas": blas_library(),
        "torch": torch_version(args.python),
        "libtorch": linked_libtorch(args.bench),
        "load": ", ".join(f"{v:.2f}" for v in os.getloadavg()),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable] + (sys.argv if argv is None else [__file__] + argv)),
    }
    try:
        runs = measure(args)
    except RunFailed as e:
        print(f"benchmark.py: a run failed:\n{e}", file=sys.stderr)
        return 1
    text = report(args, runs, info)
    flagged = system_time_flags(runs)
    if flagged:
        text += ("\n## System time check: FAILED\n\nThese stylize runs spent more than "
                 f"{SYS_LIMIT:.0%} of their wall time in the kernel (page faults, mapping): "
                 "a memory-policy regression.\n\n" + "".join(f"- {f}\n" for f in flagged))
    else:
        text += f"\nSystem time check: every stylize run below {SYS_LIMIT:.0%} of its wall time.\n"
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 3 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
