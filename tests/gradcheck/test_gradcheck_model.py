"""check_model: whole models, regularization apart, directional fast mode."""

import numpy as np
import pytest

import models
from gradcheck import check_model


def small_net(reg=0.5, **kwargs):
    np.random.seed(0)
    return models.FullyConnectedNet([6, 5], input_dim=7, num_classes=3, reg=reg,
                                    weight_scale=0.3, dtype=np.float64, **kwargs)


def data(rng):
    return rng.standard_normal((4, 7)), rng.integers(3, size=4)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_a_right_model_passes_and_is_left_as_it_was(rng, fast, normalization):
    model = small_net(normalization=normalization, dropout_keep_ratio=0.8, seed=2)
    before = {k: v.copy() for k, v in model.params.items()}
    lc = check_model(model, *data(rng), fast=fast)
    assert lc.passed
    assert [r.name for r in lc.results] == list(model.params)
    assert all(np.array_equal(model.params[k], v) for k, v in before.items())
    assert model.reg == 0.5


def test_a_missing_regularization_gradient_is_named(rng):
    model = small_net(reg=5.0)
    loss = model.loss

    def loss_without_reg_gradient(X, y=None):
        value, grads = loss(X, y)
        return value, {k: g - model.reg * model.params[k] if k.startswith("W") else g
                       for k, g in grads.items()}

    model.loss = loss_without_reg_gradient
    lc = check_model(model, *data(rng))
    assert lc.result("W1").verdict == "fail"
    assert "missing regularization" in lc.result("W1").hint
    assert lc.result("b1").verdict == "pass"


def test_fast_mode_narrows_a_wrong_entry_by_bisection(rng):
    model = small_net()
    loss = model.loss

    def loss_one_wrong_entry(X, y=None):
        value, grads = loss(X, y)
        grads["W2"] = grads["W2"].copy()
        grads["W2"][3, 1] += 0.5
        return value, grads

    model.loss = loss_one_wrong_entry
    r = check_model(model, *data(rng), fast=True).result("W2")
    assert r.verdict == "fail"
    assert r.worst[0]["index"] == [3, 1]
