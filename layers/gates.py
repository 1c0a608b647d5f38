"""The gates of the lecture notes: add, multiply, max.

Shapes: x, y, out, dout, dx and dy share one shape (scalars welcome).
They show the three patterns of backward flow: add distributes the upstream
gradient to both inputs unchanged, multiply switches the inputs (each input's
gradient is dout times the other input), max routes dout to the larger input.
"""

import numpy as np

from ._checks import as_array, as_dout, as_float, check_same_shape


def _pair(func, x, y):
    """x and y as float arrays of one shape; an integer input takes the other's float dtype."""
    x, y = as_array(func, "x", x), as_array(func, "y", y)
    x = as_float(func, "x", x, like=y)
    y = as_float(func, "y", y, like=x)
    check_same_shape(func, "x", x, "y", y)
    return x, y


def add_forward(x, y):
    """Forward pass of the add gate: out = x + y.

    Returns a tuple of:
    - out: of the shape of x
    - cache: the shape of x
    """
    x, y = _pair("add_forward", x, y)
    return x + y, x.shape


def add_backward(dout, cache):
    """Backward pass of out = x + y: dx = dout, dy = dout (the gradient is distributed).

    Returns a tuple of:
    - dx, dy: of the shape of x, two separate arrays
    """
    dout = as_dout("add_backward", dout, cache)
    return dout.copy(), dout.copy()          # d(x + y)/dx = d(x + y)/dy = 1


def multiply_forward(x, y):
    """Forward pass of the multiply gate: out = x * y.

    Returns a tuple of:
    - out: of the shape of x
    - cache: (x, y)
    """
    x, y = _pair("multiply_forward", x, y)
    return x * y, (x, y)


def multiply_backward(dout, cache):
    """Backward pass of out = x * y: dx = dout * y, dy = dout * x (the inputs are switched).

    Returns a tuple of:
    - dx, dy: of the shape of x
    """
    x, y = cache
    dout = as_dout("multiply_backward", dout, x.shape)
    return dout * y, dout * x                # d(xy)/dx = y, d(xy)/dy = x


def max_forward(x, y):
    """Forward pass of the max gate: out = max(x, y) elementwise.

    Returns a tuple of:
    - out: of the shape of x
    - cache: x_wins, a boolean array, True where x >= y (a tie goes to x)
    """
    x, y = _pair("max_forward", x, y)
    x_wins = x >= y
    return np.where(x_wins, x, y), x_wins


def max_backward(dout, cache):
    """Backward pass of out = max(x, y): dout goes to the larger input (to x on a tie).

    Returns a tuple of:
    - dx, dy: of the shape of x
    """
    x_wins = cache
    dout = as_dout("max_backward", dout, x_wins.shape)
    return dout * x_wins, dout * ~x_wins     # the router: all of dout to one input
