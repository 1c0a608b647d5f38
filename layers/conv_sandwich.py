"""Convolutional sandwich layers: a conv followed by the layers that usually follow it.

Shapes as in conv.py: x (N, C, H, W), w (F, C, HH, WW), b (F,); gamma and beta
are (F,). Each sandwich chains the fast layers' forwards, nests their caches,
and chains their backwards in reverse order.
"""

from .activations import relu_backward, relu_forward
from .conv import conv_backward_fast, conv_forward_fast
from .pool import max_pool_backward_fast, max_pool_forward_fast
from .spatial_norm import spatial_batchnorm_backward, spatial_batchnorm_forward


def conv_relu_forward(x, w, b, conv_param):
    """conv - relu.

    Returns a tuple of:
    - out: of shape (N, F, Hout, Wout)
    - cache: (conv_cache, relu_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache, need_dx=True):
    """Backward pass of conv - relu; returns dx (None when need_dx is False), dw, db."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache, need_dx)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """conv - relu - max pool.

    Returns a tuple of:
    - out: of shape (N, F, Hpool, Wpool)
    - cache: (conv_cache, relu_cache, pool_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache, need_dx=True):
    """Backward pass of conv - relu - max pool; returns dx (None when need_dx is False), dw, db."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache, need_dx)


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """conv - spatial batchnorm - relu.

    Returns a tuple of:
    - out: of shape (N, F, Hout, Wout)
    - cache: (conv_cache, bn_cache, relu_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache, need_dx=True):
    """Backward pass of conv - spatial batchnorm - relu.

    Returns dx (None when need_dx is False), dw, db, dgamma, dbeta.
    """
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache, need_dx)
    return dx, dw, db, dgamma, dbeta
