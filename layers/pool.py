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
slice of x, so the max is an elementwise maximum of a few slices and backward
adds dout into a few slices of dx, never two windows onto one pixel at once.
"""

import numpy as np

from ._checks import (
    as_float,
    check_ndim,
    check_param_dict,
    check_positive_int,
    check_shape,
    check_window,
)


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


def _dout(func, dout, shape, like):
    """Upstream gradient as a float array of the forward output's shape."""
    dout = as_float(func, "dout", dout, like=like)
    check_shape(func, "dout", dout, shape, because="(the shape of the forward output)")
    return dout


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
    dout = _dout("max_pool_backward_naive", dout, _out_shape(x.shape, PH, PW, stride), x)
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * stride:i * stride + PH, j * stride:j * stride + PW]
        ph, pw = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * stride + ph, j * stride + pw] += dout[n, c, i, j]
    return dx


def _tap(a, ph, pw, stride, Hout, Wout):
    """View of a[n, c, i*stride + ph, j*stride + pw] over all windows (i, j): (N, C, Hout, Wout)."""
    return a[:, :, ph:ph + stride * (Hout - 1) + 1:stride, pw:pw + stride * (Wout - 1) + 1:stride]


def _route(dout, winner, target, disjoint):
    """Send dout to the winners: target is the slice of dx at one window offset."""
    if disjoint:
        np.multiply(dout, winner, out=target)
    else:
        target += dout * winner              # d max / d x = 1 at the winner, else 0


def max_pool_forward_fast(x, pool_param):
    """Forward pass of max pooling as a maximum of strided slices; same values as naive.

    Inputs and outputs as max_pool_forward_naive, except the cache, which is
    (x, out, pool_param).
    """
    x, PH, PW, stride = _inputs("max_pool_forward_fast", x, pool_param)
    _, _, Hout, Wout = _out_shape(x.shape, PH, PW, stride)
    out = _tap(x, 0, 0, stride, Hout, Wout).copy()
    for ph, pw in list(np.ndindex(PH, PW))[1:]:
        np.maximum(out, _tap(x, ph, pw, stride, Hout, Wout), out=out)
    return out, (x, out, pool_param)


def max_pool_backward_fast(dout, cache):
    """Backward pass of max_pool_forward_fast; same values as max_pool_backward_naive.

    Offsets are visited in row-major window order; a window's winner is the first
    offset where x equals the window's max, and `open_` marks the windows whose
    winner is still to be found: the last offset wins all of them. When windows
    do not overlap (stride >= both window sizes) every pixel lies in at most one
    window and the slices of dx are written instead of added to.

    Inputs:
    - dout: upstream gradient, of shape (N, C, Hout, Wout)
    - cache: (x, out, pool_param) from max_pool_forward_fast

    Returns:
    - dx: of shape (N, C, H, W)
    """
    x, out, pool_param = cache
    PH, PW, stride = (pool_param[key] for key in ("pool_height", "pool_width", "stride"))
    dout = _dout("max_pool_backward_fast", dout, out.shape, x).astype(x.dtype, copy=False)
    _, _, Hout, Wout = out.shape
    disjoint = stride >= PH and stride >= PW
    tiled = stride == PH == PW and PH * Hout == x.shape[2] and PW * Wout == x.shape[3]
    dx = np.empty_like(x) if tiled else np.zeros_like(x)   # every pixel written when tiled
    open_ = np.ones(out.shape, dtype=bool)
    offsets = list(np.ndindex(PH, PW))
    for ph, pw in offsets[:-1]:
        winner = np.equal(_tap(x, ph, pw, stride, Hout, Wout), out)
        winner &= open_                      # first maximum only
        open_ ^= winner                      # winner is within open_: this removes it
        _route(dout, winner, _tap(dx, ph, pw, stride, Hout, Wout), disjoint)
    _route(dout, open_, _tap(dx, *offsets[-1], stride, Hout, Wout), disjoint)
    return dx
