#!/usr/bin/env python3
"""The ICML-2022 conv PEPITA written in plain PyTorch and trained on the real data: an accuracy peer for the
pepita-conv-* presets (the Conv column of the baseline table, spec 5.1).

It follows the semantics of the authors' `main_pytorch.py` run as its README says (model Net1conv1fcXL or its
CIFAR twin, `--eta 0.01 --batch_size 50 --update_type mom --eta_decay`, with `--is_pool`, without which that
script's FC update has the wrong shape), not its code:
  * PyTorch's default initialisation (the script parses --w_init but never applies it); F ~ U(+-sqrt(6/d_0)) x 0.05
  * x_mod = x + F e with e = softmax - one-hot of the clean pass; no dropout (the model ignores its masks)
  * FC update -e^T pool(h_mod) / batch; conv update the mean over the batch of the sum over output positions of
    (h - h_mod) x the modulated input's patches, / positions (or / sqrt(positions): `--sqrt-conv`), / batch
    again, ADDED to the weights as the script does (`--conv-sign paper` subtracts it, the FC layer's sign)
  * momentum 0.9 as v = 0.9 v + eta dw; w += v; eta x0.1 at the start of epochs 10, 30 and 60 (decay_scheme 1)
Prints one line per epoch (test accuracy, the conv kernels' relative change) and a JSON summary at the end.
Example: OMP_WAIT_POLICY=PASSIVE python3 benchmarks/icml_conv_accuracy.py --data mnist --epochs 10
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as tf


def read_idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_cifar10(folder, names):
    records = []
    for name in names:
        with gzip.open(os.path.join(folder, name)) as f:
            records.append(np.frombuffer(f.read(), np.uint8).reshape(-1, 3073))
    rows = np.concatenate(records)
    return rows[:, 1:].reshape(-1, 3, 32, 32), rows[:, 0]


def load(data, data_dir):
    if data == "mnist":
        d = os.path.join(data_dir, "mnist")
        x_train = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:, None]
        y_train = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
        x_test = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))[:, None]
        y_test = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    elif data == "cifar10":
        d = os.path.join(data_dir, "cifar-10-batches-bin")
        x_train, y_train = read_cifar10(d, [f"data_batch_{i}.bin.gz" for i in range(1, 6)])
        x_test, y_test = read_cifar10(d, ["test_batch.bin.gz"])
    else:
        raise SystemExit(f"--data must be mnist or cifar10, not {data}")

    def pixels(x):
        return torch.tensor(x, dtype=torch.float32) / 255

    def labels(y):
        return torch.tensor(y.astype(np.int64))

    return pixels(x_train), labels(y_train), pixels(x_test), labels(y_test)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="mnist", help="mnist or cifar10")
    p.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--decay-epochs", default="10,30,60", help="comma-separated; '' for none")
    p.add_argument("--sqrt-conv", action="store_true", help="divide the conv update by sqrt(positions)")
    p.add_argument("--conv-sign", choices=["icml", "paper"], default="icml")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    x_train, y_train, x_test, y_test = load(args.data, args.data_dir)
    channels, side = x_train.shape[1], x_train.shape[-1]
    classes, batch = 10, 50
    conv = torch.nn.Conv2d(channels, 32, 5, bias=False)
    conv_side = side - 4
    fc = torch.nn.Linear(32 * (conv_side // 2) ** 2, classes, bias=False)
    d0 = channels * side * side
    bound = math.sqrt(6 / d0)
    feedback = (torch.rand(d0, classes) * 2 * bound - bound) * 0.05
    positions = conv_side**2
    conv_scale = (math.sqrt(positions) if args.sqrt_conv else positions) * batch
    conv_sign = 1.0 if args.conv_sign == "icml" else -1.0
    decay = {int(e) for e in args.decay_epochs.split(",") if e}
    v_conv, v_fc = torch.zeros_like(conv.weight), torch.zeros_like(fc.weight)
    conv_start = conv.weight.detach().clone()

    def forward(x):
        act = torch.relu(conv(x))
        return act, torch.softmax(fc(tf.max_pool2d(act, 2).flatten(1)), 1)

    eta, history = args.lr, []
    with torch.no_grad():
        for epoch in range(args.epochs):
            if epoch in decay:
                eta *= 0.1
            start = time.time()
            order = torch.randperm(len(x_train))
            for i in range(0, len(x_train) - batch + 1, batch):
                rows = order[i : i + batch]
                x, target = x_train[rows], tf.one_hot(y_train[rows], classes).float()
                act, out = forward(x)
                error = out - target
                x_mod = x + (error @ feedback.T).view_as(x)
                act_mod, _ = forward(x_mod)
                summed = torch.nn.grad.conv2d_weight(x_mod, conv.weight.shape, act - act_mod)
                v_conv = 0.9 * v_conv + eta * conv_sign * summed / batch / conv_scale
                v_fc = 0.9 * v_fc - eta * (error.T @ tf.max_pool2d(act_mod, 2).flatten(1)) / batch
                conv.weight += v_conv
                fc.weight += v_fc
            test_acc = (forward(x_test)[1].argmax(1) == y_test).float().mean().item()
            change = ((conv.weight - conv_start).norm() / conv_start.norm()).item()
            history.append(test_acc)
            print(
                f"epoch {epoch + 1} lr {eta:g} test_acc {test_acc:.4f} conv_relative_change {change:.2e} "
                f"{time.time() - start:.1f} s",
                flush=True,
            )
    print(json.dumps({"data": args.data, "seed": args.seed, "test_acc": history, "conv_relative_change": change}))


if __name__ == "__main__":
    main()
