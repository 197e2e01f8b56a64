"""Reference outputs from torchvision's MobileNetV3 for the weight-import test.

Builds torchvision's model with a fixed seed, calibrates its batch-norm statistics on random batches (so that
inference activations are normalised and the logits are of order 1, which makes a 1e-3 comparison meaningful),
rescales the linear layers, and writes to OUT_DIR:
  weights.safetensors  the state_dict (float32)
  io.safetensors       `input` (NCHW) and `logits` from eval mode
  torchvision.onnx     with --onnx: the model as torch.onnx.export writes it (opset 17, input `input` NCHW with a
                       free batch dimension, output `logits`), what a torchvision user deploys to ONNX Runtime
Usage: /usr/bin/python3 torchvision_mobilenetv3.py large|small OUT_DIR [--size 224] [--batch 2] [--onnx]
"""
import argparse
import json
import os
import struct

import torch
import torchvision


def write_safetensors(path: str, tensors: dict) -> None:
    header = {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("variant", choices=["large", "small"])
    p.add_argument("out")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--onnx", action="store_true", help="also write torchvision.onnx (torch.onnx.export, opset 17)")
    a = p.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    ctor = {"large": torchvision.models.mobilenet_v3_large, "small": torchvision.models.mobilenet_v3_small}[a.variant]
    model = ctor(num_classes=a.classes)
    with torch.no_grad():
        # Non-trivial affine BN parameters, then statistics from random batches (momentum None = cumulative mean).
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.momentum = None
                m.reset_running_stats()
        model.train()
        for _ in range(3):
            model(torch.randn(8, 3, a.size, a.size))
        for m in model.classifier.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(0, 2.0 / m.in_features ** 0.5)
                m.bias.uniform_(-0.1, 0.1)
        model.eval()
        x = torch.randn(a.batch, 3, a.size, a.size)
        logits = model(x)
    os.makedirs(a.out, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_safetensors(os.path.join(a.out, "weights.safetensors"), state)
    write_safetensors(os.path.join(a.out, "io.safetensors"), {"input": x, "logits": logits})
    if a.onnx:
        # The TorchScript exporter of PyTorch 1.13 writes the file without the `onnx` Python package.
        torch.onnx.export(model, x, os.path.join(a.out, "torchvision.onnx"), opset_version=17, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(json.dumps({"variant": a.variant, "params": sum(p.numel() for p in model.parameters()),
                      "logitsAbsMax": float(logits.abs().max())}))


if __name__ == "__main__":
    main()
