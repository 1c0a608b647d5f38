"""Solver: course semantics, seeded repeatability, lr decay, custom rules, stop on NaN."""

import numpy as np
import pytest

from layers import affine_backward, affine_forward, softmax_loss
from models import FullyConnectedNet, TwoLayerNet
from solver import NonFiniteLossWarning, Solver

D, C = 6, 3


def blobs(gen, n):
    """n points in D dimensions around one of C centres; labels are the centres."""
    y = gen.integers(0, C, size=n)
    centres = np.eye(C, D) * 3
    return centres[y] + gen.standard_normal((n, D)), y


@pytest.fixture
def data(rng):
    X_train, y_train = blobs(rng, 120)
    X_val, y_val = blobs(rng, 40)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


class Softmax:
    """A course-style model with params and loss only (no state_dict): affine - softmax."""

    def __init__(self, reg=0.0):
        self.params = {"W": 0.01 * np.random.randn(D, C), "b": np.zeros(C)}
        self.reg = reg

    def loss(self, X, y=None):
        scores, cache = affine_forward(X, self.params["W"], self.params["b"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        _, dW, db = affine_backward(dscores, cache)
        return loss, {"W": dW, "b": db}


def two_layer():
    return TwoLayerNet(input_dim=D, hidden_dim=10, num_classes=C, weight_scale=0.1)


def run(data, model_factory=two_layer, **kwargs):
    np.random.seed(0)
    model = model_factory()
    solver = Solver(model, data, **{"verbose": False, "num_epochs": 3, "batch_size": 20, **kwargs})
    solver.train()
    return solver


def assert_same_params(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_same_seed_same_run_other_seed_other_run(data):
    a, b = run(data, seed=7), run(data, seed=7)
    assert_same_params(a.model.params, b.model.params)
    assert a.loss_history == b.loss_history
    assert a.val_acc_history == b.val_acc_history
    c = run(data, seed=8)
    assert a.loss_history != c.loss_history


def test_generator_as_seed_equals_int_seed(data):
    a = run(data, seed=3)
    b = run(data, seed=np.random.default_rng(3))
    assert a.loss_history == b.loss_history


def test_without_seed_global_state_repeats_run(data):
    a, b = run(data), run(data)             # run() calls np.random.seed(0) first
    assert a.loss_history == b.loss_history


def test_histories_and_checks_follow_course_schedule(data):
    solver = run(data, seed=0, num_epochs=3, batch_size=20, update_rule="adam",
                 optim_config={"learning_rate": 1e-2})
    assert solver.iterations_per_epoch == 6
    assert len(solver.loss_history) == 18
    assert len(solver.train_acc_history) == 4      # first iteration + 3 epoch ends
    assert solver.epoch == 3
    assert solver.best_val_acc == max(solver.val_acc_history)
    assert solver.best_val_acc > 0.8               # the blobs are easy


def test_train_leaves_model_at_best_params(data):
    solver = run(data, seed=0, update_rule="sgd", optim_config={"learning_rate": 0.5})
    assert_same_params(solver.model.params, solver.best_params)
    acc = solver.check_accuracy(data["X_val"], data["y_val"])
    assert acc == solver.best_val_acc


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_every_rule_by_name_lowers_the_loss(data, rule):
    solver = run(data, seed=0, update_rule=rule, num_epochs=5)
    assert np.mean(solver.loss_history[-5:]) < solver.loss_history[0]


def test_lr_decay_each_epoch(data):
    solver = run(data, seed=0, update_rule="sgd_momentum", num_epochs=3, lr_decay=0.5,
                 optim_config={"learning_rate": 0.1})
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5**3)


def test_optim_config_copied_per_parameter(data):
    config = {"learning_rate": 0.1}
    solver = run(data, seed=0, update_rule="adam", optim_config=config)
    assert config == {"learning_rate": 0.1}
    assert solver.optim_configs["W1"]["m"].shape == solver.model.params["W1"].shape
    assert solver.optim_configs["b1"]["m"].shape == solver.model.params["b1"].shape


def test_callable_update_rule(data):
    calls = []

    def halve(w, dw, config):
        calls.append(config["tag"])
        return w - 0.5 * dw, config

    solver = run(data, seed=0, update_rule=halve, optim_config={"tag": "x"}, num_epochs=1)
    assert len(calls) == solver.num_iterations * len(solver.model.params)
    assert set(calls) == {"x"}


def test_model_without_state_dict(data):
    solver = run(data, model_factory=Softmax, seed=0, update_rule="sgd",
                 optim_config={"learning_rate": 0.5})
    assert solver.best_val_acc > 0.8


def test_check_accuracy_subsample_is_seeded(data):
    solver = run(data, seed=1, num_epochs=1)
    other = run(data, seed=1, num_epochs=1)
    a = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=17, batch_size=5)
    b = other.check_accuracy(data["X_train"], data["y_train"], num_samples=17, batch_size=5)
    assert a == b
    assert a * 17 == pytest.approx(round(a * 17))


def test_float32_model_stays_float32(data):
    def fc32():
        return FullyConnectedNet([8], input_dim=D, num_classes=C, dtype=np.float32)

    solver = run(data, model_factory=fc32, seed=0, update_rule="adam")
    assert all(p.dtype == np.float32 for p in solver.model.params.values())
    assert all(c["m"].dtype == np.float32 for c in solver.optim_configs.values())


class Diverging(TwoLayerNet):
    """A TwoLayerNet whose training loss turns to NaN at the 15th minibatch."""

    calls = 0

    def loss(self, X, y=None):
        if y is None:
            return super().loss(X)
        self.calls += 1
        loss, grads = super().loss(X, y)
        return (np.nan if self.calls >= 15 else loss), grads


def test_nonfinite_loss_stops_with_iteration_and_keeps_best(data):
    def diverging():
        return Diverging(input_dim=D, hidden_dim=10, num_classes=C, weight_scale=0.1)

    message = r"the loss is nan at iteration 15 / 60 \(epoch 2\); training stopped"
    with pytest.warns(NonFiniteLossWarning, match=message):
        solver = run(data, model_factory=diverging, seed=0, num_epochs=10)
    assert solver.iteration == 14
    assert len(solver.loss_history) == 14
    assert_same_params(solver.model.params, solver.best_params)
    assert all(np.all(np.isfinite(p)) for p in solver.model.params.values())
    assert all(np.isfinite(solver.loss_history))


class Overflowing(TwoLayerNet):
    """A TwoLayerNet whose training scores have overflowed to infinity."""

    def loss(self, X, y=None):
        if y is None:
            return super().loss(X)
        return softmax_loss(np.full((len(X), C), np.inf), y)   # raises NonFiniteError


def test_overflowing_scores_stop_training_like_a_nonfinite_loss(data):
    def overflowing():
        return Overflowing(input_dim=D, hidden_dim=10, num_classes=C, weight_scale=0.1)

    with pytest.warns(NonFiniteLossWarning, match=r"the loss is nan at iteration 1 / "):
        solver = run(data, model_factory=overflowing, seed=0)
    assert solver.iteration == 0
    assert solver.loss_history == []


def test_verbose_false_prints_nothing(data, capsys):
    run(data, seed=0)
    assert capsys.readouterr().out == ""


def test_verbose_prints_plain_lines_when_not_a_terminal(data, capsys):
    run(data, seed=0, verbose=True, print_every=5, num_epochs=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("(Iteration 1 / 6) loss: ")
    assert out[1].startswith("(Epoch 0 / 1) train acc: ")
    assert "(Iteration 6 / 6)" in out[2]
    assert out[-1].startswith("(Epoch 1 / 1) train acc: ")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr": 1}, ValueError, r"Solver: unrecognized keyword arguments \['lr'\]"),
        ({"update_rule": "sdg"}, ValueError, r"Solver: update_rule 'sdg' is not one of \['adam'"),
        ({"batch_size": 0}, ValueError, "Solver: batch_size is 0; expected an integer >= 1"),
        ({"num_epochs": 2.5}, ValueError, "Solver: num_epochs is 2.5; expected an integer"),
        ({"seed": "x"}, TypeError, "Solver: seed must be an int, a numpy Generator or None"),
        ({"seed": -1}, ValueError, "Solver: seed is -1; expected an integer >= 0"),
        ({"print_every": 0}, ValueError, "Solver: print_every is 0; expected an integer >= 1"),
        ({"num_train_samples": 0}, ValueError, "Solver: num_train_samples is 0; expected an"),
        ({"num_val_samples": -5}, ValueError, "Solver: num_val_samples is -5; expected an"),
        ({"lr_decay": float("inf")}, ValueError, "Solver: lr_decay is inf; expected a finite"),
        ({"optim_config": {"learning_rate": "1e-3"}}, TypeError,
         "Solver: optim_config: learning_rate is '1e-3'; expected a finite number >= 0"),
        ({"optim_config": {"learning_rate": -1e-3}}, ValueError,
         "Solver: optim_config: learning_rate is -0.001; expected a finite number >= 0"),
        ({"update_rule": "adam", "optim_config": {"beta1": 1}}, ValueError,
         r"Solver: optim_config: beta1 is 1; expected a number in \[0, 1\)"),
    ],
)
def test_bad_arguments(data, kwargs, error, message):
    with pytest.raises(error, match=message):
        Solver(two_layer(), data, **kwargs)


def test_bad_data(data):
    with pytest.raises(ValueError, match=r"Solver: data must hold X_val and y_val; got \['X_tr"):
        Solver(two_layer(), {"X_train": data["X_train"], "y_train": data["y_train"]})
    bad = dict(data, y_train=data["y_train"][:-1])
    message = r"data\['X_train'\] has shape \(120, 6\) and data\['y_train'\] has shape \(119,\)"
    with pytest.raises(ValueError, match=message):
        Solver(two_layer(), bad)


def test_check_accuracy_rejects_an_empty_sample(data):
    solver = Solver(two_layer(), data, verbose=False)
    with pytest.raises(ValueError, match="Solver: check_accuracy's num_samples is 0"):
        solver.check_accuracy(data["X_val"], data["y_val"], num_samples=0)


def batchnorm_net():
    return FullyConnectedNet([10], input_dim=D, num_classes=C, normalization="batchnorm",
                             weight_scale=0.1, dtype=np.float64)


class Recording(Solver):
    """A Solver that keeps a copy of the model state at every accuracy check."""

    def _check_all(self, report):
        super()._check_all(report)
        self.states = [*getattr(self, "states", []), self.model.state_dict()]


def test_the_best_state_keeps_the_running_statistics_of_the_best_epoch(data):
    np.random.seed(0)
    solver = Recording(batchnorm_net(), data, verbose=False, num_epochs=6, batch_size=20,
                       seed=0, update_rule="sgd", optim_config={"learning_rate": 0.3})
    solver.train()
    best = solver.val_acc_history.index(solver.best_val_acc)        # the first best check
    last_mean = solver.states[-1]["bn_params.0.running_mean"]
    assert not np.array_equal(solver.states[best]["bn_params.0.running_mean"], last_mean)
    assert_same_params(solver.model.state_dict(), solver.states[best])
    assert_same_params(solver.model.params, solver.best_params)
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc


def test_a_resumed_run_keeps_the_best_running_statistics_too(data, tmp_path):
    name = tmp_path / "ck"
    kwargs = {"seed": 0, "update_rule": "sgd", "optim_config": {"learning_rate": 0.3}}
    whole = run(data, model_factory=batchnorm_net, num_epochs=6, **kwargs)
    run(data, model_factory=batchnorm_net, num_epochs=3, checkpoint_name=name, **kwargs)
    np.random.seed(0)
    resumed = Solver.resume(name, batchnorm_net(), data, num_epochs=6)
    resumed.train()
    assert resumed.best_val_acc == whole.best_val_acc
    assert_same_params(resumed.model.state_dict(), whole.model.state_dict())
