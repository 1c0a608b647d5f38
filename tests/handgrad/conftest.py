"""The real course of this repository released once per test session, for every test that
needs a student's copy (instructor-only: it releases the solution next to it)."""

import contextlib
import io
from pathlib import Path

import pytest

from handgrad import release

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def released(tmp_path_factory):
    """(the release folder, what `handgrad release --no-prove` printed); never edit it: copy it."""
    out = tmp_path_factory.mktemp("student") / "release"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = release.main([str(out), "--solution", str(ROOT), "--no-prove"])
    assert code == 0, printed.getvalue()
    return out, printed.getvalue()
