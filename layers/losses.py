"""Losses: softmax (cross-entropy), multiclass SVM (hinge), mean squared error.

Shapes: N examples, C classes; scores x of shape (N, C), integer labels y of
shape (N,) with values in [0, C). Every loss is averaged over N and returns
(loss, dx), dx of the shape of x: a loss is the end of the graph, so its
upstream gradient is the number 1 and there is no cache.
"""

import functools

import numpy as np

from ._checks import (
    as_float,
    check_batch,
    check_finite,
    check_labels,
    check_min_ndim,
    check_ndim,
    check_shape,
)


def _scores_and_labels(func, x, y):
    """Validate scores x (N, C) and labels y (N,); return them as arrays."""
    x = as_float(func, "x", x)
    check_ndim(func, "x", x, "NC")
    check_batch(func, "x", x)
    check_finite(func, "x", x)       # a NaN or infinite score has no probability
    y = check_labels(func, "y", y, *x.shape)
    return x, y


def _computed_in_float32_at_least(loss_fn):
    """Run a loss on float16 scores in float32 and cast (loss, dx) back to float16.

    The loss of scores of 1e4 is about 2e4 and fits in float16 (max 65504), but
    the sums on the way there do not: summing N such terms overflows. Wider
    scores (float32, float64) and integer lists pass straight through.
    """

    @functools.wraps(loss_fn)
    def wrapper(x, y):
        narrow = getattr(x, "dtype", None)
        if narrow is None or narrow.kind != "f" or narrow.itemsize >= 4:
            return loss_fn(x, y)
        loss, dx = loss_fn(np.asarray(x, dtype=np.float32), y)
        return narrow.type(loss), dx.astype(narrow)

    return wrapper


@_computed_in_float32_at_least
def softmax_loss(x, y):
    """Softmax (cross-entropy) loss: L = -1/N sum_i log p[i, y_i], p = softmax of the rows of x.

    Inputs:
    - x: scores of shape (N, C)
    - y: integer labels of shape (N,), each in [0, C)

    Returns a tuple of:
    - loss: scalar, in the dtype of x
    - dx: gradient of the loss with respect to x, of shape (N, C): dx = (p - 1[y]) / N
    """
    x, y = _scores_and_labels("softmax_loss", x, y)
    N = len(x)
    rows = np.arange(N)
    # BEGIN SOLUTION softmax_loss
    # HINT: subtract each row's max first (scores of 1e4 must stay finite), then log-softmax;
    # HINT: return the mean of -log p[i, y_i] and dx = (p - 1[y]) / N
    shifted = x - x.max(axis=1, keepdims=True)   # softmax is shift-invariant; exp(<= 0) stays
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # finite at 1e4
    loss = -log_p[rows, y].sum() / N
    dx = np.exp(log_p)                           # p
    dx[rows, y] -= 1                             # p - 1[y]
    return loss, dx / N
    # END SOLUTION


@_computed_in_float32_at_least
def svm_loss(x, y):
    """Multiclass SVM loss: L = 1/N sum_i sum_{j != y_i} max(0, x[i, j] - x[i, y_i] + 1).

    Inputs:
    - x: scores of shape (N, C)
    - y: integer labels of shape (N,), each in [0, C)

    Returns a tuple of:
    - loss: scalar, in the dtype of x
    - dx: gradient of the loss with respect to x, of shape (N, C): +1/N for every
      class j with a positive margin, minus 1/N per positive margin at the label
    """
    x, y = _scores_and_labels("svm_loss", x, y)
    N = len(x)
    rows = np.arange(N)
    # BEGIN SOLUTION svm_loss
    # HINT: margins max(0, x_j - x_{y_i} + 1) with the label's own margin set to 0;
    # HINT: each positive margin adds +1 at its class and -1 at the label; divide by N
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)   # (N, C), margin 1
    margins[rows, y] = 0                                   # the label is no competitor
    loss = margins.sum() / N
    active = (margins > 0).astype(x.dtype)                 # d margin_j / d x_j = 1
    active[rows, y] -= active.sum(axis=1)                  # d / d x_{y_i} = -#active
    return loss, active / N
    # END SOLUTION


def mse_loss(x, t):
    """Mean squared error: L = 0.5 * sum((x - t)**2) / N.

    Inputs:
    - x: predictions of shape (N, ...)
    - t: targets of the same shape as x

    Returns a tuple of:
    - loss: scalar, in the dtype of x
    - dx: gradient of the loss with respect to x, of the shape of x: dx = (x - t) / N
    """
    x = as_float("mse_loss", "x", x)
    t = as_float("mse_loss", "t", t, like=x)
    check_min_ndim("mse_loss", "x", x, 1, "(N, ...)")
    check_batch("mse_loss", "x", x)
    check_shape("mse_loss", "t", t, x.shape, because="(the shape of the predictions x)")
    check_finite("mse_loss", "x", x)
    check_finite("mse_loss", "t", t)
    N = len(x)
    diff = (x - t).astype(x.dtype, copy=False)   # float32 predictions keep float32
    loss = 0.5 * (diff**2).sum() / N
    return loss, diff / N
