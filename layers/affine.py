"""Affine (fully connected) layer: out = x2d @ w + b.

Shapes: N examples; x of shape (N, d1, ..., dk) is flattened to x2d of shape
(N, D) with D = d1 * ... * dk; w is (D, M), b is (M,), out is (N, M).
"""

import math

from ._checks import as_float, check_min_ndim, check_ndim, check_shape


def affine_forward(x, w, b):
    """Forward pass of an affine layer.

    Inputs:
    - x: input of shape (N, d1, ..., dk)
    - w: weights of shape (D, M), D = d1 * ... * dk
    - b: biases of shape (M,)

    Returns a tuple of:
    - out: output of shape (N, M)
    - cache: (x, w)
    """
    x = as_float("affine_forward", "x", x)
    w = as_float("affine_forward", "w", w, like=x)
    b = as_float("affine_forward", "b", b, like=x)
    check_min_ndim("affine_forward", "x", x, 2, "(N, d1, ..., dk)")
    check_ndim("affine_forward", "w", w, "DM")
    D = math.prod(x.shape[1:])
    if w.shape[0] != D:
        raise ValueError(
            f"affine_forward: w has shape {w.shape}; expected ({D}, M) "
            f"because x of shape {x.shape} flattens to D = {D} features"
        )
    check_shape("affine_forward", "b", b, (w.shape[1],), because=f"(one per column of w {w.shape})")
    out = x.reshape(len(x), D) @ w + b       # (N, M)
    return out, (x, w)


def affine_backward(dout, cache, need_dx=True):
    """Backward pass of out = x2d @ w + b.

    Inputs:
    - dout: upstream gradient, of shape (N, M)
    - cache: (x, w) from affine_forward
    - need_dx: False skips dx (returned as None) where nothing consumes it, as
      at a network's input layer: one matmul saved out of three

    Returns a tuple of:
    - dx: of shape (N, d1, ..., dk), or None when need_dx is False
    - dw: of shape (D, M)
    - db: of shape (M,)
    """
    x, w = cache
    dout = as_float("affine_backward", "dout", dout, like=x)
    check_shape("affine_backward", "dout", dout, (len(x), w.shape[1]))
    # BEGIN SOLUTION affine_backward
    # HINT: flatten x to x2d (N, D); dx = dout w^T reshaped like x (None when not need_dx),
    # HINT: dw = x2d^T dout, db = dout summed over the batch
    x2d = x.reshape(len(x), -1)              # (N, D)
    dx = (dout @ w.T).reshape(x.shape) if need_dx else None   # dx = dout w^T
    dw = x2d.T @ dout                        # dw = x^T dout
    db = dout.sum(axis=0)                    # db = 1^T dout
    # END SOLUTION
    return dx, dw, db
