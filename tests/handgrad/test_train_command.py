"""handgrad train: outputs, --force, --resume, and one-line errors for bad options."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from handgrad import cli, train
from solver import Solver

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = [".lock", "checkpoint.json", "checkpoint.npz", "curves.png", "metrics.json",
         "model.npz", "options.json"]


def run(capsys, *argv):
    code = train.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_json(path):
    return json.loads(path.read_text())


def _write_idx(path, array):
    """An IDX file of unsigned bytes: magic 0x0800 + ndim, the sizes, the values."""
    array = np.asarray(array, dtype=np.uint8)
    header = (0x800 + array.ndim).to_bytes(4, "big") + np.array(array.shape, ">u4").tobytes()
    path.write_bytes(header + array.tobytes())


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
    assert out.splitlines()[-2].startswith(f"train acc {metrics['train_acc']:.4f}")
    assert out.splitlines()[-2].endswith(" s, 3 epochs)")
    assert out.splitlines()[-1] == f"outputs in {tmp_path / 'run'}: model.npz, metrics.json, " \
                                   "curves.png"
    assert "(Epoch 3 / 3)" in out
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_spiral_fc_with_batchnorm_and_dropout(tmp_path, capsys):
    code, out, err = run(capsys, "--dataset", "spiral", "--model", "fc", "--hidden-dims", "20,20",
                         "--normalization", "batchnorm", "--dropout", 0.9, "--epochs", 5,
                         "--dtype", "float64", "--quiet", "--out", tmp_path / "s")
    assert code == 0, err
    assert len(out.splitlines()) == 2                   # --quiet: the final lines only
    assert out.splitlines()[-1].endswith("metrics.json, curves.png, boundary.png")
    assert (tmp_path / "s" / "boundary.png").read_bytes()[:4] == b"\x89PNG"
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
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "mine")[0] == 2
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]            # nothing added
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
    helped = capsys.readouterr().out
    assert "--resume DIR" in helped
    assert "3 an output could not be written during the run" in " ".join(helped.split())
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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "inf"], "argument --learning-rate/--lr: expected a finite number, got 'inf'"),
        (["--reg", "nan"], "argument --reg: expected a finite number, got 'nan'"),
        (["--reg", "inf"], "argument --reg: expected a finite number, got 'inf'"),
        (["--weight-scale", "inf"], "argument --weight-scale: expected a finite number"),
        (["--lr-decay", "inf"], "argument --lr-decay: expected a finite number, got 'inf'"),
        (["--seed", "-1"], "argument --seed: is -1; expected an integer in [0, 2**32 - 1]"),
        (["--seed", "8589934592"], "argument --seed: is 8589934592; expected an integer in"),
        (["--hidden-dim", "1000000000"], "--hidden-dim is 1000000000; expected >= 1 and <= "),
        (["--batch-size", "10000000000"], "--batch-size is 10000000000; expected >= 1 and <= "),
        (["--model", "fc", "--hidden-dims", "10,1000000000"], "--hidden-dims has [10, 10000"),
        (["--model", "convnet", "--filter-size", "100"],
         "--filter-size is 100; expected >= 1 and <= 99"),
        (["--model", "convnet", "--filter-size", "9"],
         "--filter-size is 9; expected at most 8 for the 8x8 images of digits"),
        (["--hidden-dims", "10"], "--hidden-dims applies to --model fc only"),
        (["--model", "fc", "--hidden-dim", "10"], "--hidden-dim applies to --model two_layer, "
                                                  "convnet, rnn, lstm, gru and transformer only"),
        (["--out", "/proc/self/x"], "--out /proc/self/x: cannot create the folder: "),
    ],
)
def test_nonsense_options_are_rejected_before_training(tmp_path, capsys, argv, message):
    if "--out" not in argv:
        argv = [*argv, "--out", tmp_path / "o"]
    code, _out, err = run(capsys, *argv)
    assert (code, err.count("\n")) == (2, 1), err
    assert message in err
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")


def test_options_json_records_only_what_applies_to_the_model(tmp_path, capsys):
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "t")[0] == 0
    opts = read_json(tmp_path / "t" / "options.json")
    assert "hidden_dim" in opts
    for key in ("hidden_dims", "normalization", "dropout", "num_filters", "filter_size",
                "data_dir"):
        assert key not in opts, key
    assert read_json(tmp_path / "t" / "metrics.json")["options"] == opts
    code, out, _ = run(capsys, "--resume", tmp_path / "t", "--epochs", 2, "--quiet")
    assert code == 0
    assert out.splitlines()[-2].endswith(" s, 2 epochs)")


def test_resume_with_no_epochs_left_says_so(tmp_path, capsys):
    assert run(capsys, "--epochs", 2, "--quiet", "--out", tmp_path / "r")[0] == 0
    for epochs in (1, 2):
        code, _out, err = run(capsys, "--resume", tmp_path / "r", "--epochs", epochs)
        assert code == 2
        assert err == f"handgrad train: --resume {tmp_path / 'r'}: the run has done 2 of " \
                      f"--epochs {epochs} already; pass --epochs greater than 2 to train longer\n"
    assert read_json(tmp_path / "r" / "options.json")["epochs"] == 2     # left as it was


def test_resume_refuses_a_broken_or_mixed_folder(tmp_path, capsys):
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "r")[0] == 0
    options = read_json(tmp_path / "r" / "options.json")
    (tmp_path / "r" / "options.json").write_text(json.dumps(dict(options, run_id="other")))
    code, _, err = run(capsys, "--resume", tmp_path / "r", "--epochs", 2)
    assert code == 2
    assert "options.json and checkpoint.npz come from different runs" in err
    del options["learning_rate"]
    (tmp_path / "r" / "options.json").write_text(json.dumps(options))
    code, _, err = run(capsys, "--resume", tmp_path / "r", "--epochs", 2)
    assert code == 2
    assert err.endswith("options.json lacks learning_rate; expected the options.json of an "
                        "earlier handgrad train\n")


def test_resume_removes_the_temporary_files_of_a_killed_run(tmp_path, capsys):
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "r")[0] == 0
    (tmp_path / "r" / ".tmp-k1ll3d.npz").write_bytes(b"half a checkpoint")
    assert run(capsys, "--resume", tmp_path / "r", "--epochs", 2, "--quiet")[0] == 0
    assert sorted(os.listdir(tmp_path / "r")) == FILES


def test_a_run_folder_refuses_a_second_writer(tmp_path, capsys):
    import fcntl

    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "r")[0] == 0
    with open(tmp_path / "r" / ".lock", "w") as held:      # another run holds the folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for argv in (["--out", tmp_path / "r", "--force"], ["--resume", tmp_path / "r",
                                                            "--epochs", 2]):
            code, _, err = run(capsys, *argv, "--quiet")
            assert code == 2
            assert "another handgrad train is writing there" in err
    assert run(capsys, "--resume", tmp_path / "r", "--epochs", 2, "--quiet")[0] == 0


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train.time, "strftime", lambda fmt: "20260101-000000")
    opts = {"model": "two_layer", "dataset": "digits"}
    folders = [train._new_run_dir(opts) for _ in range(3)]
    assert folders == [os.path.join("runs", "20260101-000000-two_layer-digits" + suffix)
                       for suffix in ("", "-2", "-3")]
    assert all(os.path.isdir(folder) for folder in folders)


def test_two_processes_started_together_write_two_folders(tmp_path):
    command = [sys.executable, "-m", "handgrad", "train", "--epochs", "1", "--quiet"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [process.communicate(timeout=120) for process in runs]
    assert [process.returncode for process in runs] == [0, 0], results
    folders = sorted(os.listdir(tmp_path / "runs"))
    assert len(folders) == 2
    assert sorted(out.splitlines()[-1].split(":")[0][len("outputs in "):]
                  for out, _ in results) == [os.path.join("runs", f) for f in folders]


def test_a_dataset_smaller_than_the_split_is_a_usage_error(tmp_path, capsys):
    folder = tmp_path / "fm"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 50), ("t10k", 20)):
        _write_idx(folder / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    code, _, err = run(capsys, "--dataset", "fashion-mnist", "--data-dir", folder,
                       "--out", tmp_path / "o")
    assert code == 2
    assert err == "handgrad train: get_fashion_mnist_data: num_validation 5000 = 5000 leaves " \
                  "no training samples out of the 50 available\n"


def test_batchnorm_metrics_report_the_best_epochs_validation_accuracy(tmp_path, capsys):
    code, _, err = run(capsys, "--model", "fc", "--normalization", "batchnorm", "--epochs", 6,
                       "--hidden-dims", "50", "--lr", "0.05", "--quiet", "--out", tmp_path / "b")
    assert code == 0, err
    history = read_json(tmp_path / "b" / "checkpoint.json")["val_acc_history"]
    assert read_json(tmp_path / "b" / "metrics.json")["val_acc"] == max(history)


def bwrap(*mounts):
    """The bubblewrap command that runs `python -m handgrad train` with extra mounts."""
    if shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap (apt-get install bubblewrap) for a real tmpfs or mount")
    probe = subprocess.run(["bwrap", "--bind", "/", "/", "--dev", "/dev", "true"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"bubblewrap cannot run here: {probe.stderr.decode().strip()}")
    return ["bwrap", "--bind", "/", "/", "--dev", "/dev", *mounts, sys.executable, "-m",
            "handgrad", "train"]


def run_in(command, *argv):
    return subprocess.run([*command, *map(str, argv)], capture_output=True, text=True,
                          check=False, env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)


def test_a_full_disk_exits_3_not_1(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    done = run_in(bwrap("--size", "40000", "--tmpfs", str(disk)), "--epochs", 1, "--quiet",
                  "--out", disk / "run")
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(f"handgrad train: cannot write the outputs in {disk / 'run'}")
    assert "No space left on device" in done.stderr
    assert done.stderr.count("\n") == 1


def test_read_only_out_and_resume_folders_exit_2(tmp_path, capsys):
    assert run(capsys, "--epochs", 1, "--quiet", "--out", tmp_path / "done")[0] == 0
    (tmp_path / "empty").mkdir()
    read_only = bwrap("--ro-bind", str(tmp_path), str(tmp_path))    # even root cannot write
    for argv, message in [
        (["--out", tmp_path / "new"], f"--out {tmp_path / 'new'}: cannot create the folder: "
                                      "Read-only file system"),
        (["--out", tmp_path / "empty"], f"--out {tmp_path / 'empty'}: cannot write there: "
                                        "Read-only file system"),
        (["--resume", tmp_path / "done", "--epochs", 2],
         f"--resume {tmp_path / 'done'}: cannot write there: Read-only file system"),
    ]:
        done = run_in(read_only, *argv, "--quiet")
        assert (done.returncode, done.stderr) == (2, f"handgrad train: {message}\n")
