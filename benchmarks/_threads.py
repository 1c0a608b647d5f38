"""Thread pinning shared by the benchmark scripts.

numpy's BLAS reads its thread count once, when it loads, so a script that wants
a given count re-executes itself with the variables set.
"""

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(threads, script, argv):
    """Re-execute script with the BLAS thread variables set to threads, unless they are.

    threads None leaves the environment as it is.
    """
    if threads is None or all(os.environ.get(var) == str(threads) for var in THREAD_VARS):
        return
    os.environ.update({var: str(threads) for var in THREAD_VARS})
    os.execv(sys.executable, [sys.executable, os.path.abspath(script), *argv])


def pinned_torch(args, script, argv):
    """Pin args.threads (re-executing script if needed), then torch with as many threads.

    Returns the torch module, or None with --no-torch or when torch is not installed.
    """
    pin_threads(args.threads, script, argv)
    if args.no_torch:
        return None
    try:
        import torch
    except ImportError:
        print("torch is not installed: timing handgrad only")
        return None
    torch.set_num_threads(args.threads)
    return torch
