#!/usr/bin/python3
"""Python reference of the exact algorithm stylize runs, for benchmarks.

A small, plain PyTorch implementation of Gatys et al. style transfer in the
form the Python tools (neural-style-pt and friends) use it: a VGG feature
stack run layer by layer, relative-error content and Gram-matrix style losses,
total variation, and torch.optim.LBFGS without line search (one loss
evaluation per iteration). Every choice below mirrors stylize's defaults, so
a run here and a `stylize_bench` run do the same arithmetic and their
seconds per evaluation can be compared directly:

  model     TorchScript VGG from scripts/export_vgg19.py (metadata in the
            archive's extra file stylize.json: mean, std, ...)
  input     (x - mean) / std, x a (1,3,H,W) RGB image in [0,1]
  content   relu4_2:  sum((F - P)^2) / (sum(P^2) + 1e-8)
  style     relu1_1 .. relu5_1, weight 1/5 each; Gram G = F F^T / (H*W),
            per layer sum((G - A)^2) / (sum(A^2) + 1e-8)
  tv        mean of squared horizontal + vertical neighbour differences
  total     1 * content + 1000 * style + 1 * tv
  init      the content image
  optimiser LBFGS(lr=1, history 10, no line search, tolerances off), or Adam(lr=0.02)

Inputs are synthetic and seeded (content, then style, drawn from one
torch.Generator), the same as stylize_bench draws them, so the final losses of
the two can be compared as a check that they compute the same thing.

With --content/--style/--output/--seconds it stylizes real images for a time
budget, for quality comparisons at equal time (tools/defaults_study.py,
config reference-gatys).

Example:
  /usr/bin/python3 tools/reference_gatys.py --model models/vgg19-random.pt \\
      --size 512 --evaluations 10 --warmup 2 --threads 2 --json
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

CONTENT_LAYERS = ["relu4_2"]
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 1000.0
TV_WEIGHT = 1.0
ADAM_LR = 0.02
EPS = 1e-8


class VGGFeatures:
    """The conv/relu/pool stack of a stylize model, as plain tensors and ops."""

    def __init__(self, path, channels_last=False):
        extra = {"stylize.json": ""}
        module = torch.jit.load(path, map_location="cpu", _extra_files=extra)
        meta = json.loads(extra["stylize.json"]) if extra["stylize.json"] else {}
        # A whole torchvision VGG is accepted too: use its `features` part.
        children = dict(module.named_children())
        if "features" in children:
            module = children["features"]

        self.layers = []  # (name, kind, weight, bias)
        block, conv = 1, 0
        for child in module.children():
            kind = child.original_name
            if kind == "Conv2d":
                conv += 1
                name = f"conv{block}_{conv}"
                memfmt = torch.channels_last if channels_last else torch.contiguous_format
                weight = child.weight.detach().float().contiguous(memory_format=memfmt)
                bias = child.bias.detach().float() if child.bias is not None else None
                self.layers.append((name, "conv", weight, bias))
            elif kind == "ReLU":
                self.layers.append((f"relu{block}_{conv}", "relu", None, None))
            elif kind == "MaxPool2d":
                self.layers.append((f"pool{block}", "pool", None, None))
                block, conv = block + 1, 0
            else:
                raise ValueError(f"{path}: unsupported layer {kind}; expected Conv2d/ReLU/MaxPool2d")
        self.index = {name: i for i, (name, *_) in enumerate(self.layers)}

        self.mean = torch.tensor(meta.get("mean", [0.485, 0.456, 0.406])).view(1, 3, 1, 1)
        self.std = torch.tensor(meta.get("std", [0.229, 0.224, 0.225])).view(1, 3, 1, 1)
        self.bgr = meta.get("channel_order", "RGB") == "BGR"
        self.value_range = meta.get("value_range", [0.0, 1.0])
        self.channels_last = channels_last

    def extract(self, image, names):
        """Features at `names` (in that order), running only as deep as needed."""
        wanted = [self.index[n] for n in names]
        keep = set(wanted)
        x = image.flip(1) if self.bgr else image
        lo, hi = self.value_range
        if (lo, hi) != (0.0, 1.0):
            x = x * (hi - lo) + lo
        x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        feats = {}
        for i in range(max(wanted) + 1):
            _, kind, weight, bias = self.layers[i]
            if kind == "conv":
                x = F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)
            elif kind == "relu":
                # In place (as nn.ReLU(inplace=True) in the Python tools) unless
                # that would overwrite a conv output we were asked to return.
                x = F.relu(x) if (i - 1) in keep else F.relu_(x)
            else:
                x = F.max_pool2d(x, kernel_size=2, stride=2)
            if i in keep:
                feats[i] = x
        return [feats[i] for i in wanted]


def load_image(path, size):
    """An image file as (1,3,H,W) in [0,1], long side `size` (bicubic)."""
    import numpy as np
    from PIL import Image
    im = Image.open(path).convert("RGB")
    scale = size / max(im.size)
    im = im.resize((max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale))), Image.BICUBIC)
    return torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None].contiguous()


def gram(features):
    _, c, h, w = features.shape
    f = features.reshape(c, h * w)
    return (f @ f.t()) / (h * w)


def relative_squared_error(a, target):
    # The denominator is a constant of the target: a plain float, as in stylize.
    return (a - target).pow(2).sum() / (target.pow(2).sum().item() + EPS)


def total_variation(x):
    return ((x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()
            + (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean())


def run(args):
    torch.set_num_threads(args.threads)
    model = VGGFeatures(args.model, channels_last=args.channels_last)

    if args.content:
        content, style = load_image(args.content, args.size), load_image(args.style, args.size)
    else:
        g = torch.Generator().manual_seed(args.seed)
        content = torch.rand((1, 3, args.size, args.size), generator=g)
        style = torch.rand((1, 3, args.size, args.size), generator=g)

    with torch.no_grad():
        content_targets = model.extract(content, CONTENT_LAYERS)
        style_targets = [gram(f) for f in model.extract(style, STYLE_LAYERS)]
    content_w = [1.0 / len(CONTENT_LAYERS)] * len(CONTENT_LAYERS)
    style_w = [1.0 / len(STYLE_LAYERS)] * len(STYLE_LAYERS)
    names = CONTENT_LAYERS + STYLE_LAYERS

    x = content.clone().requires_grad_(True)
    total_evals = args.warmup + args.evaluations
    starts = []   # time.perf_counter() at the start of each evaluation
    losses = {}   # weighted terms of the latest evaluation

    def closure():
        starts.append(time.perf_counter())
        optimizer.zero_grad()
        feats = model.extract(x, names)
        nc = len(CONTENT_LAYERS)
        content_loss = sum(w * relative_squared_error(f, p)
                           for w, f, p in zip(content_w, feats[:nc], content_targets))
        style_loss = sum(w * relative_squared_error(gram(f), a)
                         for w, f, a in zip(style_w, feats[nc:], style_targets))
        tv = total_variation(x)
        total = CONTENT_WEIGHT * content_loss + STYLE_WEIGHT * style_loss + TV_WEIGHT * tv
        total.backward()
        losses.update(total=total.item(), content=CONTENT_WEIGHT * content_loss.item(),
                      style=STYLE_WEIGHT * style_loss.item(), tv=TV_WEIGHT * tv.item())
        if args.verbose:
            print(f"evaluation {len(starts)}: total {losses['total']:.6g}", file=sys.stderr)
        return total

    if args.seconds > 0:
        # A time budget: one evaluation per step() (L-BFGS keeps its history
        # across calls), until the budget is spent.
        if args.optimizer == "lbfgs":
            optimizer = torch.optim.LBFGS([x], lr=1, max_iter=1, max_eval=2, history_size=args.history,
                                          tolerance_grad=-1, tolerance_change=-1, line_search_fn=None)
        else:
            optimizer = torch.optim.Adam([x], lr=ADAM_LR)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            optimizer.step(closure)
        total_evals = len(starts)
        args.warmup = 0
    elif args.optimizer == "lbfgs":
        # lr=1 and no line search: one closure call per iteration, so one step
        # with max_iter=N makes exactly N evaluations. max_eval is raised above
        # its default (1.25 * max_iter) so that limit can never cut the run short;
        # negative tolerances turn the early-exit tests off.
        optimizer = torch.optim.LBFGS([x], lr=1, max_iter=total_evals, max_eval=2 * total_evals,
                                      history_size=args.history, tolerance_grad=-1,
                                      tolerance_change=-1, line_search_fn=None)
        optimizer.step(closure)
    else:
        optimizer = torch.optim.Adam([x], lr=ADAM_LR)
        for _ in range(total_evals):
            optimizer.step(closure)
    end = time.perf_counter()
    if args.output:
        # As the Python tools write it: clamped to [0,1] only now.
        img = (x.detach().clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        from PIL import Image
        Image.fromarray(img).save(args.output)

    if len(starts) != total_evals:
        raise RuntimeError(f"expected {total_evals} evaluations, the optimiser made {len(starts)}")
    # Each evaluation's time runs to the start of the next (so it includes the
    # optimiser's own update), the last one to the end of the step.
    per_eval = [b - a for a, b in zip(starts, starts[1:] + [end])]
    timed = per_eval[args.warmup:]
    return {
        "impl": "python-reference",
        "size": args.size,
        "height": content.shape[2],
        "width": content.shape[3],
        "threads": torch.get_num_threads(),
        "evaluations": len(timed),
        "seconds_per_eval_median": statistics.median(timed),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "loss_total": losses["total"],
        "loss_content": losses["content"],
        "loss_style": losses["style"],
        "loss_tv": losses["tv"],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="models/vgg19-random.pt", help="TorchScript VGG (default %(default)s)")
    p.add_argument("--size", type=int, default=512, help="square image side (default %(default)s)")
    p.add_argument("--evaluations", type=int, default=10, help="timed evaluations (default %(default)s)")
    p.add_argument("--warmup", type=int, default=2, help="untimed evaluations first (default %(default)s)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(),
                   help="torch intra-op threads (default %(default)s)")
    p.add_argument("--history", type=int, default=10, help="L-BFGS history (default %(default)s, as stylize)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic images (default %(default)s)")
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument("--channels-last", action="store_true",
                   help="channels-last activations (stylize's default layout; the Python tools use NCHW)")
    p.add_argument("--content", help="a content image instead of the synthetic one (with --style)")
    p.add_argument("--style", help="a style image (with --content)")
    p.add_argument("--output", help="write the result, clamped to [0,1], as an image")
    p.add_argument("--seconds", type=float, default=0, help="run for this long instead of --evaluations")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-v", "--verbose", action="store_true", help="print the loss of every evaluation to stderr")
    args = p.parse_args(argv)
    if args.size < 16:
        p.error("--size must be >= 16 (relu5_1 is at 1/16 scale)")
    if args.evaluations < 1 or args.warmup < 0 or args.threads < 1 or args.history < 1:
        p.error("--evaluations, --threads and --history must be >= 1, --warmup >= 0")

    r = run(args)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['impl']} (torch {torch.__version__}, {r['threads']} threads): "
              f"{r['height']}x{r['width']}, {r['evaluations']} evaluations, "
              f"{r['seconds_per_eval_median']:.4f} s/eval median, peak RSS {r['peak_rss_mb']:.0f} MB; "
              f"final loss {r['loss_total']:.6g} (content {r['loss_content']:.6g}, "
              f"style {r['loss_style']:.6g}, tv {r['loss_tv']:.6g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
