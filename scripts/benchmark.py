#!/usr/bin/python3
"""Benchmark stylize against the Python reference, and print a markdown report.

Runs build/stylize_bench (the C++ engine) and scripts/reference_gatys.py (the
same algorithm in plain PyTorch, standing in for the Python tools) on the same
synthetic, seeded images, alternately within one run, so both see the same
machine state. Every measurement is its own subprocess, so each peak RSS is
that run's alone. Per round:

  * the machine's ceiling (stylize_bench --ceiling: a large 3x3 convolution,
    forward + input-gradient backward) once per precision;
  * for each size: stylize at each precision and the reference, back to back,
    in the opposite order in every other round.

The report gives, per size and implementation, the median over rounds of each
run's median seconds per evaluation, peak RSS, achieved GFLOP/s (from
stylize_bench's cost model, applied to the reference too), that rate as a
fraction of the ceiling, and the speed-up over the reference; then every raw
JSON result, so the table can be audited.

Example:
  /usr/bin/python3 scripts/benchmark.py --sizes 256,512 --rounds 2 --threads 2 \\
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


def run_json(cmd):
    """Runs `cmd`, returns the JSON object it prints (its last JSON line)."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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

def bench_cmd(args, size, precision):
    return [args.bench, "--model", args.model, "--size", str(size), "--evaluations", str(args.evaluations),
            "--warmup", str(args.warmup), "--threads", str(args.threads), "--precision", precision,
            "--history", str(args.history), "--seed", str(args.seed), "--json"]


def reference_cmd(args, size):
    return [args.python, os.path.join(HERE, "reference_gatys.py"), "--model", args.model,
            "--size", str(size), "--evaluations", str(args.evaluations), "--warmup", str(args.warmup),
            "--threads", str(args.threads), "--history", str(args.history), "--seed", str(args.seed),
            "--json"]


def ceiling_cmd(args, precision):
    return [args.bench, "--ceiling", "--threads", str(args.threads), "--precision", precision, "--json"]


def measure(args):
    """All runs, in order. Returns a list of (round, cmd, result, raw line)."""
    # The reference runs in fp32, so its fraction of the ceiling needs the fp32 ceiling.
    ceiling_precisions = list(args.precisions)
    if not args.no_reference and "fp32" not in ceiling_precisions:
        ceiling_precisions.append("fp32")

    runs = []

    def one(rnd, cmd):
        result, line = run_json(cmd)
        runs.append((rnd, cmd, result, line))
        if result["impl"] == "ceiling":
            what = f"ceiling {result['precision']}: {result['gflops']:.1f} GFLOP/s"
        else:
            what = (f"{result['impl']} {result.get('precision', 'fp32')} {result['size']}px: "
                    f"{result['seconds_per_eval_median']:.4f} s/eval, {result['peak_rss_mb']:.0f} MB")
        print(f"[round {rnd}] {what}", file=sys.stderr, flush=True)

    for rnd in range(1, args.rounds + 1):
        for p in ceiling_precisions:
            one(rnd, ceiling_cmd(args, p))
        for size in args.sizes:
            jobs = [bench_cmd(args, size, p) for p in args.precisions]
            if not args.no_reference:
                jobs.append(reference_cmd(args, size))
            # Alternate which implementation goes first, so neither always
            # runs on the cooler (or hotter) machine.
            if rnd % 2 == 0:
                jobs.reverse()
            for cmd in jobs:
                one(rnd, cmd)
    return runs


# ---------------------------------------------------------------- the report

def fmt(value, spec, missing="—"):
    return missing if value is None else format(value, spec)


def report(args, runs, info):
    ceilings = {}  # precision -> [gflops per round]
    rows = {}      # (size, impl, precision) -> list of results
    for _, _, r, _ in runs:
        if r["impl"] == "ceiling":
            ceilings.setdefault(r["precision"], []).append(r["gflops"])
        else:
            rows.setdefault((r["size"], r["impl"], r.get("precision", "fp32")), []).append(r)
    ceiling = {p: statistics.median(v) for p, v in ceilings.items()}

    out = []
    out.append("## Benchmark: stylize vs the Python reference\n")
    out.append(f"- CPU: {info['cpu']} ({info['cores']} logical cores), memory {info['memory']}")
    out.append(f"- BLAS (libblas.so.3 alternative): {info['blas']}")
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
    out.append("")
    out.append("| size (HxW) | impl | precision | s/eval | peak RSS MB | GFLOP/s | fraction of ceiling "
               "| speed-up vs reference |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|")
    impl_order = {"stylize": 0, "python-reference": 1}
    prec_order = {p: i for i, p in enumerate(args.precisions)}

    def row_order(key):  # stylize first, its precisions as given, then the reference
        _, impl, prec = key
        return impl_order.get(impl, 2), impl, prec_order.get(prec, len(prec_order)), prec

    for size in args.sizes:
        keys = sorted((k for k in rows if k[0] == size), key=row_order)
        # The cost model lives in the C++ binary: borrow its figure for this size.
        gflop = next((r["gflop_per_eval"] for k in keys for r in rows[k] if "gflop_per_eval" in r), None)
        ref = rows.get((size, "python-reference", "fp32"))
        ref_s = statistics.median(r["seconds_per_eval_median"] for r in ref) if ref else None
        for key in keys:
            rs = rows[key]
            s = statistics.median(r["seconds_per_eval_median"] for r in rs)
            rss = max(r["peak_rss_mb"] for r in rs)
            rate = gflop / s if gflop is not None and s > 0 else None
            frac = rate / ceiling[key[2]] if rate is not None and ceiling.get(key[2]) else None
            speedup = ref_s / s if ref_s is not None and s > 0 else None
            h, w = rs[0].get("height", size), rs[0].get("width", size)
            out.append(f"| {h}x{w} | {key[1]} | {key[2]} | {s:.4f} | {rss:.0f} | {fmt(rate, '.1f')} "
                       f"| {fmt(frac, '.0%')} | {fmt(speedup, '.2f')}{'x' if speedup is not None else ''} |")
    out.append("")
    out.append("s/eval: median over rounds of each run's median seconds per evaluation. Peak RSS: the "
               "largest over rounds. GFLOP/s: stylize_bench's cost model (convolution forward and "
               "input-gradient backward, Gram matrices) per evaluation, divided by s/eval.")
    out.append("")
    out.append(f"<details><summary>Raw results ({len(runs)} runs, in the order they ran)</summary>\n")
    out.append("```")
    for rnd, cmd, _, line in runs:
        out.append(f"# round {rnd}: {shlex.join(cmd)}")
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
    p.add_argument("--no-reference", action="store_true", help="skip the Python reference")
    p.add_argument("--python", default=sys.executable,
                   help="Python with torch, for the reference (default: this one, %(default)s)")
    p.add_argument("--output", help="also write the report to this markdown file")
    args = p.parse_args(argv)
    for prec in args.precisions:
        if prec not in ("fp32", "bf16"):
            p.error(f"--precisions: '{prec}' is not fp32 or bf16")
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
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
