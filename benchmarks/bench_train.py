"""Time one training step of handgrad's fully connected nets against PyTorch on CPU.

A step is forward, softmax loss, backward and an SGD update of every parameter:
handgrad's model.loss(X, y) plus solver.optim.sgd, PyTorch's nn.Sequential of
Linear/ReLU layers with cross_entropy, loss.backward() and torch.optim.SGD.
Both run with the same number of BLAS threads on the same batch, in float32
and float64. Besides ms/step, samples/s and the ratio handgrad/torch, the
script times numpy alone on the matrix multiplies the step needs (forward,
dW and, except at the input layer, dX) and prints the fraction of that bare
matmul speed the whole step achieves.

Usage:
    python benchmarks/bench_train.py [--threads 2] [--steps 10] [--repeats 7] [--reg 0] [--no-torch]

The thread count is fixed before numpy loads: the script re-executes itself
with OMP/OPENBLAS/MKL_NUM_THREADS set when they differ from --threads.
"""

import argparse
import itertools
import os
import sys
import time

import numpy as np
from _threads import pin_threads

from models import FullyConnectedNet, TwoLayerNet
from solver.optim import sgd

SHAPES = {  # name: (layer sizes D, H1, ..., C; batch size)
    "3072-100-10": ((3072, 100, 10), 200),
    "3072-512-512-10": ((3072, 512, 512, 10), 256),
}
LEARNING_RATE = 1e-3


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (2)")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed turn (10)")
    parser.add_argument("--repeats", type=int, default=7, help="timed turns; the best is kept (7)")
    parser.add_argument("--reg", type=float, default=0.0,
                        help="L2 strength on both sides: 0.5 reg sum(W^2) in the loss (0)")
    parser.add_argument("--no-torch", action="store_true", help="time handgrad and numpy only")
    return parser.parse_args(argv)


def best_ms_per_step(step_fns, steps, repeats):
    """Best mean ms per step of each function, timed in turns so that load from
    other processes hits every contender alike (a shared machine is noisy)."""
    for step in step_fns:
        for _ in range(3):                   # warm up: allocations, BLAS threads, caches
            step()
    best = [float("inf")] * len(step_fns)
    for _ in range(repeats):
        for k, step in enumerate(step_fns):
            start = time.perf_counter()
            for _ in range(steps):
                step()
            best[k] = min(best[k], 1e3 * (time.perf_counter() - start) / steps)
    return best


def make_handgrad(dims, dtype, reg):
    """The handgrad net of these layer sizes: TwoLayerNet for one hidden layer."""
    np.random.seed(0)  # noqa: NPY002 (models draw weights from the global state by contract)
    if len(dims) == 3:
        return TwoLayerNet(dims[0], dims[1], dims[2], weight_scale=1e-2, reg=reg, dtype=dtype)
    return FullyConnectedNet(list(dims[1:-1]), input_dim=dims[0], num_classes=dims[-1],
                             weight_scale=1e-2, reg=reg, dtype=dtype)


def handgrad_step(model, X, y):
    """One training step: loss and gradients, then sgd on every parameter."""
    configs = {name: {"learning_rate": LEARNING_RATE} for name in model.params}

    def step():
        _, grads = model.loss(X, y)
        for name, w in model.params.items():
            model.params[name], configs[name] = sgd(w, grads[name], configs[name])
    return step


def torch_step(torch, dims, X, y, dtype, reg):
    """The same step in PyTorch: Sequential(Linear, ReLU, ..., Linear), cross_entropy, SGD."""
    torch.manual_seed(0)
    layers = []
    for d_in, d_out in itertools.pairwise(dims):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).to(dtype)
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    weights = [layer.weight for layer in net if isinstance(layer, torch.nn.Linear)]

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(Xt), yt)
        if reg:
            loss = loss + 0.5 * reg * sum((w * w).sum() for w in weights)
        loss.backward()
        optimizer.step()
    return step


def matmul_step(dims, X, dtype, rng):
    """numpy alone on the step's matmuls: x W forward; x^T dout, and dout W^T but at the input."""
    N = len(X)
    Ws = [rng.standard_normal((a, b)).astype(dtype) for a, b in itertools.pairwise(dims)]
    acts = [X] + [rng.standard_normal((N, b)).astype(dtype) for b in dims[1:-1]]
    douts = [rng.standard_normal((N, b)).astype(dtype) for b in dims[1:]]

    def step():
        for x, W in zip(acts, Ws, strict=True):
            x @ W
        for l, (x, W, dout) in enumerate(zip(acts, Ws, douts, strict=True)):
            x.T @ dout
            if l > 0:
                dout @ W.T
    return step


def step_gflop(dims, N):
    """Floating-point operations of the matmuls in one step, in GFLOP (2 per multiply-add)."""
    pairs = itertools.pairwise(dims)
    flop = sum(2 * N * a * b * (3 if l > 0 else 2) for l, (a, b) in enumerate(pairs))
    return flop / 1e9


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pin_threads(args.threads, __file__, argv)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not installed: timing handgrad and numpy only")
    if torch is not None:
        torch.set_num_threads(args.threads)
    load, cores = os.getloadavg()[0], os.cpu_count()
    if load > cores - args.threads + 0.5:
        print(f"warning: load average {load:.1f} on {cores} cores before this run; "
              "other processes compete for the CPU and the figures are unreliable")
    print(f"threads {args.threads}, reg {args.reg}, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else ""))
    print(f"{'net':17} {'dtype':8} {'batch':>5} {'handgrad ms':>11} {'torch ms':>9} "
          f"{'ratio':>6} {'samples/s':>10} {'GFLOP/s':>8} {'of matmul':>9}")
    rng = np.random.default_rng(0)
    for name, (dims, N) in SHAPES.items():
        for dtype in (np.float32, np.float64):
            X = rng.standard_normal((N, dims[0])).astype(dtype)
            y = rng.integers(dims[-1], size=N)
            contenders = [handgrad_step(make_handgrad(dims, dtype, args.reg), X, y),
                          matmul_step(dims, X, dtype, rng)]
            if torch is not None:
                torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
                contenders.append(torch_step(torch, dims, X, y, torch_dtype, args.reg))
            ours, bare, *theirs = best_ms_per_step(contenders, args.steps, args.repeats)
            theirs = theirs[0] if theirs else float("nan")
            ratio = ours / theirs
            gflops = step_gflop(dims, N) / (ours / 1e3)
            print(f"{name:17} {np.dtype(dtype).name:8} {N:5d} {ours:11.2f} {theirs:9.2f} "
                  f"{ratio:6.2f} {N / (ours / 1e3):10.0f} {gflops:8.1f} {bare / ours:9.0%}")
    print("ratio = handgrad ms / torch ms (<= 1.0: handgrad at least as fast); "
          "of matmul = numpy's time for the step's matmuls alone / handgrad's step time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
