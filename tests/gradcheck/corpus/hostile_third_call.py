import numpy as np

CALLS = []


def sigmoid_forward(x):
    CALLS.append(1)
    if len(CALLS) == 3:
        raise RuntimeError('third call')
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
