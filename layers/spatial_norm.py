"""Normalization of convolutional activations: spatial batchnorm and spatial groupnorm.

Shapes: x and out are (N, C, H, W). Both compute xhat = (x - mu) / sqrt(var + eps)
and out = gamma * xhat + beta with one gamma and beta per channel; they differ in
the entries that share mu and var:
- spatial batchnorm: one channel over the whole batch and every pixel (N * H * W
  entries per channel). It is batchnorm of the (N * H * W, C) matrix whose rows
  are pixels, so it reuses batchnorm_forward/backward and their running averages.
  gamma and beta are (C,).
- spatial groupnorm: one example over a group of C // G channels and every pixel
  (C // G * H * W entries per group), the same in training and at test time.
  gamma and beta are (1, C, 1, 1).
"""

import numpy as np

from ._checks import (
    as_dout,
    as_float,
    check_ndim,
    check_param_dict,
    check_positive_int,
    check_shape,
)
from .normalization import (
    _eps,
    _normalize_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
)


def _inputs(func, x, gamma, beta, param_shape):
    """Validate x (N, C, H, W) and gamma, beta of param_shape(C)."""
    x = as_float(func, "x", x)
    check_ndim(func, "x", x, "NCHW")
    gamma = as_float(func, "gamma", gamma, like=x)
    beta = as_float(func, "beta", beta, like=x)
    because = f"(one per channel of x {x.shape})"
    check_shape(func, "gamma", gamma, param_shape(x.shape[1]), because=because)
    check_shape(func, "beta", beta, param_shape(x.shape[1]), because=because)
    return x, gamma, beta


def _pixels(a):
    """(N, C, H, W) -> (N * H * W, C): one row per pixel, one column per channel."""
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


def _images(a2d, shape):
    """Inverse of _pixels: (N * H * W, C) -> (N, C, H, W)."""
    N, C, H, W = shape
    return a2d.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalization.

    Inputs:
    - x: data of shape (N, C, H, W)
    - gamma: scale of shape (C,)
    - beta: shift of shape (C,)
    - bn_param: as batchnorm_forward's ('mode' required; 'eps', 'momentum',
      'running_mean' and 'running_var' of shape (C,), updated in place)

    Returns a tuple of:
    - out: of shape (N, C, H, W)
    - cache: (bn_cache, x.shape)
    """
    x, gamma, beta = _inputs("spatial_batchnorm_forward", x, gamma, beta, lambda C: (C,))
    out2d, bn_cache = batchnorm_forward(_pixels(x), gamma, beta, bn_param)
    return _images(out2d, x.shape), (bn_cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalization: batchnorm's, one row per pixel.

    Inputs:
    - dout: upstream gradient, of shape (N, C, H, W)
    - cache: (bn_cache, x.shape) from spatial_batchnorm_forward

    Returns a tuple of:
    - dx: of shape (N, C, H, W)
    - dgamma: of shape (C,)
    - dbeta: of shape (C,)
    """
    bn_cache, shape = cache
    dout = as_dout("spatial_batchnorm_backward", dout, shape, like=bn_cache[0])
    dx2d, dgamma, dbeta = batchnorm_backward_alt(_pixels(dout), bn_cache)
    return _images(dx2d, shape), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Forward pass of spatial group normalization.

    Each example's C channels form G groups of C // G consecutive channels;
    mu and var are taken over a group and all its pixels.

    Inputs:
    - x: data of shape (N, C, H, W)
    - gamma: scale of shape (1, C, 1, 1)
    - beta: shift of shape (1, C, 1, 1)
    - G: number of groups, a divisor of C
    - gn_param: dict with eps (default 1e-5); other keys are ignored

    Returns a tuple of:
    - out: of shape (N, C, H, W)
    - cache: (xhat, gamma, std, G), std of shape (N, G, 1)
    """
    func = "spatial_groupnorm_forward"
    x, gamma, beta = _inputs(func, x, gamma, beta, lambda C: (1, C, 1, 1))
    G = check_positive_int(func, "G", G)
    N, C = x.shape[:2]
    if C % G:
        raise ValueError(
            f"{func}: G is {G}, which does not divide the C = {C} channels of x {x.shape}"
        )
    check_param_dict(func, "gn_param", gn_param)
    eps = _eps(func, "gn_param", gn_param)
    xg = x.reshape(N, G, -1)                             # (N, G, C // G * H * W)
    mu = xg.mean(axis=2, keepdims=True)                  # (N, G, 1)
    std = np.sqrt(xg.var(axis=2, keepdims=True) + eps)   # (N, G, 1)
    xhat = ((xg - mu) / std).reshape(x.shape)
    out = gamma * xhat + beta
    return out, (xhat, gamma, std, G)


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial group normalization: layernorm's closed form per group.

    dx = (dxhat - mean_g(dxhat) - xhat * mean_g(dxhat * xhat)) / std,
    dxhat = dout * gamma, means over each group's entries.

    Inputs:
    - dout: upstream gradient, of shape (N, C, H, W)
    - cache: (xhat, gamma, std, G) from spatial_groupnorm_forward

    Returns a tuple of:
    - dx: of shape (N, C, H, W)
    - dgamma: of shape (1, C, 1, 1)
    - dbeta: of shape (1, C, 1, 1)
    """
    xhat, gamma, std, G = cache
    dout = as_dout("spatial_groupnorm_backward", dout, xhat.shape, like=xhat)
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)            # out = ... + beta
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)  # out = gamma * xhat + ...
    N = len(xhat)
    dxhat = (dout * gamma).reshape(N, G, -1)
    dx = _normalize_backward(dxhat, xhat.reshape(N, G, -1), std, axis=2)
    return dx.reshape(xhat.shape), dgamma, dbeta
