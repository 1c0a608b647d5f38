"""No false failures near kinks: correct piecewise layers on inputs crafted to sit within a step
of their kinks (ReLU at 0, max-pool near-ties, hinge margins near 0) never get "fail"."""

import os

import numpy as np
import pytest

import layers
from gradcheck import check_layer, check_loss

# 50 seeds per layer in the suite; GRADCHECK_KINK_SEEDS=200 for the full measurement
SEEDS = range(int(os.environ.get("GRADCHECK_KINK_SEEDS", "50")))


def near(rng, shape, scale=1e-5):
    """Values within a few steps (h ~ 7.6e-6) of zero, some exactly zero."""
    x = rng.uniform(-scale, scale, shape)
    x[rng.random(shape) < 0.1] = 0.0
    return x


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_near_zero(seed):
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((4, 5)) < 0.5, near(rng, (4, 5)), rng.standard_normal((4, 5)))
    lc = check_layer(layers.relu_forward, layers.relu_backward, x, seed=seed,
                     kink_side={"dx": "left"})
    assert lc.result("dx").verdict != "fail", lc


@pytest.mark.parametrize("seed", SEEDS)
def test_max_pool_near_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 4, 4))
    x[..., 1::2, :] = x[..., ::2, :] + near(rng, (2, 2, 2, 4))   # rows paired into near-ties
    lc = check_layer(layers.max_pool_forward_naive, layers.max_pool_backward_naive, x,
                     {"pool_height": 2, "pool_width": 2, "stride": 2}, seed=seed)
    assert lc.result("dx").verdict != "fail", lc


@pytest.mark.parametrize("seed", SEEDS)
def test_svm_margins_near_zero(seed):
    rng = np.random.default_rng(seed)
    N, C = 5, 4
    y = rng.integers(C, size=N)
    x = rng.standard_normal((N, C))
    x = x[np.arange(N), y][:, None] - 1 + near(rng, (N, C))   # every margin x_j - x_y + 1 ~ 0
    x[np.arange(N), y] += 1                                    # true class: its own score
    lc = check_loss(layers.svm_loss, x, y, seed=seed)
    assert lc.result("dx").verdict != "fail", lc
