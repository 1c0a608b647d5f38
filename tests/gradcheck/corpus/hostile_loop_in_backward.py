import numpy as np


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    dx = dout * (cache > 0)
    i = 0
    while i < 10:
        dx = dx + 0   # forgot i += 1
    return dx
