#!/usr/bin/env python3
"""The authors' PEPITA training step in PyTorch (ICLR code semantics, spec 2.5.2), timed on synthetic
CIFAR-10-shaped data: the yardstick for `topdown bench train --rule pepita`.

3072-1024-10, no biases, Linear -> consistent dropout (p = 0.1) -> ReLU, softmax output; x_mod = x - e F^T;
second pass with the same masks; gradients assigned to .grad; torch SGD(lr 0.01, momentum 0.9).
Run with a tuned CPU setup, e.g.
  OMP_WAIT_POLICY=PASSIVE OPENBLAS_CORETYPE=SkylakeX python3 benchmarks/pepita_torch.py --threads 2
Prints one JSON object with samples_per_s.
"""
import argparse
import json
import math
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batches", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    d0, d1, d2, b = 3072, args.hidden, 10, args.batch
    w1 = torch.nn.Linear(d0, d1, bias=False)
    w2 = torch.nn.Linear(d1, d2, bias=False)
    for lin, fan in ((w1, d0), (w2, d1)):
        bound = math.sqrt(6 / fan)
        torch.nn.init.uniform_(lin.weight, -bound, bound)
    params = list(w1.parameters()) + list(w2.parameters())
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    F = (torch.rand(d0, d2) * 2 - 1) * math.sqrt(6 / d0) * 0.05
    pool = [(torch.rand(b, d0), torch.nn.functional.one_hot(torch.randint(0, d2, (b,)), d2).float()) for _ in range(8)]

    def step(i):
        x, target = pool[i % len(pool)]
        with torch.no_grad():
            mask = (torch.rand(b, d1) > 0.1).float() / 0.9
            h1 = torch.relu(w1(x) * mask)
            y = torch.softmax(w2(h1), dim=1)
            e = y - target
            x_mod = x - e @ F.T
            h1m = torch.relu(w1(x_mod) * mask)
            w1.weight.grad = (h1 - h1m).T @ x_mod / b
            w2.weight.grad = e.T @ h1m / b
        opt.step()
        opt.zero_grad()

    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.batches):
        step(i)
    total = time.perf_counter() - start
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": b,
                      "batches": args.batches, "samples_per_s": b * args.batches / total,
                      "ms_per_batch": 1000 * total / args.batches}))


if __name__ == "__main__":
    main()
