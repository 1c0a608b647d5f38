"""Sandwich layers: common chains of layers as one forward/backward pair.

Shapes: x (N, d1, ..., dk), w (D, M), b (M,), out (N, M), as in layers/affine.py.
A sandwich's cache nests the caches of its parts; backward runs the parts in
reverse order.
"""

from .activations import relu_backward, relu_forward
from .affine import affine_backward, affine_forward


def affine_relu_forward(x, w, b):
    """Forward pass of an affine layer followed by a ReLU: out = max(0, x2d @ w + b).

    Returns a tuple of:
    - out: of shape (N, M)
    - cache: (fc_cache, relu_cache)
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache, need_dx=True):
    """Backward pass of the affine-relu sandwich.

    Inputs:
    - dout: upstream gradient, of shape (N, M)
    - cache: (fc_cache, relu_cache) from affine_relu_forward
    - need_dx: False skips dx (returned as None), as in affine_backward

    Returns a tuple of:
    - dx: of shape (N, d1, ..., dk)
    - dw: of shape (D, M)
    - db: of shape (M,)
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache, need_dx=need_dx)
