import numpy as np


def tanh_forward(x):
    raise KeyboardInterrupt


def tanh_backward(dout, cache):
    return dout * (1 - np.tanh(cache) ** 2)
