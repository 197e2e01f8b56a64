"""synflow in PyTorch, double precision, as the zero-cost proxies' code computes it (Abdelfattah et al. 2021):
every parameter replaced by its absolute value, an all-ones input, R = sum of the outputs, batch norm in eval mode,
synflow = sum over the conv and linear weights of |theta * dR/dtheta|. ReLU6 is taken as ReLU, as zero-cost/synflow.ts
does (documented there). Reads the network from stdin (test/zero-cost-helpers.ts tinyNetJson) and prints
{"synflow": ..., "output": ...}. The network's semantics are those of model/build.ts, written again here.
"""
import json
import sys

import torch
import torch.nn.functional as F

net = json.load(sys.stdin)
arch = net["arch"]
W = {k: torch.tensor(v["data"], dtype=torch.float64).reshape(v["shape"]).abs() for k, v in net["weights"].items()}
kernels = []


def kernel(name):
    t = W[name].clone().requires_grad_(True)
    kernels.append(t)
    return t


def act(x, kind):
    if kind in ("relu", "relu6"):
        return F.relu(x)
    if kind == "hswish":
        return x * F.relu6(x + 3) / 6
    if kind == "hsigmoid":
        return F.relu6(x + 3) / 6
    if kind == "sigmoid":
        return torch.sigmoid(x)
    return x


def pad(x, k, s):
    if arch["padding"] == "symmetric":
        return F.pad(x, [k // 2] * 4)
    size = x.shape[2]
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return F.pad(x, [total // 2, total - total // 2, total // 2, total - total // 2])


def conv_bn(x, name, k, s, kind, depthwise=False):
    w = kernel(f"{name}/kernel")
    w = w.permute(2, 3, 0, 1) if depthwise else w.permute(3, 2, 0, 1)
    y = F.conv2d(pad(x, k, s), w, stride=s, groups=x.shape[1] if depthwise else 1)
    bn = [W[f"{name}/{p}"] for p in ("moving_mean", "moving_variance", "gamma", "beta")]
    y = F.batch_norm(y, bn[0], bn[1], bn[2], bn[3], training=False, eps=arch["bn"]["eps"])
    return act(y, kind)


def dense(x, name, kind):
    return act(x @ kernel(f"{name}/kernel") + W[f"{name}/bias"], kind)


def se(x, path, gate):
    h = act(x.mean((2, 3)) @ kernel(f"{path}.se/reduce_kernel") + W[f"{path}.se/reduce_bias"], "relu")
    g = act(h @ kernel(f"{path}.se/expand_kernel") + W[f"{path}.se/expand_bias"], gate)
    return x * g[:, :, None, None]


def block(x, b):
    p, inp = b["path"], x
    if b["type"] == "conv":
        x = conv_bn(x, f"{p}.conv", b["kernel"], b["stride"], b["act"])
    else:
        if b["hasExpand"]:
            x = conv_bn(x, f"{p}.expand", 1, 1, b["act"])
        x = conv_bn(x, f"{p}.dw", b["kernel"], b["stride"], b["act"], depthwise=True)
        if b["se"]:
            x = se(x, p, b["se"]["gate"])
        x = conv_bn(x, f"{p}.project", 1, 1, "linear")
    return inp + x if b["residual"] else x


x = torch.ones(1, arch["inputChannels"], arch["inputSize"], arch["inputSize"], dtype=torch.float64)
s = arch["stem"]
x = conv_bn(x, "stem", s["kernel"], s["stride"], s["act"])
for b in arch["blocks"]:
    x = block(x, b)
h = arch["head"]
x = conv_bn(x, "head.conv", 1, 1, h["act"]).mean((2, 3))
if h["hidden"] is not None:
    x = dense(x, "head.hidden", h["act"])
out = dense(x, "head.classifier", "linear")
R = out.sum()
R.backward()
synflow = sum((t * t.grad).abs().sum() for t in kernels)
print(json.dumps({"synflow": synflow.item(), "output": R.item()}))
