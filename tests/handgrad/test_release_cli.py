"""handgrad release on the example course: proof, verification, --check, --dry-run."""

import importlib.util
import shutil

import pytest

from handgrad import release
from handgrad.coursework import build, example


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    base = tmp_path_factory.mktemp("release")
    course = example.write(base / "course")
    assert release.main([str(base / "out"), "--solution", str(course)]) == 0
    return course, base / "out"


def test_release_writes_blanks_that_raise(released):
    _, out = released
    spec = importlib.util.spec_from_file_location("toylib_released", out / "toylib/__init__.py")
    toylib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toylib)
    _, cache = toylib.relu_forward(toylib.np.ones(3))
    with pytest.raises(NotImplementedError, match=r"relu_backward in toylib/__init__\.py"):
        toylib.relu_backward(toylib.np.ones(3), cache)
    out_, _ = toylib.affine_forward(toylib.np.ones((1, 2)), toylib.np.ones((2, 3)), 0)
    assert out_.shape == (1, 3)


def test_release_holds_no_hidden_or_instructor_files(released):
    _, out = released
    files = set(_tree(out))
    assert "release-manifest.json" in files
    assert not any(f.startswith("tests/hidden") for f in files)
    assert "NOTES.md" not in files
    assert "coursework.toml" not in files


def test_release_is_byte_identical_on_rerun_and_check_detects_drift(released, tmp_path):
    """--check builds the release again and compares every byte (manifest included)."""
    course, out = released
    assert release.main([str(out), "--solution", str(course), "--check"]) == 0
    again = shutil.copytree(out, tmp_path / "again")
    (again / "toylib/__init__.py").write_text("edited\n")
    assert release.main([str(again), "--solution", str(course), "--check"]) == 1
    (again / "toylib/__init__.py").write_bytes((out / "toylib/__init__.py").read_bytes())
    (again / "stray.txt").write_text("not released\n")
    assert release.main([str(again), "--solution", str(course), "--check"]) == 1


def test_dry_run_writes_nothing(released, tmp_path, capsys):
    course, _ = released
    assert release.main([str(tmp_path / "dry"), "--solution", str(course), "--dry-run"]) == 0
    assert not (tmp_path / "dry").exists()
    assert "affine_backward" in capsys.readouterr().out


def test_a_wrong_solution_is_not_released(released, tmp_path, capsys):
    course, _ = released
    broken = shutil.copytree(course, tmp_path / "broken")
    lib = broken / "toylib/__init__.py"
    lib.write_text(lib.read_text().replace("dx = dout * (x > 0)", "dx = dout * (x >= 0)"))
    assert release.main([str(tmp_path / "out"), "--solution", str(broken)]) == 1
    assert not (tmp_path / "out").exists()
    assert "test_relu_backward_zero_at_kink" in capsys.readouterr().err


def test_release_refuses_to_overwrite_a_foreign_folder(released, tmp_path):
    course, _ = released
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/thesis.tex").write_text("precious\n")
    args = [str(tmp_path / "mine"), "--solution", str(course), "--no-prove"]
    assert release.main(args) == 2
    assert (tmp_path / "mine/thesis.tex").read_text() == "precious\n"


def test_release_verification_catches_an_import_error(released, tmp_path, capsys):
    course, _ = released
    broken = shutil.copytree(course, tmp_path / "broken")
    lib = broken / "toylib/__init__.py"
    lib.write_text(lib.read_text().replace("import numpy as np", "import numpy as np\nimport nope"))
    assert release.main([str(tmp_path / "out"), "--solution", str(broken), "--no-prove"]) == 1
    assert "does not verify" in capsys.readouterr().err
    assert build.MANIFEST in {p.name for p in (tmp_path / "out").iterdir()}
