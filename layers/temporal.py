"""Layers applied at every time step: word embeddings, temporal affine, temporal softmax loss.

Shapes: N sequences, T time steps, V words (or symbols) in the vocabulary, D
features, M outputs. Indices x (N, T) pick rows of W (V, D); a temporal layer
treats the N * T positions as one batch, except the loss, which is averaged over
N only (summed over the steps).
"""

import numpy as np

from ._checks import (
    as_array,
    as_dout,
    as_float,
    check_batch,
    check_finite,
    check_ndim,
    check_shape,
)


def word_embedding_forward(x, W):
    """Look up each word's vector: out[n, t] = W[x[n, t]].

    Inputs:
    - x: integer word indices of shape (N, T), each in [0, V)
    - W: word vectors of shape (V, D)

    Returns a tuple of:
    - out: of shape (N, T, D)
    - cache: (x, W)
    """
    func = "word_embedding_forward"
    W = as_float(func, "W", W)
    check_ndim(func, "W", W, "VD")
    x = check_indices(func, "x", x, len(W))
    check_ndim(func, "x", x, "NT")
    return W[x], (x, W)


def check_indices(func, name, x, V):
    """Integer indices (any shape) with values in [0, V); returns them as intp."""
    x = as_array(func, name, x)
    if x.dtype.kind not in "iu":
        raise ValueError(f"{func}: {name} must hold integer indices, got dtype {x.dtype}")
    if x.size and (x.min() < 0 or x.max() >= V):
        raise ValueError(
            f"{func}: {name} has indices in [{x.min()}, {x.max()}]; expected [0, {V}) "
            f"for V = {V}"
        )
    return x.astype(np.intp, copy=False)


def word_embedding_backward(dout, cache):
    """Backward pass of out = W[x]: dW[v] = sum of dout[n, t] over every (n, t) with x[n, t] = v.

    A word that appears several times gets the sum of its upstream gradients:
    dW[x] = dout would keep only one of them (numpy's fancy assignment does not
    add up repeated indices); np.add.at does.

    Inputs:
    - dout: upstream gradient, of shape (N, T, D)
    - cache: (x, W) from word_embedding_forward

    Returns:
    - dW: of shape (V, D), the only gradient (indices have none)
    """
    x, W = cache
    dout = as_dout("word_embedding_backward", dout, x.shape + W.shape[1:], like=W)
    # BEGIN SOLUTION word_embedding_backward
    # HINT: start from zeros of W's shape; repeated words must add up (np.add.at)
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)                   # dW[x[n, t]] += dout[n, t], repeats included
    # END SOLUTION
    return dW


def temporal_affine_forward(x, w, b):
    """An affine layer applied at every time step: out[n, t] = x[n, t] w + b.

    Inputs:
    - x: of shape (N, T, D)
    - w: weights of shape (D, M)
    - b: biases of shape (M,)

    Returns a tuple of:
    - out: of shape (N, T, M)
    - cache: (x, w)
    """
    func = "temporal_affine_forward"
    x = as_float(func, "x", x)
    w = as_float(func, "w", w, like=x)
    b = as_float(func, "b", b, like=x)
    check_ndim(func, "x", x, "NTD")
    check_ndim(func, "w", w, "DM")
    check_shape(func, "w", w, (x.shape[2], w.shape[1]),
                because=f"(x {x.shape} has D = {x.shape[2]} features)")
    check_shape(func, "b", b, (w.shape[1],), because=f"(one per column of w {w.shape})")
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w + b).reshape(N, T, w.shape[1])   # one matrix product
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    """Backward pass of out = x w + b at every time step.

    Inputs:
    - dout: upstream gradient, of shape (N, T, M)
    - cache: (x, w) from temporal_affine_forward

    Returns a tuple of:
    - dx: of shape (N, T, D)
    - dw: of shape (D, M), summed over the N * T positions
    - db: of shape (M,)
    """
    x, w = cache
    dout = as_dout("temporal_affine_backward", dout, x.shape[:2] + w.shape[1:], like=x)
    D, M = w.shape
    x2d, dout2d = x.reshape(-1, D), dout.reshape(-1, M)          # (N*T, D), (N*T, M)
    dx = (dout2d @ w.T).reshape(x.shape)                          # dx = dout w^T
    dw = x2d.T @ dout2d                                           # dw = x^T dout, all steps
    db = dout2d.sum(axis=0)                                       # db = 1^T dout
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    """Softmax loss at every time step, summed over the steps and averaged over N.

    L = -1/N sum_{n, t} mask[n, t] log p[n, t, y[n, t]], p = softmax(x[n, t]).
    Divided by N, not by N*T: a longer caption weighs more. Masked steps
    (mask False, e.g. <NULL> padding) contribute nothing to the loss or to dx.

    Inputs:
    - x: scores of shape (N, T, V)
    - y: integer labels of shape (N, T), each in [0, V)
    - mask: booleans of shape (N, T), True where the step counts
    - verbose: print the shape of dx

    Returns a tuple of:
    - loss: scalar
    - dx: of shape (N, T, V): dx = mask * (p - 1[y]) / N
    """
    func = "temporal_softmax_loss"
    x = as_float(func, "x", x)
    check_ndim(func, "x", x, "NTV")
    check_batch(func, "x", x)
    check_finite(func, "x", x)
    N, T, V = x.shape
    y = check_indices(func, "y", y, V)
    check_shape(func, "y", y, (N, T), because=f"(one label per step of x {x.shape})")
    mask = as_array(func, "mask", mask)
    check_shape(func, "mask", mask, (N, T), because=f"(one flag per step of x {x.shape})")
    x_flat, y_flat, mask_flat = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T) != 0
    rows = np.arange(N * T)
    shifted = x_flat - x_flat.max(axis=1, keepdims=True)          # exp of <= 0 stays finite
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(log_p[rows, y_flat] * mask_flat).sum() / N          # over the steps, / N only
    dx_flat = np.exp(log_p)                                       # p
    dx_flat[rows, y_flat] -= 1                                    # p - 1[y]
    dx_flat *= mask_flat[:, None] / N                             # masked steps: 0
    if verbose:
        print("dx_flat: ", dx_flat.shape)
    return loss, dx_flat.reshape(N, T, V)
