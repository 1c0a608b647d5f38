"""Every model against the same network written with torch autograd, in float64."""

import numpy as np
import pytest

from models import FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch


def randomize(model, rng):
    """Non-trivial biases, gamma and beta (the constructor's zeros and ones hide mistakes)."""
    for name, p in model.params.items():
        if not name.startswith("W"):
            model.params[name] = p + 0.5 * rng.standard_normal(p.shape)


def torch_params(model):
    return {name: torch.tensor(p, requires_grad=True) for name, p in model.params.items()}


def l2(model, t):
    return 0.5 * model.reg * sum((t[name] ** 2).sum() for name in t if name.startswith("W"))


def assert_same_loss_and_grads(model, X, y, torch_scores):
    loss, grads = model.loss(X, y)
    t = torch_params(model)
    scores = torch_scores(t, torch.tensor(X))
    expected = F.cross_entropy(scores, torch.tensor(y)) + l2(model, t)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    for name in model.params:
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_two_layer_net_matches_torch(reg, rng):
    np.random.seed(0)
    model = TwoLayerNet(12, 9, 5, weight_scale=0.3, reg=reg)
    randomize(model, rng)
    X, y = rng.standard_normal((7, 3, 2, 2)), rng.integers(5, size=7)

    def scores(t, X):
        h1 = F.relu(X.reshape(len(X), -1) @ t["W1"] + t["b1"])
        return h1 @ t["W2"] + t["b2"]

    assert_same_loss_and_grads(model, X, y, scores)


def fc_scores(model, masks=None):
    """FullyConnectedNet's forward in torch: {affine - [norm] - relu - [mask]} x L-1, affine."""
    def scores(t, X):
        h = X
        for i in range(1, model.num_layers):
            a = h @ t[f"W{i}"] + t[f"b{i}"]
            if model.normalization == "batchnorm":
                a = F.batch_norm(a, None, None, t[f"gamma{i}"], t[f"beta{i}"], training=True,
                                 eps=1e-5)
            elif model.normalization == "layernorm":
                a = F.layer_norm(a, a.shape[1:], t[f"gamma{i}"], t[f"beta{i}"], eps=1e-5)
            h = F.relu(a)
            if masks is not None:
                h = h * torch.tensor(masks[i - 1])
        L = model.num_layers
        return h @ t[f"W{L}"] + t[f"b{L}"]
    return scores


@pytest.mark.parametrize("reg", [0.0, 0.3])
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_fully_connected_net_matches_torch(normalization, reg, rng):
    np.random.seed(0)
    model = FullyConnectedNet([11, 9, 8], input_dim=6, num_classes=5, reg=reg,
                              weight_scale=0.3, normalization=normalization, dtype=np.float64)
    randomize(model, rng)
    X, y = rng.standard_normal((10, 6)), rng.integers(5, size=10)
    assert_same_loss_and_grads(model, X, y, fc_scores(model))


def test_fully_connected_net_with_dropout_matches_torch_with_the_same_masks(rng):
    np.random.seed(0)
    keep, seed, N = 0.6, 7, 10
    model = FullyConnectedNet([11, 9], input_dim=6, num_classes=5, weight_scale=0.3,
                              dropout_keep_ratio=keep, seed=seed, dtype=np.float64)
    randomize(model, rng)
    masks = []
    for H in (11, 9):                        # each dropout layer re-seeds, as the contract says
        np.random.seed(seed)
        masks.append((np.random.rand(N, H) < keep) / keep)
    X, y = rng.standard_normal((N, 6)), rng.integers(5, size=N)
    assert_same_loss_and_grads(model, X, y, fc_scores(model, masks))


def test_batchnorm_test_mode_matches_torch_with_the_running_statistics(rng):
    np.random.seed(0)
    model = FullyConnectedNet([11, 9], input_dim=6, num_classes=5, weight_scale=0.3,
                              normalization="batchnorm", dtype=np.float64)
    randomize(model, rng)
    X = rng.standard_normal((10, 6))
    for _ in range(3):
        model.loss(X, rng.integers(5, size=10))
    t = {name: torch.tensor(p) for name, p in model.params.items()}
    h = torch.tensor(X)
    for i, bn_param in enumerate(model.bn_params, start=1):
        a = h @ t[f"W{i}"] + t[f"b{i}"]
        a = F.batch_norm(a, torch.tensor(bn_param["running_mean"]),
                         torch.tensor(bn_param["running_var"]), t[f"gamma{i}"], t[f"beta{i}"],
                         training=False, eps=1e-5)
        h = F.relu(a)
    expected = h @ t["W3"] + t["b3"]
    np.testing.assert_allclose(model.loss(X), expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("filter_size", "reg"), [(3, 0.0), (5, 0.2)])
def test_three_layer_conv_net_matches_torch(filter_size, reg, rng):
    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(2, 7, 6), num_filters=4, filter_size=filter_size,
                              hidden_dim=8, num_classes=5, weight_scale=0.2, reg=reg,
                              dtype=np.float64)
    randomize(model, rng)
    X, y = rng.standard_normal((4, 2, 7, 6)), rng.integers(5, size=4)

    def scores(t, X):
        h1 = F.max_pool2d(F.relu(F.conv2d(X, t["W1"], t["b1"], padding=(filter_size - 1) // 2)),
                          2, 2)
        h2 = F.relu(h1.reshape(len(X), -1) @ t["W2"] + t["b2"])
        return h2 @ t["W3"] + t["b3"]

    assert_same_loss_and_grads(model, X, y, scores)
