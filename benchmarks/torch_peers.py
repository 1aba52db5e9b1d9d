#!/usr/bin/env python3
"""Plain-PyTorch versions of topdown's rules, timed on synthetic data: the peers of `topdown bench train`.

Each step is written as a PyTorch user would write it, at the shapes and settings topdown benches:
  pepita  the authors' ICLR-code step (spec 2.5.2): clean pass, x_mod = x - e F^T, modulated pass with the same
          dropout masks, gradients assigned to .grad, torch.optim.SGD
  bp      nn.Linear layers, dropout, ReLU, cross-entropy on the softmax output, loss.backward()
  fa      the same net with a custom autograd Function whose backward sends the error through fixed random B
  ff      Forward-Forward with autograd, as FF implementations are written: label in the first 10 pixels,
          positive and negative passes, per-layer softplus losses on the goodness with detached layer inputs
          (length normalisation between layers), a softmax read-out trained on the neutral-label pass, Adam
With --conv C,H,W the net is the ICML conv model, Conv(32, 5x5, no bias) -> ReLU -> MaxPool 2x2 -> FC ->
softmax on C x H x W images (--sizes gives the input and output widths only):
  pepita  clean and modulated passes (x_mod = x + F e, the ICML code's sign), the conv update the average over
          output positions of (h - h_mod) x the modulated input's patches, computed as PyTorch users would,
          with torch.nn.grad.conv2d_weight instead of the ICML code's loop over positions
  bp, fa  autograd through the conv net (FA's fixed matrix replaces the FC layer's weights in the backward)
Data are uniform [0, 1) pixels and random labels, drawn before timing. Run with the same OpenBLAS kernels as
topdown and a passive OpenMP pool, e.g.
  OMP_WAIT_POLICY=PASSIVE OPENBLAS_CORETYPE=Haswell python3 benchmarks/torch_peers.py --rule pepita
(`node benchmarks/peers.mjs` sets both and alternates with topdown). Prints one JSON object.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as tf


def he_uniform(linear, fan_in):
    bound = math.sqrt(6 / fan_in)
    torch.nn.init.uniform_(linear.weight, -bound, bound)
    if linear.bias is not None:
        torch.nn.init.zeros_(linear.bias)


def make_layers(sizes, bias):
    layers = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        lin = torch.nn.Linear(d_in, d_out, bias=bias)
        he_uniform(lin, d_in)
        layers.append(lin)
    return layers


def make_optimizer(params, args):
    if args.optimizer == "adam":
        return torch.optim.Adam(params, lr=args.lr)
    return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)


def pool_of(args, sizes):
    d0, classes = sizes[0], sizes[-1]
    return [
        (torch.rand(args.batch, d0), torch.randint(0, classes, (args.batch,)))
        for _ in range(8)
    ]


def pepita_step(args, sizes):
    layers = make_layers(sizes, args.bias)
    opt = make_optimizer([p for lin in layers for p in lin.parameters()], args)
    d0, classes = sizes[0], sizes[-1]
    F = (torch.rand(d0, classes) * 2 - 1) * math.sqrt(6 / d0) * 0.05
    keep = 1 - args.dropout

    def forward(x, masks):
        h = x
        outs = [x]
        for i, lin in enumerate(layers[:-1]):
            h = torch.relu(lin(h) * masks[i]) if masks else torch.relu(lin(h))
            outs.append(h)
        return outs, torch.softmax(layers[-1](h), dim=1)

    def step(x, labels):
        target = tf.one_hot(labels, classes).float()
        with torch.no_grad():
            masks = (
                [(torch.rand(x.shape[0], lin.out_features) < keep).float() / keep for lin in layers[:-1]]
                if args.dropout > 0
                else None
            )
            clean, y = forward(x, masks)
            e = y - target
            x_mod = x - e @ F.T
            mod, _ = forward(x_mod, masks)
            b = x.shape[0]
            for i, lin in enumerate(layers[:-1]):
                lin.weight.grad = (clean[i + 1] - mod[i + 1]).T @ mod[i] / b
            layers[-1].weight.grad = e.T @ mod[-1] / b
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


class FeedbackLinear(torch.autograd.Function):
    """y = x W^T; the input's gradient goes through the fixed matrix B instead of W (feedback alignment)."""

    @staticmethod
    def forward(ctx, x, w, b_fixed):
        ctx.save_for_backward(x, b_fixed)
        return x @ w.T

    @staticmethod
    def backward(ctx, grad):
        x, b_fixed = ctx.saved_tensors
        return grad @ b_fixed, grad.T @ x, None


def backprop_step(args, sizes, feedback):
    layers = make_layers(sizes, False)
    opt = make_optimizer([p for lin in layers for p in lin.parameters()], args)
    fixed = []
    for lin, d_in in zip(layers, sizes[:-1]):
        bound = math.sqrt(6 / d_in)
        fixed.append((torch.rand_like(lin.weight) * 2 - 1) * bound)

    def linear(i, h):
        return FeedbackLinear.apply(h, layers[i].weight, fixed[i]) if feedback else layers[i](h)

    def step(x, labels):
        h = x
        for i in range(len(layers) - 1):
            h = torch.relu(tf.dropout(linear(i, h), args.dropout, training=True))
        loss = tf.cross_entropy(linear(len(layers) - 1, h), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def ff_step(args, sizes):
    layers = make_layers(sizes, True)
    opt = make_optimizer([p for lin in layers for p in lin.parameters()], args)
    classes = sizes[-1]
    hidden = layers[:-1]

    def rms_normalize(h):
        return h * math.sqrt(h.shape[1]) / (h.norm(dim=1, keepdim=True) + 1e-12)

    def embed(x, labels):
        out = x.clone()
        out[:, :classes] = 0
        out[torch.arange(x.shape[0]), labels] = 1.0
        return rms_normalize(out)

    def step(x, labels):
        b = x.shape[0]
        wrong = (labels + torch.randint(1, classes, (b,))) % classes
        neutral = x.clone()
        neutral[:, :classes] = 1.0 / classes
        h_neu = rms_normalize(neutral)
        h_pos = embed(x, labels)
        h_neg = embed(x, wrong)
        loss = 0.0
        for lin in hidden:
            a_pos = torch.relu(lin(h_pos.detach()))
            a_neg = torch.relu(lin(h_neg.detach()))
            theta = lin.out_features
            g_pos = a_pos.pow(2).sum(dim=1)
            g_neg = a_neg.pow(2).sum(dim=1)
            loss = loss + tf.softplus(theta - g_pos).mean() + tf.softplus(g_neg - theta).mean()
            with torch.no_grad():
                h_neu = rms_normalize(torch.relu(lin(h_neu)))
            h_pos = rms_normalize(a_pos)
            h_neg = rms_normalize(a_neg)
        loss = loss + tf.cross_entropy(layers[-1](h_neu), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def conv_layers(shape, classes):
    c, h, w = shape
    conv = torch.nn.Conv2d(c, 32, 5, bias=False)
    torch.nn.init.uniform_(conv.weight, -math.sqrt(6 / (c * 25)), math.sqrt(6 / (c * 25)))
    features = 32 * ((h - 4) // 2) * ((w - 4) // 2)
    fc = torch.nn.Linear(features, classes, bias=False)
    he_uniform(fc, features)
    return conv, fc


def conv_pepita_step(args, shape, classes):
    conv, fc = conv_layers(shape, classes)
    opt = make_optimizer(list(conv.parameters()) + list(fc.parameters()), args)
    d0 = shape[0] * shape[1] * shape[2]
    F = (torch.rand(d0, classes) * 2 - 1) * math.sqrt(6 / d0) * 0.05

    def forward(x):
        act = torch.relu(conv(x))
        pooled = tf.max_pool2d(act, 2).flatten(1)
        return act, pooled, torch.softmax(fc(pooled), dim=1)

    def step(x, labels):
        x = x.view(-1, *shape)
        target = tf.one_hot(labels, classes).float()
        with torch.no_grad():
            act, _, y = forward(x)
            e = y - target
            x_mod = x + (e @ F.T).view_as(x)
            act_mod, pooled_mod, _ = forward(x_mod)
            b = x.shape[0]
            positions = act.shape[2] * act.shape[3]
            diff = act - act_mod
            conv.weight.grad = torch.nn.grad.conv2d_weight(x_mod, conv.weight.shape, diff) / (b * positions)
            fc.weight.grad = e.T @ pooled_mod / b
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def conv_backprop_step(args, shape, classes, feedback):
    conv, fc = conv_layers(shape, classes)
    opt = make_optimizer(list(conv.parameters()) + list(fc.parameters()), args)
    fixed = (torch.rand_like(fc.weight) * 2 - 1) * math.sqrt(6 / fc.in_features)

    def step(x, labels):
        h = tf.max_pool2d(torch.relu(conv(x.view(-1, *shape))), 2).flatten(1)
        z = FeedbackLinear.apply(h, fc.weight, fixed) if feedback else fc(h)
        loss = tf.cross_entropy(z, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rule", choices=["pepita", "bp", "fa", "ff"], default="pepita")
    p.add_argument("--sizes", default="3072,1024,10", help="layer widths, input to output")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--batches", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--bias", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--conv", default=None, help="C,H,W: the ICML conv model on images of this shape")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.conv:
        shape = tuple(int(s) for s in args.conv.split(","))
        if args.rule == "pepita":
            step = conv_pepita_step(args, shape, sizes[-1])
        elif args.rule in ("bp", "fa"):
            step = conv_backprop_step(args, shape, sizes[-1], feedback=args.rule == "fa")
        else:
            raise SystemExit("--conv supports pepita, bp and fa")
    elif args.rule == "pepita":
        step = pepita_step(args, sizes)
    elif args.rule == "ff":
        step = ff_step(args, sizes)
    else:
        step = backprop_step(args, sizes, feedback=args.rule == "fa")
    pool = pool_of(args, sizes)
    for i in range(args.warmup):
        step(*pool[i % len(pool)])
    times = []
    start = time.perf_counter()
    for i in range(args.batches):
        t0 = time.perf_counter()
        step(*pool[i % len(pool)])
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    times.sort()
    print(
        json.dumps(
            {
                "peer": "torch",
                "torch": torch.__version__,
                "rule": args.rule,
                "threads": torch.get_num_threads(),
                "sizes": sizes,
                "conv": args.conv,
                "batch": args.batch,
                "batches": args.batches,
                "samples_per_s": args.batch * args.batches / total,
                "ms_per_batch": 1000 * total / args.batches,
                "median_ms_per_batch": 1000 * times[len(times) // 2],
            }
        )
    )


if __name__ == "__main__":
    main()
