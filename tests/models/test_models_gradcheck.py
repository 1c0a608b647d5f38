"""Every model through the library's own whole-model check, gradcheck.check_model."""

import numpy as np
import pytest

from gradcheck import check_model
from models import FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet

MODELS = {
    "TwoLayerNet": lambda: TwoLayerNet(12, 9, 5, weight_scale=0.3, reg=0.2),
    "FullyConnectedNet": lambda: FullyConnectedNet([9, 7], input_dim=12, num_classes=5,
                                                   weight_scale=0.3, reg=0.2, dtype=np.float64),
    "FullyConnectedNet-batchnorm-dropout": lambda: FullyConnectedNet(
        [9, 7], input_dim=12, num_classes=5, weight_scale=0.3, reg=0.2, dtype=np.float64,
        normalization="batchnorm", dropout_keep_ratio=0.7, seed=1),
    "FullyConnectedNet-layernorm": lambda: FullyConnectedNet(
        [9, 7], input_dim=12, num_classes=5, weight_scale=0.3, dtype=np.float64,
        normalization="layernorm"),
    "ThreeLayerConvNet": lambda: ThreeLayerConvNet(input_dim=(3, 2, 2), num_filters=3,
                                                   filter_size=3, hidden_dim=6, num_classes=5,
                                                   weight_scale=0.3, reg=0.2, dtype=np.float64),
}


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_check_model_passes_on_every_model(name, fast, rng):
    np.random.seed(0)
    model = MODELS[name]()
    X = rng.standard_normal((6, 3, 2, 2))
    y = rng.integers(5, size=6)
    params = {key: p.copy() for key, p in model.params.items()}
    result = check_model(model, X, y, fast=fast)
    assert result.passed, str(result)
    assert sorted(r.name for r in result.results) == sorted(model.params)
    for key, p in model.params.items():                 # the check puts the params back
        np.testing.assert_array_equal(p, params[key])


def test_check_model_catches_a_wrong_gradient(rng, monkeypatch):
    np.random.seed(0)
    model = MODELS["TwoLayerNet"]()
    loss = model.loss

    def doubled_b1(X, y=None):
        out = loss(X, y)
        if y is not None:
            out[1]["b1"] = 2 * out[1]["b1"]
        return out

    monkeypatch.setattr(model, "loss", doubled_b1)
    result = check_model(model, rng.standard_normal((6, 12)), rng.integers(5, size=6))
    assert not result.passed
    assert result.result("b1").verdict == "fail", str(result)
    assert result.result("W1").passed
