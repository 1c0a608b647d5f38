import numpy as np


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    # normalizes every (c, h, w) position over the batch alone
    N, C, H, W = x.shape
    eps = bn_param.get('eps', 1e-5)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    g, b = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    return g * xhat + b, (xhat, g, var, eps)


def spatial_batchnorm_backward(dout, cache):
    xhat, g, var, eps = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xhat).sum(axis=(0, 2, 3))
    dxhat = dout * g
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0)) / (
        N * np.sqrt(var + eps))
    return dx, dgamma, dbeta
