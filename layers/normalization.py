"""Batch normalization and layer normalization of fully connected activations.

Shapes: N examples, D features; x and out are (N, D), gamma and beta are (D,).
Both layers compute xhat = (x - mu) / std with std = sqrt(var + eps), then
out = gamma * xhat + beta. Batchnorm takes mu and var per feature over the batch
(axis 0; at test time the running averages instead), layernorm per example over
its features (axis 1), so it behaves the same in training and at test time.
"""

import numpy as np

from ._checks import (
    as_dout,
    as_float,
    check_batch,
    check_mode,
    check_ndim,
    check_param_dict,
    check_shape,
)


def _inputs(func, x, gamma, beta):
    """Validate x (N, D) and gamma, beta (D,); integer gamma/beta take x's float dtype."""
    x = as_float(func, "x", x)
    check_ndim(func, "x", x, "ND")
    gamma = as_float(func, "gamma", gamma, like=x)
    beta = as_float(func, "beta", beta, like=x)
    D = x.shape[1]
    check_shape(func, "gamma", gamma, (D,), because=f"(one per feature of x {x.shape})")
    check_shape(func, "beta", beta, (D,), because=f"(one per feature of x {x.shape})")
    return x, gamma, beta


def _number(func, name, params, key, default):
    """params[key] (or default) as a Python float, so a numpy float64 keeps float32 intact."""
    value = params.get(key, default)
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{func}: {name}[{key!r}] is {value!r}; expected a number") from err


def _eps(func, name, params):
    """params['eps'] (default 1e-5): a finite number > 0, or sqrt(var + eps) can be 0 or NaN."""
    eps = _number(func, name, params, "eps", 1e-5)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"{func}: {name}['eps'] is {eps!r}; expected a finite number > 0")
    return eps


def _momentum(func, bn_param):
    """bn_param['momentum'] (default 0.9), the weight of the old running average, in [0, 1]."""
    momentum = _number(func, "bn_param", bn_param, "momentum", 0.9)
    if not 0 <= momentum <= 1:
        raise ValueError(f"{func}: bn_param['momentum'] is {momentum!r}; expected a number "
                         "in [0, 1]")
    return momentum


def _running(func, bn_param, key, D, mode, dtype):
    """bn_param[key] as an array of shape (D,); zeros of x's dtype when absent in training.

    Test mode normalizes with these averages, so there they must exist: without
    them the layer would return x / sqrt(eps), a silent mistake.
    """
    value = bn_param.get(key)
    if value is None and mode == "test":
        raise ValueError(f"{func}: bn_param has no {key!r} in test mode; run the layer in "
                         "'train' mode first (or give the running statistics)")
    if value is None:
        return np.zeros(D, dtype=dtype)
    value = as_float(func, f"bn_param[{key!r}]", value)
    check_shape(func, f"bn_param[{key!r}]", value, (D,), because="(one per feature of x)")
    if key == "running_var" and not np.all(value >= 0):
        raise ValueError(f"{func}: bn_param['running_var'] has negative or NaN entries; "
                         "expected variances >= 0")
    return value


def _normalize_backward(dxhat, xhat, std, axis):
    """Closed-form gradient through xhat = (x - mean(x)) / std(x), statistics along axis.

    dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std
    """
    mean_dxhat = dxhat.mean(axis=axis, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axis, keepdims=True)
    return (dxhat - mean_dxhat - xhat * mean_dxhat_xhat) / std


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of batch normalization.

    Training: mu and var are the batch mean and (biased) variance of each feature,
    and bn_param's running averages are updated in place:
        running = momentum * running + (1 - momentum) * batch statistic.
    Test: mu and var are the running averages.

    Inputs:
    - x: data of shape (N, D)
    - gamma: scale of shape (D,)
    - beta: shift of shape (D,)
    - bn_param: dict with
      - mode: 'train' or 'test' (required)
      - eps: constant for numeric stability (default 1e-5)
      - momentum: constant for the running averages (default 0.9)
      - running_mean, running_var: arrays of shape (D,), created as zeros

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: (xhat, gamma, std, mode)
    """
    func = "batchnorm_forward"
    mode = check_mode(func, "bn_param", bn_param)
    x, gamma, beta = _inputs(func, x, gamma, beta)
    eps = _eps(func, "bn_param", bn_param)
    momentum = _momentum(func, bn_param)
    D = x.shape[1]
    running_mean = _running(func, bn_param, "running_mean", D, mode, x.dtype)
    running_var = _running(func, bn_param, "running_var", D, mode, x.dtype)
    if mode == "train":
        check_batch(func, "x", x)
        mu, var = x.mean(axis=0), x.var(axis=0)                         # (D,), biased
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mu = running_mean.astype(x.dtype, copy=False)
        var = running_var.astype(x.dtype, copy=False)
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    std = np.sqrt(var + eps)                 # (D,)
    xhat = (x - mu) / std                    # (N, D)
    out = gamma * xhat + beta
    return out, (xhat, gamma, std, mode)


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalization, stage by stage through the graph.

    Forward stages: xc = x - mu, var = mean(xc**2), std = sqrt(var + eps),
    xhat = xc / std, out = gamma * xhat + beta; each line below inverts one.
    In test mode mu and std are constants and dx = dout * gamma / std.

    Inputs:
    - dout: upstream gradient, of shape (N, D)
    - cache: (xhat, gamma, std, mode) from batchnorm_forward

    Returns a tuple of:
    - dx: of shape (N, D)
    - dgamma: of shape (D,)
    - dbeta: of shape (D,)
    """
    xhat, gamma, std, mode = cache
    dout = as_dout("batchnorm_backward", dout, xhat.shape, like=xhat)
    # BEGIN SOLUTION batchnorm_backward
    # HINT: dbeta and dgamma sum over the batch; in test mode dx = dout * gamma / std
    # HINT: in train mode go back stage by stage: xhat = xc / std, std = sqrt(var + eps), ...
    dbeta = dout.sum(axis=0)                 # out = ... + beta
    dgamma = (dout * xhat).sum(axis=0)       # out = gamma * xhat + ...
    dxhat = dout * gamma
    if mode == "test":
        return dxhat / std, dgamma, dbeta
    N = len(xhat)
    xc = xhat * std                          # x - mu, recomputed from the cache
    dstd = -(dxhat * xc).sum(axis=0) / std**2    # xhat = xc / std, via std
    dvar = 0.5 * dstd / std                  # std = sqrt(var + eps)
    dxc = dxhat / std + 2 * xc * dvar / N    # via xhat directly, and via var = mean(xc**2)
    dmu = -dxc.sum(axis=0)                   # xc = x - mu
    dx = dxc + dmu / N                       # mu = mean(x)
    # END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalization in closed form.

    The stages of batchnorm_backward collapse, on paper, into one expression of
    dx in dout, xhat, gamma, std, dgamma and dbeta.

    Inputs and returns as batchnorm_backward.
    """
    xhat, gamma, std, mode = cache
    dout = as_dout("batchnorm_backward_alt", dout, xhat.shape, like=xhat)
    # BEGIN SOLUTION batchnorm_backward_alt
    # HINT: simplify the staged gradient on paper until dx is one line; dgamma and dbeta
    # HINT: are as in batchnorm_backward, and so is test mode
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    if mode == "test":
        return dout * gamma / std, dgamma, dbeta
    dx = gamma / std * (dout - (dbeta + xhat * dgamma) / len(xhat))
    return dx, dgamma, dbeta
    # END SOLUTION


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass of layer normalization: each example normalized over its D features.

    Inputs:
    - x: data of shape (N, D)
    - gamma: scale of shape (D,)
    - beta: shift of shape (D,)
    - ln_param: dict with eps (default 1e-5); other keys (e.g. 'mode') are ignored

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: (xhat, gamma, std)
    """
    func = "layernorm_forward"
    check_param_dict(func, "ln_param", ln_param)
    x, gamma, beta = _inputs(func, x, gamma, beta)
    eps = _eps(func, "ln_param", ln_param)
    mu = x.mean(axis=1, keepdims=True)                  # (N, 1)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)   # (N, 1)
    xhat = (x - mu) / std
    out = gamma * xhat + beta
    return out, (xhat, gamma, std)


def layernorm_backward(dout, cache):
    """Backward pass of layer normalization: batchnorm's closed form along axis 1.

    dx = (dxhat - mean_D(dxhat) - xhat * mean_D(dxhat * xhat)) / std, dxhat = dout * gamma

    Inputs:
    - dout: upstream gradient, of shape (N, D)
    - cache: (xhat, gamma, std) from layernorm_forward

    Returns a tuple of:
    - dx: of shape (N, D)
    - dgamma: of shape (D,)
    - dbeta: of shape (D,)
    """
    xhat, gamma, std = cache
    dout = as_dout("layernorm_backward", dout, xhat.shape, like=xhat)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = _normalize_backward(dout * gamma, xhat, std, axis=1)
    return dx, dgamma, dbeta
