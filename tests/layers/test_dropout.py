"""Inverted dropout: p is the probability of keeping a unit."""

import numpy as np
import pytest

from layers import dropout_backward, dropout_forward


@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_dropout_keeps_a_fraction_p_and_preserves_the_mean(rng, p):
    x = rng.normal(loc=10, size=(500, 500))
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    np.testing.assert_allclose((out != 0).mean(), p, atol=0.005)
    np.testing.assert_allclose(out.mean(), x.mean(), rtol=0.01)


def test_dropout_is_the_identity_at_test_time(rng):
    x = rng.normal(size=(4, 5))
    out, cache = dropout_forward(x, {"mode": "test", "p": 0.3})
    np.testing.assert_array_equal(out, x)
    dout = rng.normal(size=(4, 5))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_dropout_mask_is_the_course_recipe():
    # The units the course's recipe keeps with seed 231 and p = 0.6, scaled by 1 / p.
    out, _ = dropout_forward(np.ones((3, 7)), {"mode": "train", "p": 0.6, "seed": 231})
    kept = [[0, 1, 1, 1, 0, 0, 1], [0, 1, 1, 1, 1, 0, 1], [1, 1, 1, 1, 0, 1, 0]]
    np.testing.assert_allclose(out, np.array(kept) / 0.6, rtol=1e-15)


def test_dropout_backward_routes_through_the_same_mask(rng):
    x = rng.normal(size=(10, 8))
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 0})
    dx = dropout_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dx, out / x)


def test_dropout_without_seed_draws_from_the_global_state(rng):
    x = np.ones((4, 4))
    np.random.seed(5)
    first, _ = dropout_forward(x, {"mode": "train", "p": 0.5})
    np.random.seed(5)
    second, _ = dropout_forward(x, {"mode": "train", "p": 0.5})
    np.testing.assert_array_equal(first, second)


def test_dropout_with_p_one_keeps_everything(rng):
    x = rng.normal(size=(5, 5))
    out, _ = dropout_forward(x, {"mode": "train", "p": 1, "seed": 0})
    np.testing.assert_array_equal(out, x)


def test_dropout_keeps_float32(rng):
    x = rng.normal(size=(6, 6)).astype(np.float32)
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 0})
    assert out.dtype == np.float32
    assert dropout_backward(out, cache).dtype == np.float32


@pytest.mark.parametrize("p", [0, 0.0, -0.5, 1.5, float("nan")])
def test_dropout_rejects_p_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"dropout_forward: dropout_param\['p'\] is .*\(0, 1\]"):
        dropout_forward(np.ones(3), {"mode": "train", "p": p})


def test_dropout_rejects_an_unknown_or_missing_mode():
    with pytest.raises(ValueError, match=r"dropout_forward: dropout_param\['mode'\] is 'eval'"):
        dropout_forward(np.ones(3), {"mode": "eval", "p": 0.5})
    with pytest.raises(ValueError, match="dropout_forward: dropout_param has no 'mode'"):
        dropout_forward(np.ones(3), {"p": 0.5})


def test_dropout_rejects_a_missing_or_non_numeric_p():
    with pytest.raises(ValueError, match="dropout_forward: dropout_param has no 'p'"):
        dropout_forward(np.ones(3), {"mode": "train"})
    with pytest.raises(TypeError, match=r"dropout_forward: dropout_param\['p'\] is '0.5'"):
        dropout_forward(np.ones(3), {"mode": "train", "p": "0.5"})


@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropout_on_a_zero_dimensional_input(mode):
    out, cache = dropout_forward(np.float64(2.0), {"mode": mode, "p": 0.5, "seed": 0})
    np.random.seed(0)
    expected = 2.0 * (np.random.rand() < 0.5) / 0.5 if mode == "train" else 2.0
    assert np.shape(out) == ()
    assert float(out) == expected
    assert float(dropout_backward(np.float64(1.0), cache)) == expected / 2.0


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, 2**32, True])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropout_rejects_a_seed_numpy_cannot_take(seed, mode):
    with pytest.raises(ValueError, match=r"dropout_forward: dropout_param\['seed'\] is .*"
                                         r"expected an integer in \[0, 2\*\*32 - 1\]"):
        dropout_forward(np.ones(3), {"mode": mode, "p": 0.5, "seed": seed})
