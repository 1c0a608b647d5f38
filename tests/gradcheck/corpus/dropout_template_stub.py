import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])

    mask = None
    out = None

    if mode == 'train':
        # TODO: Implement training phase forward pass for inverted dropout.
        pass
    elif mode == 'test':
        # TODO: Implement the test phase forward pass for inverted dropout.
        pass

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)

    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param['mode']

    dx = None
    if mode == 'train':
        # TODO: Implement training phase backward pass for inverted dropout
        pass
    elif mode == 'test':
        dx = dout
    return dx
