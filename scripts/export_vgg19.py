#!/usr/bin/python3
"""Export a VGG19 feature extractor as TorchScript for stylize.

Writes torchvision's VGG19 `features` (conv/relu/pool stack) as a scripted
module, with metadata stored inside the archive as the extra file
`stylize.json` (normalisation, value range, channel order, layer names, where
the weights came from, a SHA-256 of the parameters).

  --weights imagenet      torchvision's ImageNet weights (downloads ~550 MB once)
  --weights random        seeded random weights, offline (NOT a trained network:
                          it transfers colour and texture, not semantics)
  --width-divisor N       divide every channel count by N (narrow test models)

Examples:
  scripts/export_vgg19.py --weights imagenet -o models/vgg19.pt
  scripts/export_vgg19.py --weights random --seed 0 -o models/vgg19-random.pt
  scripts/export_vgg19.py --weights random --seed 1 --width-divisor 8 -o tiny.pt
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile

import torch
import torch.nn as nn

# torchvision's VGG19 configuration "E": channel counts, "M" = 2x2 max pool.
VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
             512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
FORMAT = "stylize-vgg/1"


def layer_names(cfg):
    names, block, idx = [], 1, 1
    for v in cfg:
        if v == "M":
            names.append(f"pool{block}")
            block, idx = block + 1, 1
        else:
            names += [f"conv{block}_{idx}", f"relu{block}_{idx}"]
            idx += 1
    return names


def make_features(cfg):
    layers, in_ch = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_ch, v, kernel_size=3, padding=1),
                       nn.ReLU(inplace=False)]
            in_ch = v
    return nn.Sequential(*layers)


def random_init(features, seed):
    # Same scheme torchvision uses for an untrained VGG (Kaiming normal, fan_out,
    # zero bias), drawn from a private generator so the result depends only on
    # the seed and the architecture.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in features:
            if isinstance(m, nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
                std = (2.0 / fan_out) ** 0.5
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * std)
                m.bias.zero_()


def imagenet_features():
    import torchvision  # only needed on this path
    try:
        weights = torchvision.models.VGG19_Weights.IMAGENET1K_V1
        model = torchvision.models.vgg19(weights=weights)
        source = "torchvision VGG19_Weights.IMAGENET1K_V1"
    except AttributeError:  # torchvision < 0.13
        model = torchvision.models.vgg19(pretrained=True)
        source = "torchvision vgg19(pretrained=True)"
    return model.features, source


def parameter_sha256(module):
    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", choices=["imagenet", "random"], required=True)
    p.add_argument("--seed", type=int, default=0, help="seed for --weights random (default 0)")
    p.add_argument("--width-divisor", type=int, default=1,
                   help="divide every channel count by N (random weights only; default 1)")
    p.add_argument("-o", "--output", required=True, help="output .pt file")
    args = p.parse_args(argv)

    if args.width_divisor < 1:
        p.error("--width-divisor must be >= 1")
    if args.weights == "imagenet" and args.width_divisor != 1:
        p.error("--width-divisor only applies to --weights random")

    torch.manual_seed(args.seed)
    if args.weights == "imagenet":
        cfg = VGG19_CFG
        features, source = imagenet_features()
    else:
        cfg = [v if v == "M" else max(1, v // args.width_divisor) for v in VGG19_CFG]
        features = make_features(cfg)
        random_init(features, args.seed)
        source = f"random (Kaiming normal fan_out, seed {args.seed})"
    features = features.eval().float()
    for prm in features.parameters():
        prm.requires_grad_(False)

    meta = {
        "format": FORMAT,
        "architecture": "vgg19",
        "weights": args.weights,
        "seed": args.seed if args.weights == "random" else None,
        "width_divisor": args.width_divisor,
        "source": source,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "value_range": [0.0, 1.0],
        "channel_order": "RGB",
        "layers": layer_names(cfg),
        "sha256": parameter_sha256(features),
        "torch_version": torch.__version__,
    }
    scripted = torch.jit.script(features)

    out = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # Write next to the destination, then rename: never leave a half-written model.
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".pt", dir=os.path.dirname(out))
    os.close(fd)
    try:
        torch.jit.save(scripted, tmp, _extra_files={"stylize.json": json.dumps(meta, indent=1)})
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"wrote {out} ({meta['source']}, sha256 {meta['sha256'][:12]})")
    if args.weights == "random":
        print("note: random weights are not a trained network; for real results use --weights imagenet",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
