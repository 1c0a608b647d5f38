"""Every Python snippet of README.md runs and repeats exactly: run twice, it prints the same."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme:
    SNIPPETS = re.findall(r"^```python\n(.*?)^```", readme.read(), flags=re.M | re.S)


def run(code, folder):
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, text=True,
                          capture_output=True, timeout=300, check=False)


def test_readme_has_python_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i + 1}" for i in range(len(SNIPPETS))])
def test_readme_snippet_runs_and_repeats_exactly(code, tmp_path):
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first, second = run(code, tmp_path / "first"), run(code, tmp_path / "second")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip()                        # it shows something to compare
    assert second.stdout == first.stdout
