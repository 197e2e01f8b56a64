"""Reference predictions of MobileNetV3-Large for the import-weights / predict test.

Reads INPUTS (a safetensors file whose tensor `input` is [N, H, W, C] float32: images already preprocessed by nas,
so both sides see the same pixels), builds torchvision's mobilenet_v3_large with a fixed seed and batch-norm
statistics calibrated on random batches (as torchvision_mobilenetv3.py, with a floor on the variances), scales the
classifier so that softmax probabilities are peaked (a meaningful top 5), and writes to OUT_DIR:
  torchvision.safetensors  the state_dict, torchvision names
  timm.safetensors         the same weights under timm's mobilenetv3_large_100 names, for a model that is timm's:
                           torchvision's modules with BatchNorm eps 1e-5 (timm's nn.BatchNorm2d default)
  expected.safetensors     torchvision_logits, torchvision_probs, timm_logits, timm_probs ([N, classes], eval mode)
timm itself is not needed: the renaming follows timm/models/mobilenetv3.py and _efficientnet_blocks.py
(conv_stem/bn1; blocks.<stage>.<index> with DepthwiseSeparableConv conv_dw/bn1/se/conv_pw/bn2 or InvertedResidual
conv_pw/bn1/conv_dw/bn2/se/conv_pwl/bn3; the last 1x1 conv a ConvBnAct conv/bn1; conv_head with bias; classifier).
Usage: /usr/bin/python3 mobilenetv3_predict.py INPUTS OUT_DIR [--classifier-std 1]
"""
import argparse
import copy
import json
import os
import struct

import numpy as np
import torch
import torchvision
from torchvision.ops.misc import SqueezeExcitation

from torchvision_mobilenetv3 import write_safetensors


def read_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e["dtype"]
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + b : 8 + n + end], dtype="<f4").copy()).reshape(e["shape"])
    return out


def timm_names(model: torchvision.models.MobileNetV3) -> dict:
    """torchvision state_dict key -> timm key, found by walking torchvision's modules."""
    names = {}

    def conv_bn(tv: str, conv: str, bn: str) -> None:
        names[f"{tv}.0.weight"] = f"{conv}.weight"
        for p in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            names[f"{tv}.1.{p}"] = f"{bn}.{p}"

    conv_bn("features.0", "conv_stem", "bn1")
    stage, index, prev_out = -1, 0, None
    blocks = list(model.features)[1:-1]
    for i, blk in enumerate(blocks):
        out = blk.out_channels
        if out != prev_out:
            stage, index, prev_out = stage + 1, 0, out
        t = f"blocks.{stage}.{index}"
        layers = list(blk.block)
        convs = [j for j, m in enumerate(layers) if not isinstance(m, SqueezeExcitation)]
        expand = len(convs) == 3
        roles = ["conv_pw", "conv_dw", "conv_pwl"] if expand else ["conv_dw", "conv_pw"]
        bns = ["bn1", "bn2", "bn3"]
        for j, m in enumerate(layers):
            tv = f"features.{i + 1}.block.{j}"
            if isinstance(m, SqueezeExcitation):
                for fc, conv in (("fc1", "conv_reduce"), ("fc2", "conv_expand")):
                    for p in ("weight", "bias"):
                        names[f"{tv}.{fc}.{p}"] = f"{t}.se.{conv}.{p}"
            else:
                k = convs.index(j)
                conv_bn(tv, f"{t}.{roles[k]}", f"{t}.{bns[k]}")
        index += 1
    conv_bn(f"features.{len(blocks) + 1}", f"blocks.{stage + 1}.0.conv", f"blocks.{stage + 1}.0.bn1")
    for p in ("weight", "bias"):
        names[f"classifier.0.{p}"] = f"conv_head.{p}"
        names[f"classifier.3.{p}"] = f"classifier.{p}"
    return names


def calibrate(model: torch.nn.Module, batches: list) -> torch.nn.Module:
    """BN statistics from random batches (cumulative mean), then the model in eval mode."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
            m.reset_running_stats()
    model.train()
    for b in batches:
        model(b)
    # Near-dead channels of a random-init net have a variance of ~0; the floor keeps eval outputs of order 1.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.clamp_(min=1e-4)
    return model.eval()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("inputs")
    p.add_argument("out")
    p.add_argument("--classifier-std", type=float, default=1.0, help="classifier weight std x sqrt(fan-in)")
    a = p.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    x = read_safetensors(a.inputs)["input"].permute(0, 3, 1, 2).contiguous()
    size = x.shape[2]
    calibration = [torch.randn(8, 3, size, size) for _ in range(3)]
    model = torchvision.models.mobilenet_v3_large()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        for m in model.classifier.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(0, 2.0 / m.in_features ** 0.5)
                m.bias.uniform_(-0.1, 0.1)
        last = model.classifier[3]
        last.weight.normal_(0, a.classifier_std / last.in_features ** 0.5)
        # timm's model: the same modules and weights with BatchNorm eps 1e-5; statistics calibrated for each eps.
        timm_like = copy.deepcopy(model)
        for m in timm_like.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eps = 1e-5
        tv_logits = calibrate(model, calibration)(x)
        timm_logits = calibrate(timm_like, calibration)(x)

    os.makedirs(a.out, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_safetensors(os.path.join(a.out, "torchvision.safetensors"), state)
    rename = timm_names(model)
    timm_full = {k: v for k, v in timm_like.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in timm_full if k not in rename]
    assert not missing, missing
    timm_state = {rename[k]: v for k, v in timm_full.items()}
    timm_state["conv_head.weight"] = timm_state["conv_head.weight"].reshape(*timm_state["conv_head.weight"].shape, 1, 1)
    write_safetensors(os.path.join(a.out, "timm.safetensors"), timm_state)
    write_safetensors(
        os.path.join(a.out, "expected.safetensors"),
        {
            "torchvision_logits": tv_logits,
            "torchvision_probs": torch.softmax(tv_logits, 1),
            "timm_logits": timm_logits,
            "timm_probs": torch.softmax(timm_logits, 1),
        },
    )
    probs = torch.softmax(tv_logits, 1)
    print(json.dumps({
        "images": int(x.shape[0]),
        "top1": [float(v) for v in probs.max(1).values],
        "top1Class": [int(v) for v in probs.argmax(1)],
        "logitStd": float(tv_logits.std()),
        "top5": [[round(float(v), 4) for v in r] for r in probs.topk(5, 1).values],
        "timmMaxLogitDiff": float((timm_logits - tv_logits).abs().max()),
        "timmLogitStd": float(timm_logits.std()),
        "timmTop5": [[round(float(v), 4) for v in r] for r in torch.softmax(timm_logits, 1).topk(5, 1).values],
    }))


if __name__ == "__main__":
    main()
