import numpy as np


def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    s = cache
    s *= 1 - s            # reuses the cached array for s (1 - s)
    return dout * s
