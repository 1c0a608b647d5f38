"""Inverted dropout.

Shapes: x, out, dout and dx share one shape, any shape at all.
p is the probability of KEEPING a unit. At training time each unit is kept with
probability p and the kept ones are scaled by 1 / p, so the expected output
equals x and test time needs no rescaling: there dropout is the identity.
The mask is drawn from numpy's global random state (np.random.rand) so that a
'seed' in dropout_param reproduces course material exactly.
"""

import numpy as np

from ._checks import as_float, check_mode, check_shape


def _keep_probability(func, dropout_param):
    """dropout_param['p'] as a float in (0, 1]."""
    if "p" not in dropout_param:
        raise ValueError(f"{func}: dropout_param has no 'p' (the probability of keeping a unit)")
    p = dropout_param["p"]
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: dropout_param['p'] is {p!r}; expected a number in (0, 1]")
    if not 0 < p <= 1:
        raise ValueError(
            f"{func}: dropout_param['p'] is {p!r}; expected the probability of keeping "
            "a unit, in (0, 1]"
        )
    return float(p)


def _seed(func, dropout_param):
    """dropout_param['seed'] as np.random.seed takes it: an integer in [0, 2**32 - 1], or None."""
    seed = dropout_param.get("seed")
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed < 2**32:
        raise ValueError(f"{func}: dropout_param['seed'] is {seed!r}; expected an integer "
                         "in [0, 2**32 - 1] (or None)")
    return int(seed)


def dropout_forward(x, dropout_param):
    """Forward pass of inverted dropout: out = x * mask, mask = 1[rand < p] / p.

    Inputs:
    - x: input of any shape
    - dropout_param: dict with
      - p: probability of keeping each unit, in (0, 1]
      - mode: 'train' or 'test'
      - seed: optional; when given, np.random.seed(seed) before drawing the mask

    Returns a tuple of:
    - out: of the shape of x
    - cache: (mask, shape of x); mask is None in test mode
    """
    func = "dropout_forward"
    mode = check_mode(func, "dropout_param", dropout_param)
    p = _keep_probability(func, dropout_param)
    seed = _seed(func, dropout_param)
    x = as_float(func, "x", x)
    if mode == "test":
        return x.copy(), (None, x.shape)
    if seed is not None:
        np.random.seed(seed)
    # BEGIN SOLUTION dropout_forward
    # HINT: keep a unit where np.random.rand(*x.shape) < p and scale the kept ones by 1 / p;
    # HINT: the mask holds 0 or 1 / p, in the dtype of x
    mask = np.asarray((np.random.rand(*x.shape) < p) / p, dtype=x.dtype)  # 0 or 1/p
    # END SOLUTION
    return x * mask, (mask, x.shape)


def dropout_backward(dout, cache):
    """Backward pass of inverted dropout: dx = dout * mask (train), dx = dout (test).

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: (mask, shape of x) from dropout_forward

    Returns:
    - dx: of the shape of x
    """
    mask, shape = cache
    dout = as_float("dropout_backward", "dout", dout)
    check_shape("dropout_backward", "dout", dout, shape, because="(the shape of x)")
    if mask is None:
        return dout.copy()                   # test mode: the identity
    # BEGIN SOLUTION dropout_backward
    # HINT: return dx: the forward multiplied x by the mask (0 or 1 / p), so dout is too
    return dout * mask                       # dropped units pass nothing, kept ones 1 / p
    # END SOLUTION
