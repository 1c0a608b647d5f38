import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get('eps', 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=(2, 3, 4), keepdims=True)
    var = xg.var(axis=(2, 3, 4), keepdims=True)
    xhat = ((xg - mu) / np.sqrt(var + eps)).reshape(N, C, H, W)
    g, b = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    return g * xhat + b, (xhat, g, var, eps, G)


def spatial_groupnorm_backward(dout, cache):
    xhat, gamma, var, eps, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xhat).sum(axis=(0, 2, 3))
    dxhat = (dout * gamma).reshape(N, G, C // G, H, W)
    xh = xhat.reshape(N, G, C // G, H, W)
    M = C // G * H * W
    dx = (M * dxhat - dxhat.sum(axis=(2, 3, 4), keepdims=True)
          - xh * (dxhat * xh).sum(axis=(2, 3, 4), keepdims=True)) / (M * np.sqrt(var + eps))
    return dx.reshape(N, C, H, W), dgamma, dbeta
