"""The classic CS231n toy problem: K arms of a 2-D spiral, one class per arm.

Point i of arm k sits at radius r = i / (n - 1) and angle
theta = 4k + 4r + noise * z (z standard normal), that is at
(r sin theta, r cos theta); no straight line separates the arms.
"""

import numpy as np

from ._common import check_count, check_float_dtype, check_split_sizes, stratified_split


def make_spiral(num_per_class=100, num_classes=3, noise=0.2, seed=0):
    """Draw the spiral.

    Inputs:
    - num_per_class: points per arm, n
    - num_classes: arms, K
    - noise: standard deviation of the angle noise, in radians
    - seed: int or np.random.Generator

    Returns a tuple of:
    - X: points of shape (n * K, 2), float64
    - y: int64 labels of shape (n * K,), arm k for points k*n .. (k+1)*n - 1
    """
    n = check_count("make_spiral", "num_per_class", num_per_class, minimum=1)
    K = check_count("make_spiral", "num_classes", num_classes, minimum=1)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"make_spiral: noise is {noise!r}; expected a finite number >= 0")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(K, dtype=np.int64), n)
    r = np.tile(np.linspace(0.0, 1.0, n), K)                          # radius
    theta = 4.0 * y + 4.0 * r + noise * rng.standard_normal(n * K)    # angle
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return X, y


def get_spiral_data(num_per_class=100, num_classes=3, seed=0, num_validation=None,
                    num_test=None, dtype=np.float64, noise=0.2):
    """The spiral as a seeded, stratified train/val/test dict.

    num_validation and num_test default to a fifth of the points each. The
    spiral is centred already, so no mean is subtracted.

    Returns a dict with X_train, X_val, X_test of shape (N, 2) and the given
    dtype, and int64 labels y_train, y_val, y_test of shape (N,).
    """
    func = "get_spiral_data"
    dtype = check_float_dtype(func, dtype)
    rng = np.random.default_rng(seed)
    X, y = make_spiral(num_per_class, num_classes, noise, rng)
    fifth = len(y) // 5
    sizes = check_split_sizes(
        func,
        len(y),
        num_validation=fifth if num_validation is None else num_validation,
        num_test=fifth if num_test is None else num_test,
    )
    val, test, train = stratified_split(y, sizes, rng)
    X = X.astype(dtype)
    return {
        "X_train": X[train], "y_train": y[train],
        "X_val": X[val], "y_val": y[val],
        "X_test": X[test], "y_test": y[test],
    }
