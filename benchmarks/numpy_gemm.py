#!/usr/bin/env python3
"""Yardstick for `topdown bench gemm`: numpy's float32 matmul at the same shapes and transposes.

Prints one JSON object shaped like `topdown bench gemm --json` (engine "numpy"), so the two can be compared
shape by shape: `node benchmarks/compare-numpy.mjs` runs both in one go and prints the ratios.
Timing: warm-up, then the median of repetitions, each repetition timing a batch of calls sized to >= 20 ms.
"""
import json
import statistics
import sys
import time

import numpy as np

# (label, m, k, n, transA, transB): C (m x n) = op(A) (m x k) @ op(B) (k x n); same list as src/bench/shapes.ts
SHAPES = [
    ("forward 64x3072 @ W^T", 64, 3072, 1024, False, True),
    ("weight update dW = delta^T x", 1024, 64, 3072, True, False),
    ("hidden forward", 64, 1024, 1024, False, True),
    ("large-batch evaluation", 1000, 3072, 1024, False, True),
    ("teacher-student online step", 1, 500, 2, False, True),
    ("batch-1 MNIST forward", 1, 784, 1024, False, True),
]


def operand(rows, cols, trans, rng):
    """op(X) with op(X) of shape rows x cols, stored the way topdown stores it (row-major, transposed if asked)."""
    if trans:
        return rng.standard_normal((cols, rows), dtype=np.float32).T
    return rng.standard_normal((rows, cols), dtype=np.float32)


def time_shape(m, k, n, ta, tb, reps):
    rng = np.random.default_rng(0)
    a = operand(m, k, ta, rng)
    b = operand(k, n, tb, rng)
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < 0.02:
        np.matmul(a, b, out=c)
        calls += 1
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=c)
        samples.append((time.perf_counter() - t0) / calls)
    return statistics.median(samples)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    results = []
    for label, m, k, n, ta, tb in SHAPES:
        sec = time_shape(m, k, n, ta, tb, reps)
        results.append({"engine": "numpy", "label": label, "m": m, "k": k, "n": n,
                        "gflops": 2.0 * m * n * k / sec / 1e9, "us_per_call": sec * 1e6})
    print(json.dumps({"numpy": np.__version__, "results": results}))


if __name__ == "__main__":
    main()
