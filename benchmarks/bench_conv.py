"""Time handgrad's fast convolution and max pooling against naive loops and PyTorch on CPU.

Two convolutions, forward plus backward (dx, dw, db), stride 1:
    A: N=50, C=3, 32x32 images, F=32 filters of 7x7, pad 3
    B: N=64, C=64, 32x32 images, F=64 filters of 3x3, pad 1
and a 2x2 stride-2 max pool, forward plus backward, of each conv's output
(A: 50x32x32x32, B: 64x64x32x32), in float32 and float64. For each the script
prints the median ms of handgrad's fast layers and of torch (conv2d/max_pool2d
with autograd, the same thread count), the ratio handgrad/torch, the speed-up
over the naive loops (timed on a few images and extrapolated to N: the loops
cost the same per image), and the peak memory that numpy allocates in forward
plus backward (tracemalloc) next to the size of x.

Each layer is timed against its torch twin, the two alternating turn by turn, so
that load from other processes on a shared machine hits both alike; medians are
reported. The conv pair and the pool pair are timed apart: right after a conv,
the BLAS threads of numpy (or torch) still spin for a while and would slow down
whichever pool came next.

Usage:
    python benchmarks/bench_conv.py [--threads 2] [--repeats 9] [--naive-images 1] [--no-torch]

The thread count is fixed before numpy loads: the script re-executes itself
with OMP/OPENBLAS/MKL_NUM_THREADS set when they differ from --threads. Without
torch installed (or with --no-torch) the torch and ratio columns read nan.
"""

import argparse
import sys
import time
import tracemalloc

import numpy as np
from _threads import pinned_torch

import layers

CONVS = {  # name: (x shape, w shape, pad)
    "A 7x7": ((50, 3, 32, 32), (32, 3, 7, 7), 3),
    "B 3x3": ((64, 64, 32, 32), (64, 64, 3, 3), 1),
}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
TARGETS = {"conv float32": 2.0, "conv float64": 1.0, "pool": 1.0, "speed-up": 150}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (2)")
    parser.add_argument("--repeats", type=int, default=9, help="timed turns, median kept (9)")
    parser.add_argument("--naive-images", type=int, default=1,
                        help="images timed with the naive loops, extrapolated to N (1)")
    parser.add_argument("--no-torch", action="store_true", help="time handgrad only")
    return parser.parse_args(argv)


def median_ms(fns, repeats):
    """Median ms of each function, timed in alternating turns after one warm-up call."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [1e3 * float(np.median(t)) for t in times]


def side_by_side_ms(step, twin, repeats):
    """(median ms of step, of its torch twin): timed in alternating turns; nan without torch."""
    if twin is None:
        return median_ms([step], repeats)[0], float("nan")
    return tuple(median_ms([step, twin], repeats))


def peak_mb(fn):
    """Peak MB that numpy allocates while fn runs (tracemalloc sees numpy's buffers)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def conv_step(kind, x, w, b, conv_param, dout):
    """One forward and backward pass of the naive or fast conv."""
    forward, backward = (getattr(layers, f"conv_{d}_{kind}") for d in ("forward", "backward"))
    return lambda: backward(dout, forward(x, w, b, conv_param)[1])


def pool_step(kind, x, dout):
    """One forward and backward pass of the naive or fast max pool."""
    forward, backward = (getattr(layers, f"max_pool_{d}_{kind}") for d in ("forward", "backward"))
    return lambda: backward(dout, forward(x, POOL)[1])


def torch_steps(torch, x, w, b, pad, dout, pool_x, pool_dout):
    """(conv step, pool step) of torch autograd on the same arrays."""
    F = torch.nn.functional
    xt, wt, bt, pt = (torch.tensor(a, requires_grad=True) for a in (x, w, b, pool_x))
    dout_t, pool_dout_t = torch.tensor(dout), torch.tensor(pool_dout)

    def conv():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, padding=pad).backward(dout_t)

    def pool():
        pt.grad = None
        F.max_pool2d(pt, 2, 2).backward(pool_dout_t)

    return conv, pool


def naive_ms(step, images, N):
    """ms of one naive call on `images` images, scaled to N images."""
    start = time.perf_counter()
    step()
    return 1e3 * (time.perf_counter() - start) * N / images


def bench(name, dtype, args, torch):
    """Time and measure one conv shape and its pool in one dtype; returns printable rows."""
    (x_shape, w_shape, pad), rng = CONVS[name], np.random.default_rng(0)
    x, w = rng.normal(size=x_shape).astype(dtype), rng.normal(size=w_shape).astype(dtype)
    b, conv_param = rng.normal(size=w_shape[0]).astype(dtype), {"stride": 1, "pad": pad}
    out = layers.conv_forward_fast(x, w, b, conv_param)[0]
    dout = rng.normal(size=out.shape).astype(dtype)
    pool_dout = rng.normal(size=layers.max_pool_forward_fast(out, POOL)[0].shape).astype(dtype)
    steps = [conv_step("fast", x, w, b, conv_param, dout), pool_step("fast", out, pool_dout)]
    twins = [None, None]
    if torch is not None:
        twins = torch_steps(torch, x, w, b, pad, dout, out, pool_dout)
    (conv_ms, conv_ref), (pool_ms, pool_ref) = (
        side_by_side_ms(step, twin, args.repeats) for step, twin in zip(steps, twins, strict=True))
    n = args.naive_images
    naive = [naive_ms(conv_step("naive", x[:n], w, b, conv_param, dout[:n]), n, len(x)),
             naive_ms(pool_step("naive", out[:n], pool_dout[:n]), n, len(x))]
    memory = [peak_mb(step) for step in steps[:2]]
    dtype_name, mb = np.dtype(dtype).name, 2**20
    return [(f"conv {name}", dtype_name, conv_ms, conv_ref, naive[0], memory[0], x.nbytes / mb),
            (f"pool {name}", dtype_name, pool_ms, pool_ref, naive[1], memory[1], out.nbytes / mb)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    torch = pinned_torch(args, __file__, argv)      # None without torch: a note, then nan
    print(f"threads: {args.threads} (numpy BLAS and torch), repeats: {args.repeats}, "
          f"naive extrapolated from {args.naive_images} image(s)")
    print(f"{'layer':<12}{'dtype':>8}{'fast ms':>10}{'torch ms':>10}{'ratio':>8}"
          f"{'naive ms':>11}{'speed-up':>10}{'peak MB':>9}{'x MB':>7}")
    for dtype in (np.float32, np.float64):
        for name in CONVS:
            for layer, dt, fast, ref, naive, peak, size in bench(name, dtype, args, torch):
                print(f"{layer:<12}{dt:>8}{fast:>10.1f}{ref:>10.1f}{fast / ref:>8.2f}"
                      f"{naive:>11.0f}{naive / fast:>9.0f}x{peak:>9.1f}{size:>7.1f}")
    print("targets: ratio <= 2.0 (conv float32), <= 1.0 (conv float64, pool); speed-up >= 150x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
