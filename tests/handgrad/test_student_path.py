"""The student's side of the real course, from the first command: a fresh release is a
normal state (skips, one-line messages), and an edited copy goes through `handgrad submit`
to `handgrad grade`.

Every test works on a copy of the session's release (conftest.py); student code runs in
child processes from that copy, never imported into this one.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handgrad.coursework import build, isolate, markers, spec

ROOT = Path(__file__).resolve().parents[2]
COURSE = spec.load(ROOT)
PYTHON_BLANKS = {b: info["file"] for b, info in COURSE.blanks.items()
                 if info["file"].endswith(".py")}


def _run(args, cwd, tmp_path):
    """python args in cwd, as a student runs it: their copy first on sys.path, no caches left."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
           "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False, env=env)


@pytest.fixture
def copy(released, tmp_path):
    """A fresh copy of the release the test may edit."""
    return shutil.copytree(released[0], tmp_path / "handin")


def _manifest(tree):
    return json.loads((tree / build.MANIFEST).read_text())


def _write_blank(path, blank, code=None):
    """Write code (default: the solution's) into one blank of a student's file; return it."""
    rel = PYTHON_BLANKS[blank]
    body = "".join(isolate.solution_blocks(COURSE)[rel][blank]) if code is None else code
    path.write_text(markers.splice(path.read_text(), {blank: [body]}, rel)[0])
    return body


def _pytest(tree, tmp_path, *args):
    return _run(["-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", *args], tree, tmp_path)


def test_public_tests_of_a_fresh_release_are_skipped_not_failed(copy, tmp_path):
    done = _pytest(copy, tmp_path, *COURSE.public_tests)
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, \d+ skipped in .*", summary), summary
    reasons = set(re.findall(r"SKIPPED \[\d+\] \S+: (.*)", done.stdout))
    blanks = {b["id"]: b["file"] for b in _manifest(copy)["blanks"] if b["file"].endswith(".py")}
    # A test reaches one blank at most (dropout_backward's tests stop at dropout_forward).
    assert reasons <= {f"not attempted: implement {b} in {f}" for b, f in blanks.items()}
    assert {r.rpartition(" in ")[2] for r in reasons} == set(blanks.values())


def test_a_wrong_blank_fails_and_a_right_one_passes_next_to_unattempted_ones(copy, tmp_path):
    """The skip hides no real failure: relu_backward written wrong fails its tests."""
    path = copy / "layers/activations.py"
    right = _write_blank(path, "relu_backward")
    _write_blank(path, "relu_backward", right.replace("x > 0", "x >= 0"))
    wrong = _pytest(copy, tmp_path, "tests/layers/test_activations.py")
    assert wrong.returncode == 1
    assert "FAILED tests/layers/test_activations.py::test_relu_gradient_is_zero_at_the_kink" \
        in wrong.stdout
    _write_blank(path, "relu_backward", right)
    right = _pytest(copy, tmp_path, "tests/layers/test_activations.py")
    assert right.returncode == 0, right.stdout[-3000:]
    assert "relu_backward" not in right.stdout


def test_train_on_a_fresh_release_names_the_blank_in_one_line(copy, tmp_path):
    done = _run(["-m", "handgrad", "train", "--epochs", "1", "--out", str(tmp_path / "run")],
                copy, tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "handgrad train: not attempted: implement two_layer_loss in models/fc_net.py first "
        "(README.md lists the blanks)"]
    assert "Traceback" not in done.stdout
