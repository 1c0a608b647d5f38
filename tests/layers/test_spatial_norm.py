"""Spatial batchnorm and spatial groupnorm: statistics, running averages, equivalences, errors.

Numeric gradients of both run in the contract table (test_layer_contract.py);
here: the statistics the course notebooks print, and what each layer is built
from (batchnorm of the pixel matrix; layernorm when G = 1).
"""

import numpy as np
import pytest

import layers
from gradcheck import check_layer


def _channel_stats(a):
    return a.mean(axis=(0, 2, 3)), a.std(axis=(0, 2, 3))


def test_spatial_batchnorm_train_output_has_mean_beta_and_std_gamma(rng):
    N, C, H, W = 2, 3, 4, 5
    x = 4 * rng.normal(size=(N, C, H, W)) + 10
    gamma, beta = np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0])
    out, _ = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    mean, std = _channel_stats(out)
    np.testing.assert_allclose(mean, beta, atol=1e-12)
    np.testing.assert_allclose(std, gamma, rtol=1e-5)    # sqrt(var / (var + eps)) ~ 1
    out, _ = layers.spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})
    np.testing.assert_allclose(_channel_stats(out)[0], 0, atol=1e-12)


def test_spatial_batchnorm_keeps_running_averages_for_test_mode(rng):
    N, C, H, W = 10, 4, 11, 12
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(C), np.zeros(C)
    x = 2.3 * rng.normal(size=(N, C, H, W)) + 13
    layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    mean, std = _channel_stats(x)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * mean, rtol=1e-12)  # momentum 0.9
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * std**2, rtol=1e-12)  # biased
    assert bn_param["running_mean"].shape == (C,)
    for _ in range(50):
        layers.spatial_batchnorm_forward(2.3 * rng.normal(size=(N, C, H, W)) + 13, gamma, beta,
                                         bn_param)
    bn_param["mode"] = "test"
    out, _ = layers.spatial_batchnorm_forward(2.3 * rng.normal(size=(N, C, H, W)) + 13, gamma,
                                              beta, bn_param)
    mean, std = _channel_stats(out)
    np.testing.assert_allclose(mean, 0, atol=0.1)
    np.testing.assert_allclose(std, 1, atol=0.1)


def test_spatial_batchnorm_is_batchnorm_of_the_pixel_matrix(rng):
    N, C, H, W = 3, 4, 2, 5
    x, dout = rng.normal(size=(N, C, H, W)), rng.normal(size=(N, C, H, W))
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    out, cache = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    grads = layers.spatial_batchnorm_backward(dout, cache)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out2d, cache2d = layers.batchnorm_forward(rows, gamma, beta, {"mode": "train"})
    dx2d, dgamma, dbeta = layers.batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C),
                                                    cache2d)
    dx = dx2d.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, out2d.reshape(N, H, W, C).transpose(0, 3, 1, 2), rtol=1e-12)
    for ours, theirs in zip(grads, (dx, dgamma, dbeta), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("G", [1, 2, 6])
def test_spatial_groupnorm_normalizes_each_group_of_each_example(rng, G):
    N, C, H, W = 2, 6, 4, 5
    x = 4 * rng.normal(size=(N, C, H, W)) + 10
    out, _ = layers.spatial_groupnorm_forward(x, np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1)), G,
                                              {})
    groups = out.reshape(N, G, -1)
    np.testing.assert_allclose(groups.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(groups.std(axis=2), 1, rtol=1e-5)
    gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
    scaled, _ = layers.spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-5})
    np.testing.assert_allclose(scaled, gamma * out + beta, rtol=1e-12, atol=1e-12)


def test_spatial_groupnorm_with_one_group_is_layernorm_of_each_image(rng):
    N, C, H, W = 3, 4, 2, 3
    x, dout = rng.normal(size=(N, C, H, W)), rng.normal(size=(N, C, H, W))
    out, cache = layers.spatial_groupnorm_forward(x, np.ones((1, C, 1, 1)),
                                                  np.zeros((1, C, 1, 1)), 1, {"mode": "train"})
    dx, _, _ = layers.spatial_groupnorm_backward(dout, cache)
    D = C * H * W
    out2d, cache2d = layers.layernorm_forward(x.reshape(N, D), np.ones(D), np.zeros(D), {})
    dx2d, _, _ = layers.layernorm_backward(dout.reshape(N, D), cache2d)
    np.testing.assert_allclose(out, out2d.reshape(x.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx2d.reshape(x.shape), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("G", [1, 3])
def test_spatial_groupnorm_gradients_match_numeric(rng, G):
    C = 3
    x = rng.normal(size=(2, C, 3, 2))
    gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
    result = check_layer(layers.spatial_groupnorm_forward, layers.spatial_groupnorm_backward,
                         x, gamma, beta, G, {}, seed=1)
    assert result.passed, str(result)
    assert [r.name for r in result.results] == ["dx", "dgamma", "dbeta"]


@pytest.mark.parametrize("norm", ["batchnorm", "groupnorm"])
def test_spatial_norms_keep_float32(rng, norm):
    x = rng.normal(size=(2, 4, 3, 3)).astype(np.float32)
    C = x.shape[1]
    if norm == "batchnorm":
        out, cache = layers.spatial_batchnorm_forward(x, np.ones(C, np.float32),
                                                      np.zeros(C, np.float32), {"mode": "train"})
        grads = layers.spatial_batchnorm_backward(np.ones_like(out), cache)
    else:
        ones = np.ones((1, C, 1, 1), np.float32)
        out, cache = layers.spatial_groupnorm_forward(x, ones, 0 * ones, 2, {})
        grads = layers.spatial_groupnorm_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 3


def test_spatial_norms_accept_integer_gamma_and_beta(rng):
    x = rng.normal(size=(2, 4, 3, 3))
    out, _ = layers.spatial_batchnorm_forward(x, [1, 1, 1, 1], np.zeros(4, int), {"mode": "train"})
    assert out.dtype == np.float64
    out, _ = layers.spatial_groupnorm_forward(x, np.ones((1, 4, 1, 1), int),
                                              np.zeros((1, 4, 1, 1), int), 2, {"mode": "test"})
    assert out.dtype == np.float64


def test_spatial_groupnorm_rejects_a_group_count_that_does_not_divide_c():
    ones = np.ones((1, 6, 1, 1))
    with pytest.raises(ValueError, match=r"G is 4, which does not divide the C = 6 channels"):
        layers.spatial_groupnorm_forward(np.zeros((2, 6, 3, 3)), ones, ones, 4, {})
    with pytest.raises(ValueError, match=r"spatial_groupnorm_forward: G is 0; expected an integer"):
        layers.spatial_groupnorm_forward(np.zeros((2, 6, 3, 3)), ones, ones, 0, {})


@pytest.mark.parametrize(
    ("forward", "gamma", "message"),
    [(layers.spatial_batchnorm_forward, np.ones(5),
      r"spatial_batchnorm_forward: gamma has shape \(5,\); expected \(4,\) "
      r"\(one per channel of x \(2, 4, 3, 3\)\)"),
     (layers.spatial_groupnorm_forward, np.ones(4),
      r"spatial_groupnorm_forward: gamma has shape \(4,\); expected \(1, 4, 1, 1\)")],
)
def test_spatial_norms_reject_gamma_of_the_wrong_shape(forward, gamma, message):
    x, beta = np.zeros((2, 4, 3, 3)), np.zeros(gamma.shape)
    args = (2, {}) if forward is layers.spatial_groupnorm_forward else ({"mode": "train"},)
    with pytest.raises(ValueError, match=message):
        forward(x, gamma, beta, *args)


def test_spatial_batchnorm_rejects_x_that_is_not_an_image_batch():
    with pytest.raises(ValueError, match=r"spatial_batchnorm_forward: x has shape \(2, 4\)"):
        layers.spatial_batchnorm_forward(np.zeros((2, 4)), np.ones(4), np.zeros(4),
                                         {"mode": "train"})
    with pytest.raises(ValueError, match=r"bn_param has no 'mode'"):
        layers.spatial_batchnorm_forward(np.zeros((2, 4, 1, 1)), np.ones(4), np.zeros(4), {})
