"""Solver checkpoints: atomic writes, never clobbering others' files, exact resume."""

import json
import os

import numpy as np
import pytest

from models import FullyConnectedNet, TwoLayerNet
from solver import CheckpointError, Solver, checkpoint

D, C = 6, 3


@pytest.fixture
def data(rng):
    def blobs(n):
        y = rng.integers(0, C, size=n)
        return np.eye(C, D)[y] * 3 + rng.standard_normal((n, D)), y

    (X_train, y_train), (X_val, y_val) = blobs(100), blobs(30)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


MODELS = {
    "two_layer": lambda: TwoLayerNet(input_dim=D, hidden_dim=8, num_classes=C, weight_scale=0.1),
    "fc_dropout_batchnorm": lambda: FullyConnectedNet(
        [8, 8], input_dim=D, num_classes=C, dropout_keep_ratio=0.7,
        normalization="batchnorm", weight_scale=0.1, dtype=np.float64,
    ),
    "fc_layernorm_float32": lambda: FullyConnectedNet(
        [8], input_dim=D, num_classes=C, normalization="layernorm", dtype=np.float32,
    ),
}
KWARGS = {"verbose": False, "num_epochs": 4, "batch_size": 20, "update_rule": "adam",
          "optim_config": {"learning_rate": 1e-2}, "lr_decay": 0.9}


class Interrupt(Exception):
    """Stands in for a crash or Ctrl-C in the middle of training."""


def make(name, seed_global):
    np.random.seed(seed_global)
    return MODELS[name]()


def interrupt_at(model, call):
    """Make model.loss raise Interrupt at its call-th training call."""
    original, count = model.loss, [0]

    def loss(X, y=None):
        if y is not None:
            count[0] += 1
            if count[0] == call:
                raise Interrupt
        return original(X, y)

    model.loss = loss


def state(model):
    return model.state_dict()


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("seed", [5, None])
def test_resume_equals_uninterrupted_bit_for_bit(tmp_path, data, name, seed):
    whole = Solver(make(name, 0), data, seed=seed, **KWARGS)
    whole.train()

    model = make(name, 0)
    interrupt_at(model, 13)                      # epoch 3 of 4 (5 iterations an epoch)
    first = Solver(model, data, seed=seed, checkpoint_name=tmp_path / "ckpt", **KWARGS)
    with pytest.raises(Interrupt):
        first.train()
    np.random.seed(12345)                        # a new process: other global state
    resumed = Solver.resume(tmp_path / "ckpt.npz", make(name, 99), data)
    assert resumed.iteration == 10
    assert resumed.epoch == 2
    resumed.train()

    for key, value in state(whole.model).items():
        np.testing.assert_array_equal(state(resumed.model)[key], value, err_msg=key)
    assert resumed.loss_history == whole.loss_history
    assert resumed.val_acc_history == whole.val_acc_history
    assert resumed.best_val_acc == whole.best_val_acc


def test_resume_can_extend_training(tmp_path, data):
    long = Solver(make("two_layer", 0), data, seed=1, **{**KWARGS, "num_epochs": 6})
    long.train()
    short = Solver(make("two_layer", 0), data, seed=1, checkpoint_name=tmp_path / "c", **KWARGS)
    short.train()
    more = Solver.resume(tmp_path / "c.json", make("two_layer", 3), data, num_epochs=6)
    more.train()
    assert more.loss_history == long.loss_history
    assert len(more.train_acc_history) == 7


def test_checkpoint_files_and_json_content(tmp_path, data):
    solver = Solver(make("two_layer", 0), data, seed=2, checkpoint_name=tmp_path / "run",
                    **KWARGS)
    solver.train()
    assert sorted(os.listdir(tmp_path)) == ["run.json", "run.npz"]   # no temporary files left
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["epoch"] == 4
    assert meta["iteration"] == 20
    assert meta["kwargs"]["update_rule"] == "adam"
    assert meta["optim_scalars"]["W1"]["t"] == 20
    assert len(meta["loss_history"]) == 20
    with np.load(tmp_path / "run.npz", allow_pickle=False) as archive:
        assert "model/W1" in archive.files
        assert "optim/W1/m" in archive.files
        assert "best/W2" in archive.files


def test_crash_mid_write_keeps_previous_checkpoint(tmp_path, data, monkeypatch):
    model = make("two_layer", 0)
    solver = Solver(model, data, seed=0, checkpoint_name=tmp_path / "c", **KWARGS)
    solver.train()
    before = (tmp_path / "c.npz").read_bytes()

    def torn_savez(f, **arrays):
        f.write(b"PK\x03\x04 half of a zip")          # a partial write, then the crash
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.np, "savez", torn_savez)
    with pytest.raises(KeyboardInterrupt):
        solver.save_checkpoint(tmp_path / "c")
    monkeypatch.undo()

    assert (tmp_path / "c.npz").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.json", "c.npz"]
    resumed = Solver.resume(tmp_path / "c", make("two_layer", 1), data)
    assert resumed.iteration == 20


def test_never_overwrites_a_file_it_did_not_write(tmp_path, data):
    (tmp_path / "mine.npz").write_bytes(b"someone's work")
    solver = Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "mine", **KWARGS)
    with pytest.raises(FileExistsError, match=r"mine.npz' exists and was not written by this run"):
        solver.train()
    assert (tmp_path / "mine.npz").read_bytes() == b"someone's work"

    Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "other", **KWARGS).train()
    rival = Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "other", **KWARGS)
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        rival.train()                             # another run's checkpoint is not ours either
    Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "mine", overwrite=True,
           **KWARGS).train()
    assert checkpoint.read(tmp_path / "mine")[1]["iteration"] == 20


def test_reading_never_unpickles_and_rejects_other_files(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    os.replace(tmp_path / "obj.npy", tmp_path / "obj.npz")
    with pytest.raises(CheckpointError, match=r"cannot read .*obj.npz' as a Solver checkpoint"):
        checkpoint.read(tmp_path / "obj.npz")
    np.savez(tmp_path / "plain.npz", W1=np.zeros(2))
    with pytest.raises(CheckpointError, match="is not a Solver checkpoint"):
        checkpoint.read(tmp_path / "plain")
    with pytest.raises(FileNotFoundError):
        checkpoint.read(tmp_path / "absent")


def test_resume_checks_model_and_data(tmp_path, data):
    Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "c", **KWARGS).train()
    other_model = TwoLayerNet(input_dim=D, hidden_dim=9, num_classes=C)
    with pytest.raises(ValueError, match="W1"):
        Solver.resume(tmp_path / "c", other_model, data)
    fewer = dict(data, X_train=data["X_train"][:50], y_train=data["y_train"][:50])
    with pytest.raises(ValueError, match=r"has 50 examples but .* was trained on 100"):
        Solver.resume(tmp_path / "c", make("two_layer", 0), fewer)


def test_resume_custom_rule_must_be_given_again(tmp_path, data):
    def plain(w, dw, config):
        return w - 0.1 * dw, config

    kwargs = {**KWARGS, "update_rule": plain}
    Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "c", **kwargs).train()
    with pytest.raises(ValueError, match=r"trained with the function .*plain; pass it again"):
        Solver.resume(tmp_path / "c", make("two_layer", 0), data)
    resumed = Solver.resume(tmp_path / "c", make("two_layer", 0), data, update_rule=plain)
    assert resumed.update_rule is plain


@pytest.mark.parametrize(
    ("drop", "message"),
    [("epoch", r"lacks epoch; it is not a whole Solver checkpoint"),
     ("rng/legacy_keys", r"lacks rng/legacy_keys"),
     ("optim_scalars.W1", r"the checkpoint holds no optimizer state for \['W1'\]")],
)
def test_a_checkpoint_missing_keys_is_refused_by_name(tmp_path, data, drop, message):
    Solver(make("two_layer", 0), data, checkpoint_name=tmp_path / "c", **KWARGS).train()
    arrays, meta = checkpoint.read(tmp_path / "c")
    if drop in arrays:
        del arrays[drop]
    elif "." in drop:
        del meta["optim_scalars"]["W1"]
    else:
        del meta[drop]
    np.savez(tmp_path / "c.npz", **arrays, **{checkpoint.META_KEY: np.array(json.dumps(meta))})
    with pytest.raises(CheckpointError, match=message):
        Solver.resume(tmp_path / "c", make("two_layer", 0), data)
