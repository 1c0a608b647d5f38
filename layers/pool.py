"""Max pooling: the largest value of every pool_height x pool_width window.

Shapes: x is (N, C, H, W); windows start every `stride` pixels (they may overlap,
and those that do not fit are dropped), so out is (N, C, Hout, Wout) with
    Hout = 1 + (H - pool_height) // stride,    Wout = 1 + (W - pool_width) // stride
    out[n, c, i, j] = max_{ph, pw} x[n, c, i*stride + ph, j*stride + pw]
The max routes each dout[n, c, i, j] to one winner of its window: the first
maximum in row-major window order (the entry np.argmax picks), also on ties.

The naive pair loops over the windows. The fast pair loops over the
pool_height * pool_width window offsets instead: for one offset (ph, pw), the
entries x[n, c, i*stride + ph, j*stride + pw] of all windows form one strided
slice of x, so the max is an elementwise maximum of a few slices. Forward also
keeps where each window's winner lies, as one small integer: its offset from the
window's top-left pixel. Backward then scatters dout to the winners in one numpy
call, or, where windows overlap and a pixel may win several, adds it slice by
slice. Both split the batch into a few blocks per core, as the BLAS does for
conv: numpy lets go of the GIL inside each call, and a few large calls cost less
than many small ones.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from ._checks import (
    as_dout,
    as_float,
    check_ndim,
    check_param_dict,
    check_positive_int,
    check_window,
)


def _thread_count():
    """OMP_NUM_THREADS when it is set (as the BLAS reads it), else the usable cores."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# The fast pair splits the batch into _BLOCKS_PER_THREAD blocks for each of _THREADS
# threads when x has _PARALLEL_MIN entries or more; below that, handing work to
# threads costs more than it saves.
_THREADS = _thread_count()
_PARALLEL_MIN = 2**16
_BLOCKS_PER_THREAD = 4
_executor = None


def _forget_executor():
    """A forked child has none of the parent's threads: it starts its own executor."""
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def _inputs(func, x, pool_param):
    """Validate the forward inputs; return x, pool_height, pool_width, stride."""
    x = as_float(func, "x", x)
    check_ndim(func, "x", x, "NCHW")
    check_param_dict(func, "pool_param", pool_param)
    PH, PW, stride = (
        check_positive_int(func, f"pool_param[{key!r}]", pool_param.get(key))
        for key in ("pool_height", "pool_width", "stride")
    )
    check_window(func, "x", x, (PH, PW))
    return x, PH, PW, stride


def _out_shape(x_shape, PH, PW, stride):
    """(N, C, Hout, Wout) by floor division: windows that do not fit are dropped."""
    N, C, H, W = x_shape
    return N, C, 1 + (H - PH) // stride, 1 + (W - PW) // stride


def max_pool_forward_naive(x, pool_param):
    """Forward pass of max pooling, one window at a time.

    Inputs:
    - x: data of shape (N, C, H, W)
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride'

    Returns a tuple of:
    - out: of shape (N, C, Hout, Wout)
    - cache: (x, pool_param)
    """
    x, PH, PW, stride = _inputs("max_pool_forward_naive", x, pool_param)
    out = np.empty(_out_shape(x.shape, PH, PW, stride), dtype=x.dtype)
    for n, c, i, j in np.ndindex(out.shape):
        out[n, c, i, j] = x[n, c, i * stride:i * stride + PH, j * stride:j * stride + PW].max()
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Backward pass of max pooling, one window at a time.

    d max(window) / d window is 1 at the winner (np.argmax: the first maximum)
    and 0 elsewhere, so each dout entry is added to its window's winner.

    Inputs:
    - dout: upstream gradient, of shape (N, C, Hout, Wout)
    - cache: (x, pool_param) from max_pool_forward_naive

    Returns:
    - dx: of shape (N, C, H, W)
    """
    x, pool_param = cache
    PH, PW, stride = (pool_param[key] for key in ("pool_height", "pool_width", "stride"))
    dout = as_dout("max_pool_backward_naive", dout, _out_shape(x.shape, PH, PW, stride), like=x)
    # BEGIN SOLUTION max_pool_backward_naive
    # HINT: for each dout entry find its window's first maximum (np.argmax, np.unravel_index)
    # HINT: and add the entry to dx there; overlapping windows add up
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * stride:i * stride + PH, j * stride:j * stride + PW]
        ph, pw = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * stride + ph, j * stride + pw] += dout[n, c, i, j]
    # END SOLUTION
    return dx


def _tap(a, ph, pw, stride, Hout, Wout):
    """View of a[n, c, i*stride + ph, j*stride + pw] over all windows (i, j): (N, C, Hout, Wout)."""
    return a[:, :, ph:ph + stride * (Hout - 1) + 1:stride, pw:pw + stride * (Wout - 1) + 1:stride]


def _in_parallel(work, N, size):
    """Run work(batch_slice) over blocks of the batch on _THREADS threads side by side.

    Each thread, the calling one included, takes the next block until none is
    left, so a thread slowed down by other work on its core takes fewer. The
    blocks write disjoint slices of the outputs, so the result does not depend
    on the split; inputs of fewer than _PARALLEL_MIN entries run in one piece.
    """
    parts = min(N, _BLOCKS_PER_THREAD * _THREADS) if size >= _PARALLEL_MIN else 1
    blocks = iter([slice(N * k // parts, N * (k + 1) // parts) for k in range(parts)])
    handing_out = threading.Lock()

    def take_blocks():
        while True:
            with handing_out:                # each block goes to one thread
                block = next(blocks, None)
            if block is None:
                return
            work(block)

    if parts == 1 or _THREADS == 1:
        return take_blocks()
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="max_pool")
    others = [_executor.submit(take_blocks) for _ in range(_THREADS - 1)]
    try:
        take_blocks()
    finally:
        wait(others)                         # no worker writes on after this returns or raises
    for other in others:
        other.result()                       # re-raises a worker's error here
    return None


def _window_offsets(W, PH, PW):
    """ph * W + pw for each window offset (ph, pw) in row-major order, increasing.

    That is where the entry at (ph, pw) of a window lies in the flattened image
    x[n, c], counted from the window's top-left pixel.
    """
    return [ph * W + pw for ph, pw in np.ndindex(PH, PW)]


def _route_nan_to_the_first(best, best_arg, taps, offsets):
    """Where a window's max is NaN, make its winner its first NaN (NaN > v is False)."""
    is_nan = np.isnan(best)
    if is_nan.any():
        for tap, offset in reversed(list(zip(taps, offsets, strict=True))):
            best_arg[is_nan & np.isnan(tap)] = offset


def max_pool_forward_fast(x, pool_param):
    """Forward pass of max pooling as a maximum of strided slices; same values as naive.

    Offsets are visited in row-major window order and a later offset takes a
    window over only when strictly greater, so `arg` ends up holding each
    window's first maximum as its offset ph * W + pw from the window's top-left
    pixel (uint8 or uint16 for most images): all that backward needs. A window
    holding a NaN has the max NaN and routes to its first NaN, as np.max and
    np.argmax do.

    Inputs and outputs as max_pool_forward_naive, except the cache, which is
    (x.shape, x.dtype, arg, pool_param) with arg of shape (N, C, Hout, Wout).
    """
    x, PH, PW, stride = _inputs("max_pool_forward_fast", x, pool_param)
    N, C, Hout, Wout = _out_shape(x.shape, PH, PW, stride)
    offsets = _window_offsets(x.shape[3], PH, PW)
    out = np.empty((N, C, Hout, Wout), dtype=x.dtype)
    arg = np.zeros((N, C, Hout, Wout), dtype=np.min_scalar_type(offsets[-1]))

    def work(n):
        taps = [_tap(x[n], ph, pw, stride, Hout, Wout) for ph, pw in np.ndindex(PH, PW)]
        best, best_arg = out[n], arg[n]
        np.copyto(best, taps[0])
        better = np.empty(best.shape, dtype=bool)
        # offset * better, in better's own bytes when the offsets fit in one byte
        taken = better.view(np.uint8) if arg.itemsize == 1 else np.empty_like(best_arg)
        candidate = np.empty_like(best)     # one strided read per tap; the rest runs contiguous
        for tap, offset in zip(taps[1:], offsets[1:], strict=True):
            np.copyto(candidate, tap)
            np.greater(candidate, best, out=better)     # strict: the first maximum stays
            # best_arg < offset so far, so max(best_arg, offset * better) is offset exactly
            # where tap is better
            np.multiply(better.view(np.uint8), arg.dtype.type(offset), out=taken)
            np.maximum(best_arg, taken, out=best_arg)
            np.maximum(best, candidate, out=best)
        _route_nan_to_the_first(best, best_arg, taps, offsets)

    _in_parallel(work, N, x.size)
    return out, (x.shape, x.dtype, arg, pool_param)


def max_pool_backward_fast(dout, cache):
    """Backward pass of max_pool_forward_fast; same values as max_pool_backward_naive.

    d max / d x is 1 at the window's winner and 0 elsewhere. When windows do not
    overlap (stride >= both window sizes), every pixel wins one window at most,
    and one scatter writes dout to the winners' flat indices: the window's
    top-left pixel plus arg. When they overlap, a pixel may win several windows:
    for each offset, the windows won there add dout to that strided slice of dx.

    Inputs:
    - dout: upstream gradient, of shape (N, C, Hout, Wout)
    - cache: (x.shape, x.dtype, arg, pool_param) from max_pool_forward_fast

    Returns:
    - dx: of shape (N, C, H, W)
    """
    x_shape, dtype, arg, pool_param = cache
    PH, PW, stride = (pool_param[key] for key in ("pool_height", "pool_width", "stride"))
    dout = as_dout("max_pool_backward_fast", dout, arg.shape).astype(dtype, copy=False)
    dx = np.empty(x_shape, dtype=dtype)
    if stride >= PH and stride >= PW:
        route = _scatter_to_winners(dx, dout, arg, stride)
    else:
        route = _add_to_winners(dx, dout, arg, stride, PH, PW)

    def work(n):
        dx[n] = 0                            # each thread clears its own blocks
        route(n)

    _in_parallel(work, len(dx), dx.size)
    return dx


def _scatter_to_winners(dx, dout, arg, stride):
    """route(n) for disjoint windows: dx[n].flat[top-left pixel + arg] = dout[n]."""
    _, C, Hout, Wout = arg.shape
    H, W = dx.shape[2:]
    # flat index in x[n] of each window's top-left pixel (c, i * stride, j * stride)
    corner = (np.arange(C)[:, None, None] * (H * W) + np.arange(Hout)[:, None] * (stride * W)
              + np.arange(Wout) * stride)

    def route(n):
        winners = np.add(arg[n], corner, dtype=np.intp)
        winners += (np.arange(len(winners)) * (C * H * W))[:, None, None, None]   # image in block
        dx[n].reshape(-1)[winners.reshape(-1)] = dout[n].reshape(-1)

    return route


def _add_to_winners(dx, dout, arg, stride, PH, PW):
    """route(n) for overlapping windows: each offset's slice of dx adds dout where it won."""
    Hout, Wout = arg.shape[2:]
    offsets = _window_offsets(dx.shape[3], PH, PW)

    def route(n):
        for offset, (ph, pw) in zip(offsets, np.ndindex(PH, PW), strict=True):
            won = np.equal(arg[n], arg.dtype.type(offset))
            target = _tap(dx[n], ph, pw, stride, Hout, Wout)
            target += dout[n] * won          # d max / d x = 1 at the winner, else 0

    return route
