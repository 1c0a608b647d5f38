"""Conv sandwiches: each equals its layers chained by hand, forward and backward."""

import numpy as np
import pytest

import layers

CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _inputs(rng, N=2, C=3, H=6, W=5, F=4):
    return rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, 3, 3)), rng.normal(size=F)


def _assert_all_close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_conv_relu_is_conv_then_relu(rng):
    x, w, b = _inputs(rng)
    out, cache = layers.conv_relu_forward(x, w, b, CONV_PARAM)
    a, conv_cache = layers.conv_forward_naive(x, w, b, CONV_PARAM)
    expected, relu_cache = layers.relu_forward(a)
    dout = rng.normal(size=out.shape)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    _assert_all_close(layers.conv_relu_backward(dout, cache), layers.conv_backward_naive(
        layers.relu_backward(dout, relu_cache), conv_cache))


def test_conv_relu_pool_is_conv_then_relu_then_pool(rng):
    x, w, b = _inputs(rng)
    out, cache = layers.conv_relu_pool_forward(x, w, b, CONV_PARAM, POOL_PARAM)
    a, conv_cache = layers.conv_forward_naive(x, w, b, CONV_PARAM)
    s, relu_cache = layers.relu_forward(a)
    expected, pool_cache = layers.max_pool_forward_naive(s, POOL_PARAM)
    assert out.shape == (2, 4, 3, 2)                 # 6x5 -> 3x2, the last column dropped
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    dout = rng.normal(size=out.shape)
    ds = layers.max_pool_backward_naive(dout, pool_cache)
    _assert_all_close(layers.conv_relu_pool_backward(dout, cache),
                      layers.conv_backward_naive(layers.relu_backward(ds, relu_cache), conv_cache))


def test_conv_bn_relu_is_conv_then_spatial_batchnorm_then_relu(rng):
    x, w, b = _inputs(rng)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    bn_param, bn_param_by_hand = {"mode": "train"}, {"mode": "train"}
    out, cache = layers.conv_bn_relu_forward(x, w, b, gamma, beta, CONV_PARAM, bn_param)
    a, conv_cache = layers.conv_forward_naive(x, w, b, CONV_PARAM)
    an, bn_cache = layers.spatial_batchnorm_forward(a, gamma, beta, bn_param_by_hand)
    expected, relu_cache = layers.relu_forward(an)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], bn_param_by_hand["running_mean"])
    dout = rng.normal(size=out.shape)
    da, dgamma, dbeta = layers.spatial_batchnorm_backward(
        layers.relu_backward(dout, relu_cache), bn_cache)
    grads = layers.conv_bn_relu_backward(dout, cache)
    assert len(grads) == 5
    _assert_all_close(grads, (*layers.conv_backward_naive(da, conv_cache), dgamma, dbeta))


@pytest.mark.parametrize("name", ["conv_relu", "conv_relu_pool"])
def test_conv_sandwiches_can_skip_dx(rng, name):
    x, w, b = _inputs(rng)
    params = (CONV_PARAM, POOL_PARAM)[: 1 + (name == "conv_relu_pool")]
    out, cache = getattr(layers, f"{name}_forward")(x, w, b, *params)
    dout = rng.normal(size=out.shape)
    dx, dw, db = getattr(layers, f"{name}_backward")(dout, cache, need_dx=False)
    assert dx is None
    _assert_all_close((dw, db), getattr(layers, f"{name}_backward")(dout, cache)[1:])


def test_conv_sandwiches_keep_float32(rng):
    x, w, b = (a.astype(np.float32) for a in _inputs(rng))
    out, cache = layers.conv_relu_pool_forward(x, w, b, CONV_PARAM, POOL_PARAM)
    grads = layers.conv_relu_pool_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 3
