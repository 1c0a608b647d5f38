"""The gradcheck command: targets, exit codes, JSON and JUnit reports, the self-test."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import layers
from gradcheck.cli import main

LAYERS = Path(layers.__file__).parent


def student_copy(tmp_path, name, old="", new=""):
    """A copy of a layers file, with one planted change (a student's file, as is)."""
    text = (LAYERS / name).read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_correct_copy_of_a_layers_file_exits_0(tmp_path, capsys):
    path = student_copy(tmp_path, "affine.py")
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "affine" in out
    assert out.strip().endswith("4 passed, 0 failed")      # forward, dx, dw, db


def test_a_buggy_file_exits_1_and_names_layer_and_gradient_in_json(tmp_path):
    path = student_copy(tmp_path, "affine.py", "dw = x2d.T @ dout", "dw = -(x2d.T @ dout)")
    report = tmp_path / "out.json"
    assert main([str(path), "--json", str(report)]) == 1
    data = json.loads(report.read_text())
    failed = [(c["target"], c["gradient"]) for c in data["checks"] if c["verdict"] == "fail"]
    assert failed == [("affine", "dw")]
    assert data["summary"] == {"passed": 3, "failed": 1, "inconclusive": 0, "kink": 0,
                               "not_attempted": 0, "timeout": 0}
    dw = data["checks"][2]
    assert dw["file"] == str(path)
    assert "sign" in dw["hint"]
    assert {"index", "value", "analytic", "numeric"} <= set(dw["worst"][0])
    assert [{k: f[k] for k in ("file", "exit_code", "error")} for f in data["files"]] == [
        {"file": str(path), "exit_code": 1, "error": ""}]
    assert data["files"][0]["seconds"] > 0


def test_a_blank_is_not_attempted_and_exits_1(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\n\ndef relu_forward(x):\n    return np.maximum(x, 0), x\n"
                    "\ndef relu_backward(dout, cache):\n    raise NotImplementedError('relu')\n")
    report = tmp_path / "out.json"
    assert main([f"{path}::relu", "--json", str(report)]) == 1
    assert json.loads(report.read_text())["summary"]["not_attempted"] == 1


def test_a_syntax_error_is_reported_with_file_and_line(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("def relu_forward(x):\n    return x +\n")
    assert main([str(path)]) == 2
    assert f"{path}:2: SyntaxError" in capsys.readouterr().err


def test_unknown_target_is_a_usage_error(capsys):
    assert main(["no_such_layer"]) == 2
    assert "unknown target" in capsys.readouterr().err


def test_named_targets_and_junit(tmp_path, capsys):
    junit = tmp_path / "out.xml"
    assert main(["relu", "max", "--junit", str(junit)]) == 0
    text = junit.read_text()
    assert text.count("<testcase") == 3
    assert "<failure" not in text
    assert "kink" in capsys.readouterr().out


def test_module_class_target_checks_a_model(capsys):
    assert main(["models::TwoLayerNet", "--fast"]) == 0
    assert "models::TwoLayerNet" in capsys.readouterr().out


def test_sweep_prints_error_against_step(capsys):
    assert main(["tanh", "--sweep"]) == 0
    assert "sweep tanh" in capsys.readouterr().out


@pytest.mark.slow
def test_selftest_catches_every_planted_bug(capsys):
    assert main(["--selftest"]) == 0
    out = capsys.readouterr().out
    assert "MISSED" not in out
    assert "FALSE ALARM" not in out


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "gradcheck", "relu"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    assert "1 passed, 0 failed" in done.stdout


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out
    assert "3  nothing failed, but no check could be judged" in out


def test_max_checks_below_one_is_a_usage_error(capsys):
    assert main(["affine", "--max-checks", "0"]) == 2
    assert "--max-checks must be at least 1" in capsys.readouterr().err


def test_max_checks_limits_the_entries_checked(tmp_path):
    report = tmp_path / "out.json"
    assert main(["affine", "--max-checks", "4", "--json", str(report)]) == 0
    assert [c["checked"] for c in json.loads(report.read_text())["checks"]] == [4, 4, 4]
