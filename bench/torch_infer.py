"""PyTorch peer for bench/inference-vs-peers.ts: torchvision MobileNetV3 in eval mode, batch 1, one thread.

Times the forward pass (median of --runs after --warmup) and, with --onnx DIR, also exports the same network to
DIR/<arch>.onnx (opset 13) for the ONNX Runtime peer. Prints one JSON line. Run with /usr/bin/python3.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torchvision

CTORS = {"mobilenetv3-small": torchvision.models.mobilenet_v3_small,
         "mobilenetv3-large": torchvision.models.mobilenet_v3_large}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="mobilenetv3-large", choices=sorted(CTORS))
    p.add_argument("--input", type=int, default=224)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--onnx", default=None, help="directory to export <arch>.onnx into")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = CTORS[a.arch]().eval()
    x = torch.rand(1, 3, a.input, a.input)
    onnx_path = None
    if a.onnx:
        onnx_path = os.path.join(a.onnx, f"{a.arch}-{a.input}.onnx")
        if not os.path.exists(onnx_path):
            tmp = f"{onnx_path}.{os.getpid()}.tmp"
            torch.onnx.export(model, x, tmp, opset_version=13, input_names=["input"], output_names=["logits"])
            os.replace(tmp, onnx_path)
    samples = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        for _ in range(a.runs):
            t0 = time.perf_counter()
            model(x)
            samples.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "arch": a.arch, "input": a.input,
                      "threads": a.threads, "medianMs": statistics.median(samples), "runs": len(samples), "samplesMs": samples,
                      "onnx": onnx_path}))


if __name__ == "__main__":
    main()
