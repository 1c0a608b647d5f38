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


def test_a_nondeterministic_loss_is_blamed_before_any_gradient(rng):
    model = small_net()
    loss, draws = model.loss, np.random.default_rng(5)

    def noisy_loss(X, y=None):
        value, grads = loss(X, y)
        return value + 1e-6 * draws.random(), grads     # a random source the check cannot seed

    model.loss = noisy_loss
    for fast in (False, True):
        lc = check_model(model, *data(rng), fast=fast)
        assert [r.name for r in lc.results] == ["forward"]
        assert lc.result("forward").verdict == "fail"
        assert "not deterministic" in lc.result("forward").hint


def test_fast_mode_uses_few_loss_evaluations(rng):
    model = small_net(reg=0.0)
    loss, calls = model.loss, []

    def counted(X, y=None):
        calls.append(1)
        return loss(X, y)

    model.loss = counted
    lc = check_model(model, *data(rng), fast=True)
    assert lc.passed
    # analytic pass, base loss, then two evaluations per direction; the random second
    # direction (and a probe) only where the first did not agree far below tol
    assert len(calls) <= 2 + 2 * len(model.params) + 6 * sum(r.checked > 1 for r in lc.results)
    assert sum(r.checked == 1 for r in lc.results) >= len(model.params) // 2


@pytest.mark.parametrize("fast", [False, True])
def test_model_sweep_is_a_v_for_a_right_gradient(rng, fast):
    r = check_model(small_net(), *data(rng), fast=fast, sweep=True).result("W2")
    errors = np.array([e for _, e in r.sweep])
    assert len(errors) == 12
    bottom = int(np.argmin(errors))
    assert errors[bottom] < 1e-7
    assert errors[-1] > 100 * errors[bottom]


def test_fast_mode_names_the_narrowed_entries_in_the_hint(rng):
    model = small_net()
    loss = model.loss

    def loss_wrong_entry(X, y=None):
        value, grads = loss(X, y)
        grads["W1"] = grads["W1"].copy()
        grads["W1"][5, 2] *= 3.0
        return value, grads

    model.loss = loss_wrong_entry
    r = check_model(model, *data(rng), fast=True).result("W1")
    assert r.verdict == "fail"
    assert "[5, 2]" in r.hint
    assert r.worst[0]["index"] == [5, 2]
