"""Convolution layer: F filters of shape (C, HH, WW) slide over zero-padded images.

Shapes: N images of C channels and H x W pixels, x of shape (N, C, H, W); weights w
of shape (F, C, HH, WW), biases b of shape (F,). With `pad` zeros on every side
(xp is the padded x, Hp x Wp) and a step of `stride` pixels,
    Hout = 1 + (H + 2 * pad - HH) // stride,    Wout = 1 + (W + 2 * pad - WW) // stride
and out, of shape (N, F, Hout, Wout), is
    out[n, f, i, j] = sum_{c,kh,kw} w[f, c, kh, kw] * xp[n, c, i*stride + kh, j*stride + kw] + b[f]

The naive pair loops over that sum as written: the version to read, and the
reference for the fast pair. The fast pair copies the windows of a chunk of
images into a column matrix (im2col) through a strided view, so that the sum
becomes one BLAS matrix product per chunk: K = C * HH * WW rows, one column per
output pixel. Chunks keep the column matrix under _CHUNK_BYTES.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import (
    as_dout,
    as_float,
    check_ndim,
    check_nonnegative_int,
    check_param_dict,
    check_positive_int,
    check_shape,
    check_window,
)

_CHUNK_BYTES = 4 * 2**20    # column-matrix budget: stays in cache from the copy to the matmul


def _inputs(func, x, w, b, conv_param):
    """Validate the forward inputs; return x, w, b (one float dtype), stride, pad."""
    x = as_float(func, "x", x)
    w = as_float(func, "w", w, like=x)
    b = as_float(func, "b", b, like=x)
    check_ndim(func, "x", x, "NCHW")
    check_ndim(func, "w", w, ("F", "C", "HH", "WW"))
    check_param_dict(func, "conv_param", conv_param)
    stride = check_positive_int(func, "conv_param['stride']", conv_param.get("stride"))
    pad = check_nonnegative_int(func, "conv_param['pad']", conv_param.get("pad"))
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"{func}: w has shape {w.shape}; expected (F, {x.shape[1]}, HH, WW) "
            f"because x of shape {x.shape} has C = {x.shape[1]} channels"
        )
    check_shape(func, "b", b, (len(w),), because=f"(one per filter of w {w.shape})")
    check_window(func, "x", x, w.shape[2:], pad)
    x, w, b = (a.astype(np.result_type(x, w, b), copy=False) for a in (x, w, b))
    return x, w, b, stride, pad


def _out_shape(x_shape, w_shape, stride, pad):
    """(N, F, Hout, Wout) by floor division: windows that do not fit are dropped."""
    (N, _, H, W), (F, _, HH, WW) = x_shape, w_shape
    return N, F, 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def _pad(a, ph, pw):
    """Zero-pad the last two axes of a by ph rows and pw columns per side (negative: crop)."""
    if ph == pw == 0:
        return a
    H, W = a.shape[-2:]
    out = np.zeros((*a.shape[:-2], H + 2 * ph, W + 2 * pw), dtype=a.dtype)
    ch, cw = max(-ph, 0), max(-pw, 0)        # rows and columns cropped per side
    out[..., max(ph, 0):max(ph, 0) + H - 2 * ch, max(pw, 0):max(pw, 0) + W - 2 * cw] = (
        a[..., ch:H - ch, cw:W - cw]
    )
    return out


def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolution, one output entry at a time.

    Inputs:
    - x: images of shape (N, C, H, W)
    - w: filters of shape (F, C, HH, WW)
    - b: biases of shape (F,)
    - conv_param: dict with 'stride' (pixels between windows) and 'pad' (zeros
      added on every side of each image)

    Returns a tuple of:
    - out: of shape (N, F, Hout, Wout)
    - cache: (x, w, conv_param)
    """
    x, w, b, stride, pad = _inputs("conv_forward_naive", x, w, b, conv_param)
    _, _, HH, WW = w.shape
    xp = _pad(x, pad, pad)
    out = np.empty(_out_shape(x.shape, w.shape, stride, pad), dtype=x.dtype)
    for n, f, i, j in np.ndindex(out.shape):
        window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
        out[n, f, i, j] = np.sum(window * w[f]) + b[f]     # filter . window + bias
    return out, (x, w, conv_param)


def conv_backward_naive(dout, cache):
    """Backward pass of a convolution, one output entry at a time.

    Each out[n, f, i, j] = w[f] . window + b[f] sends dout[n, f, i, j] times
    the window to dw[f], times w[f] back onto the window's pixels, and itself
    to db[f].

    Inputs:
    - dout: upstream gradient, of shape (N, F, Hout, Wout)
    - cache: (x, w, conv_param) from conv_forward_naive

    Returns a tuple of:
    - dx: of shape (N, C, H, W)
    - dw: of shape (F, C, HH, WW)
    - db: of shape (F,)
    """
    x, w, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    dout = as_dout("conv_backward_naive", dout, _out_shape(x.shape, w.shape, stride, pad), like=x)
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    # BEGIN SOLUTION conv_backward_naive
    # HINT: loop over dout's entries; each adds dout[n, f, i, j] times its window of the padded
    # HINT: x to dw[f] and times w[f] onto that window of dxp; crop dxp's padding off to get dx
    xp = _pad(x, pad, pad)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n, f, i, j in np.ndindex(dout.shape):
        rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
        dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]   # d out / d w[f] = window
        dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]   # d out / d window = w[f]
    db = dout.sum(axis=(0, 2, 3))                          # d out / d b[f] = 1
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
    # END SOLUTION


def _windows(xp, HH, WW, stride, Hout, Wout):
    """Read-only view of every window, of shape (C, HH, WW, N, Hout, Wout).

    view[c, kh, kw, n, i, j] = xp[n, c, i*stride + kh, j*stride + kw]; no copy.
    """
    N, C = xp.shape[:2]
    sN, sC, sH, sW = xp.strides
    return as_strided(
        xp, (C, HH, WW, N, Hout, Wout), (sC, sH, sW, sN, stride * sH, stride * sW),
        writeable=False,
    )


def _chunks(N, bytes_per_image):
    """Slices of the batch whose column matrix stays under _CHUNK_BYTES (one image at least),
    and the number of images in the largest."""
    step = max(1, _CHUNK_BYTES // max(1, bytes_per_image))
    return [slice(n, min(n + step, N)) for n in range(0, N, step)], min(step, N)


def _correlate(xp, w, b, stride, Hout, Wout):
    """out[n, f] = sum_c w[f, c] (x) xp[n, c] + b[f] as im2col matrix products.

    xp (N, C, Hp, Wp), w (F, C, HH, WW), b (F,) -> out (N, F, Hout, Wout).
    Per chunk of m images: cols (K, m * P) holds the windows, one per column, and
    out = w2d (F, K) @ cols; the column and product buffers serve every chunk.
    """
    N, C = xp.shape[:2]
    F, _, HH, WW = w.shape
    K, P = C * HH * WW, Hout * Wout
    windows = _windows(xp, HH, WW, stride, Hout, Wout)
    chunks, m_max = _chunks(N, K * P * xp.itemsize)
    cols_buf = np.empty(K * m_max * P, dtype=xp.dtype)
    prod_buf = np.empty(F * m_max * P, dtype=xp.dtype)
    w2d, bias = w.reshape(F, K), b.reshape(F, 1, 1)
    out = np.empty((N, F, Hout, Wout), dtype=xp.dtype)
    for n in chunks:
        m = n.stop - n.start
        cols = cols_buf[:K * m * P].reshape(C, HH, WW, m, Hout, Wout)
        np.copyto(cols, windows[:, :, :, n])                               # im2col
        prod = prod_buf[:F * m * P].reshape(F, m * P)
        np.matmul(w2d, cols.reshape(K, m * P), out=prod)                   # (F, m * P)
        np.add(prod.reshape(F, m, Hout, Wout).transpose(1, 0, 2, 3), bias, out=out[n])
    return out


def conv_forward_fast(x, w, b, conv_param):
    """Forward pass of a convolution as im2col matrix products; same values as naive.

    Inputs and outputs as conv_forward_naive, except the cache, which is
    (xp, w, conv_param) with xp the zero-padded x.
    """
    x, w, b, stride, pad = _inputs("conv_forward_fast", x, w, b, conv_param)
    xp = _pad(x, pad, pad)
    _, _, Hout, Wout = _out_shape(x.shape, w.shape, stride, pad)
    return _correlate(xp, w, b, stride, Hout, Wout), (xp, w, conv_param)


def _backward_columns(dout, xp, w, stride, need_dxp):
    """dw (and, when need_dxp, dxp by scattering the column gradients back).

    Per chunk: dw += dout2d (F, m * P) @ cols^T, and dcols = w2d^T @ dout2d
    (K, m * P), whose entry (c, kh, kw) for window (i, j) is added to
    dxp[n, c, i*stride + kh, j*stride + kw]: one strided add per (kh, kw),
    never two writes to one pixel within an add.
    """
    N, F, Hout, Wout = dout.shape
    _, C, HH, WW = w.shape
    K, P = C * HH * WW, Hout * Wout
    windows = _windows(xp, HH, WW, stride, Hout, Wout)
    chunks, m_max = _chunks(N, K * P * xp.itemsize)
    cols_buf = np.empty(K * m_max * P, dtype=xp.dtype)
    w2d = w.reshape(F, K)
    dw2d = np.zeros((F, K), dtype=xp.dtype)
    dxp = np.zeros_like(xp) if need_dxp else None
    for n in chunks:
        m = n.stop - n.start
        cols = cols_buf[:K * m * P].reshape(C, HH, WW, m, Hout, Wout)
        np.copyto(cols, windows[:, :, :, n])
        dout2d = dout[n].transpose(1, 0, 2, 3).reshape(F, m * P)
        dw2d += dout2d @ cols.reshape(K, m * P).T          # dw = dout2d cols^T
        if need_dxp:
            np.matmul(w2d.T, dout2d, out=cols.reshape(K, m * P))   # dcols = w2d^T dout2d
            for kh, kw in np.ndindex(HH, WW):
                target = dxp[n, :, kh:kh + stride * (Hout - 1) + 1:stride,
                             kw:kw + stride * (Wout - 1) + 1:stride]
                target += cols[:, kh, kw].transpose(1, 0, 2, 3)
    return dxp, dw2d.reshape(w.shape)


def _backward_flipped(dout, w, pad, H, W):
    """dx for stride 1 as a convolution of dout with the flipped filters.

    dx[n, c, y, x] = sum_{f, kh, kw} dout[n, f, y + pad - kh, x + pad - kw] w[f, c, kh, kw],
    a correlation of dout, padded by HH - 1 - pad (negative: cropped), with
    w transposed to (C, F, HH, WW) and flipped in both spatial axes.
    """
    C, HH, WW = w.shape[1:]
    doutp = _pad(dout, HH - 1 - pad, WW - 1 - pad)
    w_flipped = w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
    return _correlate(doutp, w_flipped, np.zeros(C, dtype=w.dtype), 1, H, W)


def conv_backward_fast(dout, cache, need_dx=True):
    """Backward pass of conv_forward_fast; same values as conv_backward_naive.

    Inputs:
    - dout: upstream gradient, of shape (N, F, Hout, Wout)
    - cache: (xp, w, conv_param) from conv_forward_fast
    - need_dx: False skips dx (returned as None) where nothing consumes it, as
      at a network's input layer

    Returns a tuple of:
    - dx: of shape (N, C, H, W), or None when need_dx is False
    - dw: of shape (F, C, HH, WW)
    - db: of shape (F,)
    """
    xp, w, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, Hp, Wp = xp.shape
    F, H, W = len(w), Hp - 2 * pad, Wp - 2 * pad
    out_shape = _out_shape((N, C, H, W), w.shape, stride, pad)
    dout = as_dout("conv_backward_fast", dout, out_shape, like=xp).astype(xp.dtype, copy=False)
    flipped = need_dx and stride == 1 and C >= F     # smaller im2col than the scatter's
    dxp, dw = _backward_columns(dout, xp, w, stride, need_dx and not flipped)
    if flipped:
        dx = _backward_flipped(dout, w, pad, H, W)
    else:
        dx = dxp[:, :, pad:pad + H, pad:pad + W] if need_dx else None
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db
