"""Numeric gradients by centered differences, with the CS231n helpers' names and semantics.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)

The truncation error is O(h^2) and the rounding error O(eps |f| / h): the sweet
spot is h ~ cbrt(eps), which `relative_step` gives per entry (a power of two, so
x_i +- h is exact). The CS231n functions keep their fixed default h = 1e-5.
Every perturbation is made in place and undone in a `finally`, so x comes back
unchanged even when f raises.
"""

import numpy as np

_CBRT_EPS = np.cbrt(np.finfo(np.float64).eps)     # ~6.1e-6


def rel_error(x, y):
    """Max of abs(x - y) / max(1e-8, abs(x) + abs(y)) over all entries."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def require_float(func, name, x):
    """Refuse what cannot be perturbed in place: non-arrays and integer arrays."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{func}: {name} must be a numpy array, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{func}: {name} has dtype {x.dtype} and shape {x.shape}; a numeric gradient "
            "needs a floating array (x + h would be rounded to an integer)"
        )


def relative_step(value):
    """The step for one entry: the power of two nearest cbrt(eps) * max(1, |value|)."""
    return float(2.0 ** np.round(np.log2(_CBRT_EPS * max(1.0, abs(float(value))))))


def centered_pair(f, x, ix, h):
    """(f(x + h e_ix), f(x - h e_ix)), with x[ix] restored afterwards even if f raises."""
    old = x[ix]
    try:
        x[ix] = old + h
        fxph = f(x)                           # f(x + h)
        x[ix] = old - h
        fxmh = f(x)                           # f(x - h)
    finally:
        x[ix] = old
    return fxph, fxmh


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Centered-difference gradient of a scalar function f at x.

    Inputs:
    - f: function of one argument (the array x) returning a scalar
    - x: floating array, perturbed in place entry by entry and restored
    - verbose: print every entry's index and gradient
    - h: the step

    Returns grad, of x's shape and dtype.
    """
    require_float("eval_numerical_gradient", "x", x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        fxph, fxmh = centered_pair(f, x, ix, h)
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numeric gradient of sum(f(x) * df) with respect to x, for an array-valued f.

    Inputs:
    - f: function of one argument (the array x) returning an array of df's shape
    - x: floating array, perturbed in place entry by entry and restored
    - df: upstream gradient, of the shape of f(x)
    - h: the step

    Returns grad, of x's shape and dtype.
    """
    require_float("eval_numerical_gradient_array", "x", x)
    grad = np.zeros_like(x)
    def f_copy(x):
        return np.array(f(x), copy=True)      # copy: f may return a view of x

    for ix in np.ndindex(x.shape):
        pos, neg = centered_pair(f_copy, x, ix, h)
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=0, verbose=False):
    """Compare analytic_grad with the numeric gradient of scalar f at randomly chosen entries.

    Inputs:
    - f: function of x returning a scalar
    - x: floating array, perturbed in place and restored
    - analytic_grad: array of x's shape
    - num_checks: how many entries to check (drawn with a seeded generator)
    - verbose: print numeric, analytic and relative error per entry

    Returns the list of relative errors, one per checked entry.
    """
    require_float("grad_check_sparse", "x", x)
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"grad_check_sparse: analytic_grad has shape {analytic_grad.shape}; "
            f"expected x's shape {x.shape}"
        )
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(m)) for m in x.shape)
        fxph, fxmh = centered_pair(f, x, ix, h)
        numeric = (fxph - fxmh) / (2 * h)
        analytic = analytic_grad[ix]
        errors.append(rel_error(numeric, analytic))
        if verbose:
            print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {errors[-1]:e}")
    return errors
