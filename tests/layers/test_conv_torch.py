"""Convolution, pooling and spatial normalization against PyTorch autograd in float64.

Forward and every gradient, naive and fast, over stride 1 and 2, padding 0, 1
and 3, non-square inputs and filters, 1x1 filters and windows that do not tile
the input. Pooling inputs have no ties (torch's choice among equal values is
not part of its contract).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import layers  # noqa: E402  (after the importorskip on purpose)

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-9, 1e-12

CONV_CONFIGS = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
    ((2, 4, 6, 6), (3, 4, 3, 3), 1, 0),
    ((2, 3, 7, 5), (4, 3, 3, 2), 2, 1),
    ((3, 2, 8, 9), (2, 2, 3, 3), 2, 0),
    ((2, 3, 5, 6), (2, 3, 2, 3), 2, 3),
    ((1, 5, 4, 3), (3, 5, 1, 1), 1, 3),
    ((1, 4, 5, 5), (2, 4, 7, 7), 1, 3),
]
POOL_CONFIGS = [
    ((2, 3, 8, 8), (2, 2, 2)),
    ((2, 3, 7, 5), (2, 2, 2)),
    ((2, 2, 6, 7), (3, 3, 1)),
    ((1, 2, 7, 6), (3, 2, 2)),
    ((2, 2, 8, 8), (2, 2, 3)),
    ((1, 1, 1, 1), (1, 1, 1)),
]


def _leaf(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _assert_close(ours, theirs):
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("config", CONV_CONFIGS)
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_conv_matches_torch(rng, config, kind):
    x_shape, w_shape, stride, pad = config
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    out, cache = getattr(layers, f"conv_forward_{kind}")(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.normal(size=out.shape)
    grads = getattr(layers, f"conv_backward_{kind}")(dout, cache)
    leaves = [_leaf(a) for a in (x, w, b)]
    out_t = F.conv2d(*leaves, stride=stride, padding=pad)
    out_t.backward(torch.tensor(dout))
    _assert_close(out, out_t)
    for grad, leaf in zip(grads, leaves, strict=True):
        _assert_close(grad, leaf.grad)


@pytest.mark.parametrize("config", POOL_CONFIGS)
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_matches_torch(rng, config, kind):
    x_shape, (PH, PW, stride) = config
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) / np.prod(x_shape)
    pool_param = {"pool_height": PH, "pool_width": PW, "stride": stride}
    out, cache = getattr(layers, f"max_pool_forward_{kind}")(x, pool_param)
    dout = rng.normal(size=out.shape)
    dx = getattr(layers, f"max_pool_backward_{kind}")(dout, cache)
    leaf = _leaf(x)
    out_t = F.max_pool2d(leaf, (PH, PW), stride=stride)
    out_t.backward(torch.tensor(dout))
    _assert_close(out, out_t)
    _assert_close(dx, leaf.grad)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (5, 1, 1, 2)])
def test_spatial_batchnorm_matches_torch(rng, shape):
    C = shape[1]
    x, dout = 3 * rng.normal(size=shape) + 2, rng.normal(size=shape)
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    bn_param = {"mode": "train", "momentum": 0.9}
    out, cache = layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    grads = layers.spatial_batchnorm_backward(dout, cache)
    leaves = [_leaf(a) for a in (x, gamma, beta)]
    running_mean, running_var = (torch.zeros(C, dtype=torch.float64) for _ in range(2))
    out_t = F.batch_norm(leaves[0], running_mean, running_var, leaves[1], leaves[2],
                         training=True, momentum=0.1, eps=1e-5)   # torch's momentum: new batch
    out_t.backward(torch.tensor(dout))
    _assert_close(out, out_t)
    _assert_close(bn_param["running_mean"], running_mean)
    n = x.size // C                                   # torch keeps the unbiased variance
    _assert_close(bn_param["running_var"], running_var * (n - 1) / n)
    for grad, leaf in zip(grads, leaves, strict=True):
        _assert_close(grad, leaf.grad)


@pytest.mark.parametrize(("shape", "G"), [((2, 6, 3, 4), 2), ((1, 4, 2, 2), 4), ((3, 3, 1, 2), 1)])
def test_spatial_groupnorm_matches_torch(rng, shape, G):
    C = shape[1]
    x, dout = 3 * rng.normal(size=shape) + 2, rng.normal(size=shape)
    gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
    out, cache = layers.spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-5})
    dx, dgamma, dbeta = layers.spatial_groupnorm_backward(dout, cache)
    leaves = [_leaf(a) for a in (x, gamma.ravel(), beta.ravel())]
    out_t = F.group_norm(leaves[0], G, leaves[1], leaves[2], eps=1e-5)
    out_t.backward(torch.tensor(dout))
    _assert_close(out, out_t)
    _assert_close(dx, leaves[0].grad)
    _assert_close(dgamma.ravel(), leaves[1].grad)
    _assert_close(dbeta.ravel(), leaves[2].grad)


def test_conv_bn_relu_matches_torch(rng):
    x, w, b = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    out, cache = layers.conv_bn_relu_forward(x, w, b, gamma, beta, {"stride": 1, "pad": 1},
                                             {"mode": "train"})
    dout = rng.normal(size=out.shape)
    grads = layers.conv_bn_relu_backward(dout, cache)
    leaves = [_leaf(a) for a in (x, w, b, gamma, beta)]
    a = F.conv2d(*leaves[:3], padding=1)
    out_t = F.relu(F.batch_norm(a, None, None, leaves[3], leaves[4], training=True, eps=1e-5))
    out_t.backward(torch.tensor(dout))
    _assert_close(out, out_t)
    for grad, leaf in zip(grads, leaves, strict=True):
        _assert_close(grad, leaf.grad)
