"""handgrad train: outputs, --force, --resume, and one-line errors for bad options."""

import json
import os

import numpy as np
import pytest

from handgrad import cli, train
from solver import Solver

FILES = ["checkpoint.json", "checkpoint.npz", "curves.png", "metrics.json", "model.npz",
         "options.json"]


def run(capsys, *argv):
    code = train.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_json(path):
    return json.loads(path.read_text())


def npz(path):
    """The arrays of an .npz; model.npz's constructor arguments (model.json) left out."""
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files if k != "model.json"}


def test_digits_end_to_end(tmp_path, capsys):
    code, out, err = run(capsys, "--epochs", 3, "--out", tmp_path / "run")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "run")) == FILES
    metrics = read_json(tmp_path / "run" / "metrics.json")
    for key in ("model", "dataset", "train_acc", "val_acc", "test_acc", "seconds", "epochs"):
        assert key in metrics
    assert (metrics["model"], metrics["dataset"], metrics["epochs"]) == ("two_layer", "digits", 3)
    assert metrics["test_acc"] > 0.85
    assert out.splitlines()[-1].startswith(f"train acc {metrics['train_acc']:.4f}")
    assert "(Epoch 3 / 3)" in out
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_spiral_fc_with_batchnorm_and_dropout(tmp_path, capsys):
    code, out, err = run(capsys, "--dataset", "spiral", "--model", "fc", "--hidden-dims", "20,20",
                         "--normalization", "batchnorm", "--dropout", 0.9, "--epochs", 5,
                         "--dtype", "float64", "--quiet", "--out", tmp_path / "s")
    assert code == 0, err
    assert len(out.splitlines()) == 1                   # --quiet: the final line only
    metrics = read_json(tmp_path / "s" / "metrics.json")
    assert metrics["options"]["hidden_dims"] == [20, 20]
    assert metrics["options"]["normalization"] == "batchnorm"
    state = npz(tmp_path / "s" / "model.npz")
    assert state["W1"].shape == (2, 20)
    assert state["W1"].dtype == np.float64
    assert "bn_params.0.running_mean" in state


def test_never_overwrites_without_force(tmp_path, capsys):
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "r")[0] == 0
    before = (tmp_path / "r" / "metrics.json").read_bytes()
    code, _, err = run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "r")
    assert code == 2
    assert err == f"handgrad train: output folder {tmp_path / 'r'} exists; pass --force to " \
                  "write into it or choose another --out\n"
    assert (tmp_path / "r" / "metrics.json").read_bytes() == before
    code, _out, err = run(capsys, "--epochs", 2, "--quiet", "--force", "--out", tmp_path / "r")
    assert code == 0, err
    assert read_json(tmp_path / "r" / "metrics.json")["epochs"] == 2


def test_default_output_is_a_new_folder_under_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert run(capsys, "--epochs", 1, "--quiet")[0] == 0
    folders = sorted(os.listdir(tmp_path / "runs"))
    assert len(folders) == 2
    assert all(name.endswith("-two_layer-digits") or "-two_layer-digits-" in name
               for name in folders)


def test_resume_after_interrupt_equals_uninterrupted(tmp_path, capsys, monkeypatch):
    assert run(capsys, "--epochs", 4, "--quiet", "--out", tmp_path / "whole")[0] == 0

    step, calls = Solver._step, [0]

    def crashing_step(self):
        calls[0] += 1
        if calls[0] == 60:                             # in epoch 3 (23 iterations an epoch)
            raise KeyboardInterrupt
        return step(self)

    monkeypatch.setattr(Solver, "_step", crashing_step)
    code, _, err = run(capsys, "--epochs", 4, "--quiet", "--out", tmp_path / "cut")
    assert code == 130
    assert err == f"handgrad train: interrupted at iteration 59; continue with: " \
                  f"handgrad train --resume {tmp_path / 'cut'}\n"
    monkeypatch.undo()

    code, _out, err = run(capsys, "--resume", tmp_path / "cut", "--quiet")
    assert code == 0, err
    whole, cut = npz(tmp_path / "whole" / "model.npz"), npz(tmp_path / "cut" / "model.npz")
    for key, value in whole.items():
        np.testing.assert_array_equal(cut[key], value, err_msg=key)


def test_resume_with_more_epochs(tmp_path, capsys):
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "r")[0] == 0
    code, out, err = run(capsys, "--resume", tmp_path / "r", "--epochs", 3)
    assert code == 0, err
    assert "(Epoch 3 / 3)" in out
    assert "(Epoch 1 / 3)" not in out                  # the first epoch is not run again
    assert read_json(tmp_path / "r" / "metrics.json")["epochs"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs is 0; expected >= 1"),
        (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
        (["--dropout", "1.5", "--model", "fc"], "--dropout is 1.5; expected a keep probability"),
        (["--hidden-dims", "10,x", "--model", "fc"], "expected integers like 100,100, got '10,x'"),
        (["--normalization", "batchnorm"], "--normalization applies to --model fc only"),
        (["--learning-rate", "-1"], "--learning-rate is -1.0; expected > 0"),
        (["--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--model", "convnet", "--dataset", "spiral"], "--model convnet needs images"),
        (["--resume", "nowhere"], "--resume nowhere: no options.json and checkpoint.npz there"),
        (["--resume", "x", "--lr", "0.1"], "--learning-rate cannot be combined with --resume"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, argv, message):
    if "--resume" not in argv:
        argv = [*argv, "--out", tmp_path / "o"]
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("handgrad train: ")
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_missing_data_gives_one_line_and_exit_2(tmp_path, capsys):
    code, _out, err = run(capsys, "--dataset", "cifar10", "--data-dir", tmp_path / "none",
                         "--out", tmp_path / "o")
    assert code == 2
    assert err.startswith("handgrad train: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_help_and_dispatch(capsys):
    assert train.main(["--help"]) == 0
    assert "--resume DIR" in capsys.readouterr().out
    assert cli.main(["train", "--epochs", "0"]) == 2
    assert "--epochs is 0" in capsys.readouterr().err


def test_diverging_run_stops_with_one_line_and_keeps_best(tmp_path, capsys):
    code, _, err = run(capsys, "--update-rule", "sgd", "--lr", "1e6", "--quiet",
                         "--out", tmp_path / "d")
    assert code == 1
    assert err.startswith("handgrad train: Solver.train: the loss is ")
    assert "training stopped" in err
    assert err.count("\n") == 1
    metrics = read_json(tmp_path / "d" / "metrics.json")
    assert metrics["stopped_early"] in err
    assert all(np.all(np.isfinite(v)) for v in npz(tmp_path / "d" / "model.npz").values())


def test_convnet_on_digits(tmp_path, capsys):
    code, _, err = run(capsys, "--model", "convnet", "--epochs", 1, "--num-filters", 4,
                       "--quiet", "--out", tmp_path / "c")
    assert code == 0, err
    metrics = read_json(tmp_path / "c" / "metrics.json")
    assert metrics["options"]["update_rule"] == "sgd_momentum"   # the convnet's own defaults
    assert npz(tmp_path / "c" / "model.npz")["W1"].shape == (4, 1, 3, 3)
    assert metrics["test_acc"] > 0.5
