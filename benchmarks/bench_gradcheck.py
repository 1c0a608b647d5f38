"""Time the gradient checker: the whole-library run, a big fast model check, a small full one.

Three wall times, medians over repeats:
    library   the `gradcheck` command with no target (every built-in layer, gate and
              model), called in-process as gradcheck.cli.main([]), output discarded
    fast      check_model(FullyConnectedNet([100, 100], input_dim=3072, num_classes=10,
              dtype=np.float64), X (20, 3072), y, fast=True)    (target: < 2 s)
    full      check_model of a small FullyConnectedNet (12-8-7-4, batchnorm, reg 0.1) on
              6 examples, every entry of every parameter
The fast and full rows also print how many times model.loss was called.

Usage:
    python benchmarks/bench_gradcheck.py [--repeats 5] [--threads N]

--threads N re-executes the script with OMP/OPENBLAS/MKL_NUM_THREADS=N before numpy
loads; without it the environment's BLAS threading is used as is. On a shared,
loaded machine small matrix products are much slower with several BLAS threads.
"""

import argparse
import contextlib
import io
import os
import sys
import time

import numpy as np
from _threads import THREAD_VARS, pin_threads

import models
from gradcheck import check_model
from gradcheck.cli import main as gradcheck_main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs, median kept (5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the environment's)")
    return parser.parse_args(argv)


def counted(model):
    """Wrap model.loss to count its calls; returns the list that grows by one per call."""
    calls, loss = [], model.loss

    def loss_counted(X, y=None):
        calls.append(1)
        return loss(X, y)

    model.loss = loss_counted
    return calls


def fast_case():
    np.random.seed(0)  # noqa: NPY002 (models draw weights from the global state)
    model = models.FullyConnectedNet([100, 100], input_dim=3072, num_classes=10,
                                     dtype=np.float64)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3072)), rng.integers(10, size=20)
    calls = counted(model)
    return lambda: check_model(model, X, y, fast=True), calls


def full_case():
    np.random.seed(0)  # noqa: NPY002
    model = models.FullyConnectedNet([8, 7], input_dim=12, num_classes=4, weight_scale=0.3,
                                     reg=0.1, normalization="batchnorm", dtype=np.float64)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 12)), rng.integers(4, size=6)
    calls = counted(model)
    return lambda: check_model(model, X, y), calls


def library():
    with contextlib.redirect_stdout(io.StringIO()):
        code = gradcheck_main([])
    if code != 0:
        raise SystemExit(f"bench_gradcheck: gradcheck on the library exited {code}")


def timed(fn, repeats):
    """Median and max wall seconds of fn over repeats runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if result is not None and not result.passed:
            raise SystemExit(f"bench_gradcheck: {result.name} did not pass:\n{result}")
    return float(np.median(times)), max(times)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pin_threads(args.threads, __file__, argv)
    threads = {var: os.environ.get(var, "-") for var in THREAD_VARS}
    print(f"repeats: {args.repeats}, cores: {os.cpu_count()}, "
          + ", ".join(f"{k}={v}" for k, v in threads.items()))
    print(f"{'check':<10}{'median s':>10}{'max s':>9}{'loss calls':>12}")
    fast, fast_calls = fast_case()
    full, full_calls = full_case()
    for name, fn, calls, target in [("library", library, None, "< 15 s"),
                                    ("fast", fast, fast_calls, "< 2 s"),
                                    ("full", full, full_calls, "")]:
        median, worst = timed(fn, args.repeats)
        per_run = "-" if calls is None else str(len(calls) // (args.repeats + 1))
        print(f"{name:<10}{median:>10.3f}{worst:>9.3f}{per_run:>12}  {target}")


if __name__ == "__main__":
    main()
