#!/usr/bin/python3
"""Sums a Chrome trace from `stylize_bench --profile FILE` by operation.

Prints, per operation name, the total self time (time not spent in the
operations it called, on the same thread) per evaluation, its share of the
whole, and a summary by kind (convolutions, Gram products, pooling, layout
conversions, ReLU, optimiser, other).

  build/stylize_bench --size 512 --evaluations 3 --warmup 1 --profile /tmp/trace.json
  /usr/bin/python3 tools/profile_table.py /tmp/trace.json --evaluations 3
"""
import argparse
import collections
import json
import sys

KINDS = [
    ("convolution", ("conv", "winograd", "mkldnn_convolution", "convolution_backward")),
    ("Gram products", ("mm", "addmm", "matmul", "bmm", "GramFunction")),
    ("pooling", ("pool", "max_pool", "avg_pool")),
    ("layout conversions", ("contiguous", "copy_", "clone", "to_blocked", "from_blocked", "permute", "empty_like")),
    ("ReLU", ("relu", "threshold")),
    ("reductions and losses", ("sum", "pow", "sub", "mul", "div", "add", "mean", "abs", "norm", "dot")),
]


def kind_of(name):
    low = name.lower()
    for kind, keys in KINDS:
        if any(k.lower() in low for k in keys):
            return kind
    return "other"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trace")
    p.add_argument("--evaluations", type=int, default=1, help="evaluations the trace holds (to divide by)")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    with open(args.trace) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    spans = [e for e in events if e.get("ph") == "X" and "dur" in e]
    # Self time: a span's duration minus its direct children's on the same thread.
    by_thread = collections.defaultdict(list)
    for e in spans:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    self_us = collections.Counter()
    total_us = 0.0
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in evs:
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
                stack.pop()
            if stack:
                stack[-1]["_child"] = stack[-1].get("_child", 0.0) + e["dur"]
            else:
                total_us += e["dur"]
            stack.append(e)
        for e in evs:
            self_us[e["name"]] += e["dur"] - e.get("_child", 0.0)
    n = max(args.evaluations, 1)
    whole = sum(self_us.values()) or 1.0
    print(f"{'operation':40s} {'ms/eval':>9s} {'share':>7s}")
    for name, us in self_us.most_common(args.top):
        print(f"{name[:40]:40s} {us / 1000 / n:9.1f} {us / whole:7.1%}")
    kinds = collections.Counter()
    for name, us in self_us.items():
        kinds[kind_of(name)] += us
    print()
    print(f"{'kind':40s} {'ms/eval':>9s} {'share':>7s}")
    for kind, us in kinds.most_common():
        print(f"{kind:40s} {us / 1000 / n:9.1f} {us / whole:7.1%}")
    print(f"\n(top-level recorded time {total_us / 1000 / n:.1f} ms/eval)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
