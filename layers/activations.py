"""Elementwise activations: relu, sigmoid, tanh.

Shapes: x, out, dout and dx all share one shape, any shape at all.
Each backward multiplies dout by the local derivative f'(x) (chain rule,
elementwise); sigmoid and tanh write f'(x) in terms of their output, which is
why they cache out instead of x.
"""

import numpy as np

from ._checks import as_dout, as_float


def relu_forward(x):
    """Forward pass of out = max(0, x).

    Inputs:
    - x: input of any shape

    Returns a tuple of:
    - out: output of the same shape as x
    - cache: x
    """
    x = as_float("relu_forward", "x", x)
    out = np.maximum(x, 0)
    return out, x


def relu_backward(dout, cache):
    """Backward pass of out = max(0, x): dx = dout * 1[x > 0] (0 at the kink x = 0).

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: x from relu_forward

    Returns:
    - dx: of the shape of x
    """
    x = cache
    dout = as_dout("relu_backward", dout, x.shape, like=x)
    # BEGIN SOLUTION relu_backward
    # HINT: return dx: dout where x > 0, 0 elsewhere (also at x = 0); never write into dout
    return dout * (x > 0)                    # the gate lets the gradient through where x > 0
    # END SOLUTION


def sigmoid_forward(x):
    """Forward pass of out = 1 / (1 + exp(-x)), stable for large |x|.

    exp is only ever taken of -|x| <= 0, so it never overflows: for x >= 0
    out = 1 / (1 + z), for x < 0 out = z / (1 + z), with z = exp(-|x|).

    Inputs:
    - x: input of any shape

    Returns a tuple of:
    - out: output of the same shape as x, in [0, 1]
    - cache: out
    """
    x = as_float("sigmoid_forward", "x", x)
    z = np.exp(-np.abs(x))                   # in (0, 1]: no overflow at x = +-1000
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, out


def sigmoid_backward(dout, cache):
    """Backward pass of out = sigmoid(x): dx = dout * out * (1 - out).

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: out from sigmoid_forward

    Returns:
    - dx: of the shape of x
    """
    out = cache
    dout = as_dout("sigmoid_backward", dout, out.shape, like=out)
    return dout * out * (1 - out)            # sigma'(x) = sigma(x) (1 - sigma(x))


def tanh_forward(x):
    """Forward pass of out = tanh(x).

    Inputs:
    - x: input of any shape

    Returns a tuple of:
    - out: output of the same shape as x, in [-1, 1]
    - cache: out
    """
    x = as_float("tanh_forward", "x", x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """Backward pass of out = tanh(x): dx = dout * (1 - out**2).

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: out from tanh_forward

    Returns:
    - dx: of the shape of x
    """
    out = cache
    dout = as_dout("tanh_backward", dout, out.shape, like=out)
    return dout * (1 - out**2)               # tanh'(x) = 1 - tanh(x)^2
