import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get('eps', 1e-5)
    xt = x.T                                  # (D, N): each sample is a column
    mu = xt.mean(axis=0)
    var = xt.var(axis=0)
    xhat_t = (xt - mu) / np.sqrt(var + eps)
    out = gamma * xhat_t.T + beta
    return out, (xhat_t, gamma, var, eps)


def layernorm_backward(dout, cache):
    xhat_t, gamma, var, eps = cache
    D = xhat_t.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat_t.T).sum(axis=0)
    dxhat_t = (dout * gamma).T
    dx_t = (D * dxhat_t - dxhat_t.sum(axis=0) - xhat_t * (dxhat_t * xhat_t).sum(axis=0)) / (
        D * np.sqrt(var + eps))
    return dx_t.T, dgamma, dbeta
