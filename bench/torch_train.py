"""PyTorch peer for `nas bench train`: torchvision MobileNetV3 training steps, one thread.

Prints one JSON line: {"peer": "pytorch", "imagesPerSec": ..., ...}. Run with /usr/bin/python3.
"""
import argparse
import json
import time

import torch
import torchvision


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="mobilenetv3-small", choices=["mobilenetv3-small", "mobilenetv3-large"])
    p.add_argument("--input", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    ctor = {"mobilenetv3-small": torchvision.models.mobilenet_v3_small,
            "mobilenetv3-large": torchvision.models.mobilenet_v3_large}[a.arch]
    model = ctor(num_classes=a.classes)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(a.batch, 3, a.input, a.input)
    y = torch.randint(0, a.classes, (a.batch,))

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    print(json.dumps({
        "peer": "pytorch", "version": torch.__version__, "arch": a.arch, "input": a.input,
        "classes": a.classes, "batch": a.batch, "steps": a.steps, "threads": torch.get_num_threads(),
        "msPerStep": 1000 * dt / a.steps, "imagesPerSec": a.batch * a.steps / dt,
    }))


if __name__ == "__main__":
    main()
