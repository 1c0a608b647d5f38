"""Every fully connected layer against PyTorch autograd in float64: forward and every gradient.

Batch size 1, a single feature and odd shapes are in every table. Convolution and
pooling are compared in their own files.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import layers  # noqa: E402  (after the importorskip on purpose)

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-9, 1e-12
BATCH_SHAPES = [(1, 1), (1, 7), (3, 5), (5, 13), (2, 3, 4)]


def _assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def _compare(ours_out, ours_grads, torch_fn, inputs, dout=None):
    """Run torch_fn on float64 leaves for inputs, backprop dout, compare out and every grad."""
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs]
    out = torch_fn(*leaves)
    out.backward(None if dout is None else torch.tensor(dout))
    _assert_close(ours_out, out)
    assert len(ours_grads) == len(leaves)
    for grad, leaf in zip(ours_grads, leaves, strict=True):
        assert grad.shape == leaf.shape
        _assert_close(grad, leaf.grad)


@pytest.mark.parametrize("shape", BATCH_SHAPES)
@pytest.mark.parametrize(
    ("name", "torch_fn"),
    [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)],
)
def test_activation_matches_torch(rng, name, torch_fn, shape):
    x = rng.normal(scale=3, size=shape)
    x.flat[0] = 0.0                                  # the ReLU kink: both give gradient 0
    dout = rng.normal(size=shape)
    out, cache = getattr(layers, f"{name}_forward")(x)
    dx = getattr(layers, f"{name}_backward")(dout, cache)
    _compare(out, [dx], torch_fn, [x], dout)


def test_sigmoid_matches_torch_at_plus_minus_1000():
    x = np.array([-1000.0, -40.0, 40.0, 1000.0])
    out, cache = layers.sigmoid_forward(x)
    _compare(out, [layers.sigmoid_backward(np.ones(4), cache)], torch.sigmoid, [x], np.ones(4))


@pytest.mark.parametrize(("shape", "M"), [((1, 1), 1), ((1, 7), 3), ((3, 2, 5), 4), ((5, 13), 1)])
def test_affine_matches_torch(rng, shape, M):
    D = int(np.prod(shape[1:]))
    x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
    dout = rng.normal(size=(shape[0], M))
    out, cache = layers.affine_forward(x, w, b)
    grads = layers.affine_backward(dout, cache)
    _compare(out, grads, lambda x, w, b: x.reshape(len(x), -1) @ w + b, [x, w, b], dout)


@pytest.mark.parametrize(("shape", "M"), [((1, 1), 1), ((1, 7), 3), ((3, 2, 5), 4), ((5, 13), 2)])
def test_affine_relu_matches_torch(rng, shape, M):
    D = int(np.prod(shape[1:]))
    x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
    dout = rng.normal(size=(shape[0], M))
    out, cache = layers.affine_relu_forward(x, w, b)
    grads = layers.affine_relu_backward(dout, cache)
    _compare(out, grads, lambda x, w, b: F.relu(F.linear(x.reshape(len(x), -1), w.T, b)),
             [x, w, b], dout)


LOSS_SHAPES = [(1, 1), (1, 5), (7, 3), (4, 10)]


@pytest.mark.parametrize(("N", "C"), LOSS_SHAPES)
def test_softmax_loss_matches_torch(rng, N, C):
    x, y = rng.normal(scale=5, size=(N, C)), rng.integers(C, size=N)
    loss, dx = layers.softmax_loss(x, y)
    _compare(loss, [dx], lambda x: F.cross_entropy(x, torch.tensor(y)), [x])


def test_softmax_loss_matches_torch_at_1e4(rng):
    x, y = rng.normal(scale=1e4, size=(6, 4)), rng.integers(4, size=6)
    loss, dx = layers.softmax_loss(x, y)
    _compare(loss, [dx], lambda x: F.cross_entropy(x, torch.tensor(y)), [x])


@pytest.mark.parametrize(("N", "C"), LOSS_SHAPES)
def test_svm_loss_matches_torch(rng, N, C):
    x, y = rng.normal(size=(N, C)), rng.integers(C, size=N)
    loss, dx = layers.svm_loss(x, y)
    # torch averages the hinge terms over C as well as N: multiply C back
    _compare(loss, [dx], lambda x: C * F.multi_margin_loss(x, torch.tensor(y), margin=1), [x])


@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_mse_loss_matches_torch(rng, shape):
    x, t = rng.normal(size=shape), rng.normal(size=shape)
    loss, dx = layers.mse_loss(x, t)
    half_sum_over_n = lambda x: 0.5 * F.mse_loss(x, torch.tensor(t), reduction="sum") / len(x)  # noqa: E731
    _compare(loss, [dx], half_sum_over_n, [x])


NORM_SHAPES = [(1, 1), (1, 6), (2, 3), (7, 5), (16, 1)]


def _torch_batchnorm_train(x, gamma, beta):
    """Batchnorm from torch primitives (F.batch_norm refuses a batch of one in training)."""
    mu, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
    return gamma * (x - mu) / torch.sqrt(var + 1e-5) + beta


@pytest.mark.parametrize("backward_name", ["batchnorm_backward", "batchnorm_backward_alt"])
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_batchnorm_train_matches_torch(rng, shape, backward_name):
    x = rng.normal(loc=2, scale=3, size=shape)
    gamma, beta, dout = rng.normal(size=shape[1]), rng.normal(size=shape[1]), rng.normal(size=shape)
    bn_param = {"mode": "train"}
    out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    grads = getattr(layers, backward_name)(dout, cache)
    torch_fn = _torch_batchnorm_train
    if shape[0] > 1:
        torch_fn = lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True)  # noqa: E731
    _compare(out, grads, torch_fn, [x, gamma, beta], dout)


@pytest.mark.parametrize("shape", [(2, 3), (7, 5)])
def test_batchnorm_running_mean_matches_torch_momentum(rng, shape):
    x = rng.normal(loc=2, scale=3, size=shape)
    bn_param = {"mode": "train", "momentum": 0.8}
    running_mean = torch.zeros(shape[1], dtype=torch.float64)
    running_var = torch.zeros(shape[1], dtype=torch.float64)
    layers.batchnorm_forward(x, np.ones(shape[1]), np.zeros(shape[1]), bn_param)
    F.batch_norm(torch.tensor(x), running_mean, running_var, training=True, momentum=0.2)
    _assert_close(bn_param["running_mean"], running_mean)
    # torch keeps the unbiased variance; the course keeps the biased one
    np.testing.assert_allclose(bn_param["running_var"], 0.2 * x.var(axis=0), rtol=RTOL)


@pytest.mark.parametrize("backward_name", ["batchnorm_backward", "batchnorm_backward_alt"])
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_batchnorm_test_mode_matches_torch(rng, shape, backward_name):
    D = shape[1]
    x, gamma, beta, dout = (rng.normal(size=shape), rng.normal(size=D), rng.normal(size=D),
                            rng.normal(size=shape))
    mean, var = rng.normal(size=D), rng.uniform(0.5, 2, size=D)
    bn_param = {"mode": "test", "running_mean": mean, "running_var": var}
    out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    grads = getattr(layers, backward_name)(dout, cache)
    torch_fn = lambda x, g, b: F.batch_norm(  # noqa: E731
        x, torch.tensor(mean), torch.tensor(var), g, b, training=False
    )
    _compare(out, grads, torch_fn, [x, gamma, beta], dout)


@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_layernorm_matches_torch(rng, shape):
    D = shape[1]
    x, gamma, beta, dout = (rng.normal(loc=1, scale=2, size=shape), rng.normal(size=D),
                            rng.normal(size=D), rng.normal(size=shape))
    out, cache = layers.layernorm_forward(x, gamma, beta, {"mode": "train"})
    grads = layers.layernorm_backward(dout, cache)
    _compare(out, grads, lambda x, g, b: F.layer_norm(x, (D,), g, b, eps=1e-5),
             [x, gamma, beta], dout)


@pytest.mark.parametrize("shape", BATCH_SHAPES)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropout_matches_torch_with_the_same_mask(rng, shape, mode):
    x, dout, p = rng.normal(size=shape), rng.normal(size=shape), 0.6
    out, cache = layers.dropout_forward(x, {"mode": mode, "p": p, "seed": 7})
    dx = layers.dropout_backward(dout, cache)
    np.random.seed(7)
    keep = torch.tensor(np.random.rand(*shape) < p) if mode == "train" else torch.ones(shape) > 0
    scale = 1 / p if mode == "train" else 1.0
    _compare(out, [dx], lambda x: torch.where(keep, x * scale, 0.0), [x], dout)


@pytest.mark.parametrize("shape", [(1,), (1, 1), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize(
    ("gate", "torch_fn"),
    [("add", torch.add), ("multiply", torch.mul), ("max", torch.maximum)],
)
def test_gate_matches_torch(rng, gate, torch_fn, shape):
    x, y, dout = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
    out, cache = getattr(layers, f"{gate}_forward")(x, y)
    grads = getattr(layers, f"{gate}_backward")(dout, cache)
    _compare(out, grads, torch_fn, [x, y], dout)
