"""Batch and layer normalization: statistics, running averages, modes, accepted inputs, errors."""

import numpy as np
import pytest

from layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)


@pytest.fixture
def x(rng):
    """Activations far from zero mean and unit variance, with per-feature scales."""
    return rng.normal(loc=50, size=(200, 3)) * np.array([1.0, 10.0, 0.1])


def test_batchnorm_train_gives_means_beta_and_stds_gamma(x):
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, rtol=1e-12)
    var = x.var(axis=0)
    np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(var / (var + 1e-5)), rtol=1e-12)


def test_batchnorm_creates_and_updates_running_statistics_in_bn_param(x):
    bn_param = {"mode": "train"}
    batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0))
    batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.19 * x.mean(axis=0))


def test_batchnorm_momentum_and_biased_variance(x):
    bn_param = {"mode": "train", "momentum": 0.5, "running_mean": np.ones(3),
                "running_var": np.ones(3)}
    batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.5 + 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.5 + 0.5 * x.var(axis=0, ddof=0))


def test_batchnorm_test_mode_uses_the_running_statistics(rng):
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(3), np.zeros(3)
    for _ in range(50):
        batchnorm_forward(rng.normal(loc=5, scale=3, size=(200, 3)), gamma, beta, bn_param)
    bn_param["mode"] = "test"
    running = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    out, _ = batchnorm_forward(rng.normal(loc=5, scale=3, size=(500, 3)), gamma, beta, bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=0.2)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=0.1)
    np.testing.assert_array_equal(bn_param["running_mean"], running[0])   # not updated
    np.testing.assert_array_equal(bn_param["running_var"], running[1])


def test_batchnorm_test_mode_formula(rng):
    x, gamma, beta = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)
    bn_param = {"mode": "test", "running_mean": rng.normal(size=3), "running_var": np.ones(3) * 4}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    std = np.sqrt(4 + 1e-5)
    np.testing.assert_allclose(out, gamma * (x - bn_param["running_mean"]) / std + beta)
    dout = rng.normal(size=(4, 3))
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        np.testing.assert_allclose(backward(dout, cache)[0], dout * gamma / std)


def test_batchnorm_staged_and_closed_form_backward_agree(rng, x):
    gamma, beta, dout = rng.normal(size=3), rng.normal(size=3), rng.normal(size=x.shape)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for staged, closed in zip(
        batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache), strict=True
    ):
        np.testing.assert_allclose(staged, closed, rtol=1e-9, atol=1e-12)


def test_batchnorm_float32_keeps_float32_everywhere(x):
    bn_param = {"mode": "train"}
    x32 = x.astype(np.float32)
    out, cache = batchnorm_forward(x32, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert out.dtype == np.float32
    assert bn_param["running_mean"].dtype == bn_param["running_var"].dtype == np.float32
    for grad in batchnorm_backward(np.ones_like(x32), cache):
        assert grad.dtype == np.float32
    bn_param["mode"] = "test"
    out, _ = batchnorm_forward(x32, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert out.dtype == np.float32


def test_batchnorm_accepts_integer_gamma_beta_lists_and_extra_keys(x):
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.9, "unused": "anything"}
    out, _ = batchnorm_forward(x.tolist(), [1, 2, 3], np.array([0, 0, 0]), bn_param)
    assert out.dtype == np.float64
    var = x.var(axis=0)
    np.testing.assert_allclose(out.std(axis=0), [1, 2, 3] * np.sqrt(var / (var + 1e-5)))


def test_batchnorm_with_one_example_gives_beta():
    out, _ = batchnorm_forward(np.array([[3.0, -4.0]]), np.ones(2), np.array([7.0, 8.0]),
                               {"mode": "train"})
    np.testing.assert_array_equal(out, [[7.0, 8.0]])


def test_layernorm_normalizes_each_example(rng):
    x = rng.normal(loc=3, scale=4, size=(5, 8))
    gamma, beta = rng.normal(size=8), rng.normal(size=8)
    out, _ = layernorm_forward(x, np.ones(8), np.zeros(8), {})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-5)
    out, _ = layernorm_forward(x, gamma, beta, {"mode": "train"})   # notebooks pass 'mode'
    xhat = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, gamma * xhat + beta)


def test_layernorm_backward_shapes_and_the_parameter_gradients(rng):
    x, gamma, beta = rng.normal(size=(4, 6)), rng.normal(size=6), np.zeros(6)
    out, cache = layernorm_forward(x, gamma, beta, {"eps": 1e-3})
    dout = rng.normal(size=out.shape)
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    assert (dx.shape, dgamma.shape, dbeta.shape) == ((4, 6), (6,), (6,))
    np.testing.assert_allclose(dbeta, dout.sum(axis=0))
    np.testing.assert_allclose(dgamma, (dout * (out - beta) / gamma).sum(axis=0))
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-12)   # shifting a row changes nothing


@pytest.mark.parametrize(
    ("bn_param", "error", "message"),
    [
        ({}, ValueError, r"batchnorm_forward: bn_param has no 'mode'; expected 'train' or 'test'"),
        ({"mode": "eval"}, ValueError, r"batchnorm_forward: bn_param\['mode'\] is 'eval'"),
        ([("mode", "train")], TypeError, r"batchnorm_forward: bn_param must be a dict"),
        ({"mode": "train", "eps": "small"}, TypeError, r"bn_param\['eps'\] is 'small'"),
        ({"mode": "test", "running_mean": np.zeros(4)}, ValueError,
         r"batchnorm_forward: bn_param\['running_mean'\] has shape \(4,\); expected \(3,\)"),
    ],
)
def test_batchnorm_rejects_bad_bn_param(rng, bn_param, error, message):
    with pytest.raises(error, match=message):
        batchnorm_forward(rng.normal(size=(2, 3)), np.ones(3), np.zeros(3), bn_param)


@pytest.mark.parametrize(
    ("forward", "param"), [(batchnorm_forward, {"mode": "train"}), (layernorm_forward, {})]
)
def test_normalization_rejects_bad_shapes(forward, param):
    name = forward.__name__
    with pytest.raises(ValueError, match=rf"{name}: x has shape \(2, 3, 4\); expected 2 dim"):
        forward(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3), param)
    with pytest.raises(ValueError, match=rf"{name}: gamma has shape \(4,\); expected \(3,\)"):
        forward(np.zeros((2, 3)), np.ones(4), np.zeros(3), param)
    with pytest.raises(ValueError, match=rf"{name}: beta has shape \(1, 3\); expected \(3,\)"):
        forward(np.zeros((2, 3)), np.ones(3), np.zeros((1, 3)), param)


@pytest.mark.parametrize(
    ("forward", "backward", "param"),
    [
        (batchnorm_forward, batchnorm_backward, {"mode": "train"}),
        (batchnorm_forward, batchnorm_backward_alt, {"mode": "train"}),
        (layernorm_forward, layernorm_backward, {}),
    ],
)
def test_normalization_backward_rejects_dout_of_the_wrong_shape(forward, backward, param):
    _, cache = forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), param)
    with pytest.raises(ValueError, match=rf"{backward.__name__}: dout has shape \(3, 2\)"):
        backward(np.zeros((3, 2)), cache)


@pytest.mark.parametrize(
    ("bn_param", "message"),
    [
        ({"mode": "train", "eps": 0}, r"bn_param\['eps'\] is 0.0; expected a finite number > 0"),
        ({"mode": "train", "eps": -1e-5}, r"bn_param\['eps'\] is -1e-05"),
        ({"mode": "train", "eps": float("nan")}, r"bn_param\['eps'\] is nan"),
        ({"mode": "train", "momentum": 1.5}, r"bn_param\['momentum'\] is 1.5; expected .*\[0, 1\]"),
        ({"mode": "train", "momentum": -0.1}, r"bn_param\['momentum'\] is -0.1"),
        ({"mode": "test", "running_mean": np.zeros(3), "running_var": -np.ones(3)},
         r"bn_param\['running_var'\] has negative or NaN entries"),
        ({"mode": "test"}, r"bn_param has no 'running_mean' in test mode"),
        ({"mode": "test", "running_mean": np.zeros(3)},
         r"bn_param has no 'running_var' in test mode"),
    ],
)
def test_batchnorm_rejects_settings_that_give_nonsense(rng, bn_param, message):
    with pytest.raises(ValueError, match=rf"batchnorm_forward: {message}"):
        batchnorm_forward(rng.normal(size=(2, 3)), np.ones(3), np.zeros(3), bn_param)


def test_batchnorm_accepts_the_momentum_bounds_and_integer_eps(rng):
    x = rng.normal(size=(4, 3))
    for momentum in (0, 1):
        bn_param = {"mode": "train", "momentum": momentum, "eps": 1}
        batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
        expected = np.zeros(3) if momentum else x.mean(axis=0)
        np.testing.assert_allclose(bn_param["running_mean"], expected)


@pytest.mark.parametrize("eps", [-1e-5, 0.0, float("inf")])
def test_layernorm_and_groupnorm_reject_eps_that_is_not_positive(rng, eps):
    import layers

    with pytest.raises(ValueError, match=r"layernorm_forward: ln_param\['eps'\] is .* > 0"):
        layernorm_forward(rng.normal(size=(2, 3)), np.ones(3), np.zeros(3), {"eps": eps})
    with pytest.raises(ValueError, match=r"spatial_groupnorm_forward: gn_param\['eps'\] is"):
        layers.spatial_groupnorm_forward(rng.normal(size=(2, 4, 3, 3)), np.ones((1, 4, 1, 1)),
                                         np.zeros((1, 4, 1, 1)), 2, {"eps": eps})
