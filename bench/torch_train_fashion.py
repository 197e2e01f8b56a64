"""PyTorch peer for `nas train-final --variant small --data fashion-mnist`: torchvision's mobilenet_v3_small trained
with the same recipe file (configs/small-data.json), input size, batch and epochs, on the same official files, with
the same preprocessing (28 px grey -> bilinear resize to the input, grey repeated to 3 channels, Fashion-MNIST
mean/std; training: a window shifted by up to 2 source pixels with zero fill, and horizontal flips).

Takes every optimizer our recipes use with our semantics (train/optimizers.ts): sgd (torch.optim.SGD, momentum and
Nesterov, weight decay as L2 on the gradient), rmsprop (TF1's RMSPropOptimizer, written out below: the mean square
starts at ones, eps inside the square root, momentum on lr-scaled steps, L2 on the gradient) and adamw
(torch.optim.AdamW); the cosine, step and constant schedules with linear warm-up per step (train/schedule.ts); and
dropLast. Weight EMA is not implemented (no small-data recipe uses it) and is refused.

Prints one JSON line: {"peer": "pytorch", "testTop1": ..., "imagesPerSec": ...}. Run with /usr/bin/python3.
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

MEAN, STD = 0.2860, 0.3530


def read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir: str, split: str):
    prefix = "train" if split == "train" else "t10k"
    def find(kind: str) -> str:
        for name in (f"{prefix}-{kind}.gz", f"{prefix}-{kind}"):
            if os.path.exists(os.path.join(data_dir, name)):
                return os.path.join(data_dir, name)
        raise SystemExit(f"missing {prefix}-{kind}(.gz) in {data_dir}")
    images = read_idx(find("images-idx3-ubyte"))
    labels = read_idx(find("labels-idx1-ubyte"))
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def normalise(x: torch.Tensor) -> torch.Tensor:
    return ((x / 255.0) - MEAN) / STD


def eval_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    x = images.float().unsqueeze(1)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return normalise(x).repeat(1, 3, 1, 1)


def train_batch(images: torch.Tensor, size: int, pad: int, gen: torch.Generator) -> torch.Tensor:
    n, h, w = images.shape
    padded = F.pad(images.float().unsqueeze(1), (pad, pad, pad, pad))
    offs = torch.randint(0, 2 * pad + 1, (n, 2), generator=gen)
    crops = torch.stack([padded[i, :, offs[i, 0]:offs[i, 0] + h, offs[i, 1]:offs[i, 1] + w] for i in range(n)])
    x = F.interpolate(crops, size=(size, size), mode="bilinear", align_corners=False)
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    return normalise(x).repeat(1, 3, 1, 1)


def param_groups(model: torch.nn.Module, wd: float, exclude: str):
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            is_bn = isinstance(module, torch.nn.modules.batchnorm._BatchNorm)
            is_bias = name == "bias"
            skip = (exclude in ("bn", "bn-and-bias") and is_bn) or (exclude == "bn-and-bias" and is_bias)
            (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


class TF1RMSProp(torch.optim.Optimizer):
    """TF1 RMSPropOptimizer with momentum: ms += (g^2 - ms)(1 - rho); mom = mu mom + lr g / sqrt(ms + eps); w -= mom."""

    def __init__(self, params, lr: float, rho: float, momentum: float, eps: float):
        super().__init__(params, {"lr": lr, "rho": rho, "momentum": momentum, "eps": eps, "weight_decay": 0.0})

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.add(p, alpha=g["weight_decay"]) if g["weight_decay"] else p.grad
                st = self.state[p]
                if not st:
                    st["ms"], st["mom"] = torch.ones_like(p), torch.zeros_like(p)
                st["ms"].add_((grad * grad - st["ms"]) * (1 - g["rho"]))
                st["mom"].mul_(g["momentum"]).add_(g["lr"] * grad / torch.sqrt(st["ms"] + g["eps"]))
                p.sub_(st["mom"])


def make_optimizer(model: torch.nn.Module, cfg: dict) -> torch.optim.Optimizer:
    o = cfg["optimizer"]
    groups = param_groups(model, cfg["weightDecay"], cfg.get("wdExclude", "bn"))
    if o["type"] == "sgd":
        return torch.optim.SGD(groups, lr=o["lr"], momentum=o.get("momentum", 0.9), nesterov=bool(o.get("nesterov")))
    if o["type"] == "rmsprop":
        return TF1RMSProp(groups, lr=o["lr"], rho=o.get("rho", 0.9), momentum=o.get("momentum", 0.9),
                          eps=o.get("eps") or 1e-3)
    if o["type"] == "adamw":
        return torch.optim.AdamW(groups, lr=o["lr"], betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps") or 1e-8)
    raise SystemExit(f"unknown optimizer type {o['type']!r}: this peer takes sgd, rmsprop and adamw")


def make_schedule(cfg: dict, steps_per_epoch: int, total: int):
    """train/schedule.ts: linear warm-up from lr / warm to lr, then cosine, staircase step decay or constant."""
    sched, lr = cfg["schedule"], cfg["optimizer"]["lr"]
    # Math.round, as train/schedule.ts (Python's round() takes half to even: 214.5 -> 214, JS gives 215).
    warm = min(total, math.floor(sched.get("warmupEpochs", 0) * steps_per_epoch + 0.5))
    decay_steps = max(1, total - warm)
    min_lr = sched.get("minLr", 0.0)
    period = sched.get("decayEpochs", 2.4) * steps_per_epoch

    def lr_at(step: int) -> float:
        if step < warm:
            return lr * (step + 1) / warm
        t = step - warm
        if sched["type"] == "cosine":
            return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * min(1.0, t / decay_steps)))
        if sched["type"] == "step":
            return lr * sched.get("decayRate", 0.97) ** math.floor(t / period + 1e-9)
        return lr
    return lr_at


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "configs", "small-data.json"))
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--input", type=int, default=32)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--val", type=int, default=5000, help="training images held out (as nas does)")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    cfg = json.load(open(a.config))
    epochs = a.epochs or cfg["epochs"]
    batch = a.batch or cfg["batchSize"]
    if cfg.get("ema"):
        raise SystemExit("this peer does not implement weight EMA: set \"ema\": null in the recipe")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    x_all, y_all = load(a.data_dir, "train")
    perm = torch.randperm(len(y_all), generator=gen)
    train_idx = perm[a.val:]
    if a.limit:
        train_idx = train_idx[:a.limit]
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_test, y_test = load(a.data_dir, "test")

    model = torchvision.models.mobilenet_v3_small(num_classes=10)
    opt = make_optimizer(model, cfg)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=cfg.get("labelSmoothing", 0.0))
    drop_last = cfg.get("dropLast", True)
    steps_per_epoch = len(y_train) // batch if drop_last else -(-len(y_train) // batch)
    lr_at = make_schedule(cfg, steps_per_epoch, steps_per_epoch * epochs)

    step, seen, train_time = 0, 0, 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y_train), generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            t0 = time.perf_counter()
            x = train_batch(x_train[idx], a.input, 2, gen)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y_train[idx])
            loss.backward()
            opt.step()
            train_time += time.perf_counter() - t0
            step += 1
            seen += len(idx)
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y_test), 500):
            correct += (model(eval_batch(x_test[i:i + 500], a.input)).argmax(1) == y_test[i:i + 500]).sum().item()
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "seed": a.seed, "optimizer": cfg["optimizer"]["type"],
                      "epochs": epochs, "batch": batch,
                      "input": a.input, "trainImages": len(y_train), "testTop1": correct / len(y_test),
                      "imagesPerSec": seen / train_time, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
