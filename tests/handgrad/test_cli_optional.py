"""The handgrad command in the base install: the notebook packages (nbformat, nbclient,
ipykernel) are optional, so --help never needs them, and a command that does names them.

Each run is a child interpreter where importing those packages fails, as in a fresh
`pip install handgrad`.
"""

import subprocess
import sys

import pytest

from handgrad.coursework import NOTEBOOK_MODULES

WITHOUT_NOTEBOOKS = f"""
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {NOTEBOOK_MODULES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")

sys.meta_path.insert(0, NotInstalled())
from handgrad.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _handgrad(*args, cwd):
    return subprocess.run([sys.executable, "-c", WITHOUT_NOTEBOOKS, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("command", ["release", "grade", "train"])
def test_help_works_without_the_notebook_packages(command, tmp_path):
    done = _handgrad(command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: handgrad {command}")
    assert "Traceback" not in done.stderr


def test_release_says_exactly_what_to_install(tmp_path):
    done = _handgrad("release", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "handgrad release needs nbformat, nbclient, ipykernel (it strips the notebooks and runs "
        "them to verify the release): pip install nbformat nbclient ipykernel"]
    assert not (tmp_path / "out").exists()


def test_grade_splice_says_what_to_install(tmp_path):
    done = _handgrad("grade", str(tmp_path), "--splice", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(": pip install nbformat")
