"""The student's side of the real course, from the first command: a fresh release is a
normal state (skips, one-line messages), and an edited copy goes through `handgrad submit`
to `handgrad grade`.

Every test works on a copy of the session's release (conftest.py); student code runs in
child processes from that copy, never imported into this one.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from handgrad import grade
from handgrad.coursework import build, isolate, markers, readme, spec

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


def _readme_rows(tree):
    """{blank: (file, function, points, check)} from the table in the release's README.md."""
    rows = {}
    for line in (tree / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`") and cells[1].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2], float(cells[3]), cells[4])
    return rows


def test_the_readme_is_the_students_and_its_table_matches_the_course(released):
    tree = released[0]
    text = (tree / "README.md").read_text()
    assert text != (ROOT / "README.md").read_text()
    assert "STUDENT.md" not in _manifest(tree)["files"]
    rows = _readme_rows(tree)
    assert {b: row[0] for b, row in rows.items()} == {b["id"]: b["file"]
                                                      for b in _manifest(tree)["blanks"]}
    for blank, (_, _, points, _) in rows.items():
        assert points == sum(t.max_score for t in COURSE.tests if t.blank == blank), blank
    assert rows["two_layer_loss"][1] == "`TwoLayerNet.loss`"
    assert rows["relu_backward"][3] == "`gradcheck layers/activations.py::relu`, `-k relu`"
    assert f"The course is worth {sum(t.max_score for t in COURSE.tests):g} points" in text
    # It points only to files the release holds, and never to the instructor's API.md.
    assert "API.md" not in text
    named = set(re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|ipynb|md|json))`", text))
    assert named
    assert all((tree / rel).exists() for rel in named), named


def test_the_readme_checks_reach_each_blank(released, tmp_path):
    """Every `gradcheck FILE::pair` of the table checks its blank, and every `-k` word picks
    public tests that reach it (skipped as not attempted in the fresh release)."""
    tree = released[0]
    rows = {b: row for b, row in _readme_rows(tree).items() if b in PYTHON_BLANKS}
    pairs = {b: m[1] for b, row in rows.items() if (m := re.search(r"`gradcheck (\S+)`", row[3]))}
    done = _run(["-m", "gradcheck", *pairs.values()], tree, tmp_path)
    for blank in pairs:  # dropout's check stops at dropout_forward, before dropout_backward
        file = re.escape(rows[blank][0])
        assert re.search(rf"not implemented yet: \w+ in {file}", done.stdout), blank
    words = {b: re.search(r"`-k (\w+)`", row[3])[1] for b, row in rows.items()}
    done = _run(["-c", K_PROBE, json.dumps(words), *COURSE.public_tests], tree, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    reached = json.loads(done.stdout.strip().splitlines()[-1])
    for blank, row in rows.items():  # dropout_backward's tests stop at dropout_forward
        assert any(r.endswith(f" in {row[0]}") for r in reached[blank]), (blank, words)
        assert all(r.startswith("not attempted: implement ") for r in reached[blank])


# Runs the public tests once per blank with its -k word (one process: the modules are
# collected once); prints {blank: [skip reasons]}.
K_PROBE = """
import json, sys
import nbformat
import pytest

class Reasons:
    def __init__(self):
        self.found = set()

    def pytest_runtest_logreport(self, report):
        if report.skipped:
            self.found.add(report.longrepr[2].removeprefix("Skipped: "))

reached = {}
for blank, word in json.loads(sys.argv[1]).items():
    reasons = Reasons()
    pytest.main(["-q", "-p", "no:cacheprovider", "-k", word, *sys.argv[2:]], plugins=[reasons])
    reached[blank] = sorted(reasons.found)
print(json.dumps(reached))
"""


def _submit(tree, tmp_path, *args):
    return _run(["-m", "handgrad", "submit", *args], tree / "layers", tmp_path)


def test_submit_then_grade_scores_exactly_the_work_done(copy, tmp_path):
    """The student's path: one blank right, one wrong, junk next to the course; the zip holds
    the release's files only, and the grader scores it as it is."""
    _write_blank(copy / "layers/activations.py", "relu_backward")
    right = _write_blank(copy / "layers/affine.py", "affine_backward")
    assert "db = dout.sum(axis=0)" in right
    _write_blank(copy / "layers/affine.py", "affine_backward",
                 right.replace("db = dout.sum(axis=0)", "db = 2 * dout.sum(axis=0)"))
    for junk in (".venv/lib/site.py", "runs/1/metrics.json", "layers/__pycache__/affine.pyc",
                 "datasets/cifar-10-batches-py/data_batch_1", "notes.txt",
                 "notebooks/.ipynb_checkpoints/01-checkpoint.ipynb"):
        (copy / junk).parent.mkdir(parents=True, exist_ok=True)
        (copy / junk).write_text("not part of the submission\n")
    done = _submit(copy, tmp_path)
    assert done.returncode == 0, done.stderr
    archive = copy / "submission.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    assert names == {*_manifest(copy)["files"], build.MANIFEST}
    lines = done.stdout.splitlines()
    blanks = {b["id"] for b in _manifest(copy)["blanks"]}
    todo = {m[1] for line in lines if (m := re.match(r"  (\S+) in \S+: still raises", line))}
    assert todo == blanks - {"relu_backward", "affine_backward"}
    assert f"not attempted yet: {len(todo)} of {len(blanks)} blanks" in lines
    summary = next(line for line in lines if line.startswith("public tests: "))
    assert re.fullmatch(r"public tests: \d+ failed, \d+ passed, \d+ skipped in .*", summary)
    failed = [line.strip() for line in lines if line.startswith("    FAILED ")]
    assert "FAILED tests/layers/test_layer_contract.py::test_numeric_gradient_float64[affine]" \
        in [line.split(" - ")[0] for line in failed]
    assert all("affine" in line for line in failed), failed

    again = _submit(copy, tmp_path, "--no-tests")
    assert again.returncode == 2
    assert "submission.zip exists; pass --force" in again.stderr
    assert _submit(copy, tmp_path, "--no-tests", "--force").returncode == 0

    out = tmp_path / "results"
    code = grade.main([str(archive), "--solution", str(ROOT), "--out", str(out)])
    assert code == 1
    results = json.loads((out / "results.json").read_text())
    by_name = {t["name"]: t for t in results["tests"]}
    scored = {name for name, t in by_name.items() if t["score"] > 0}
    relu = {t.name for t in COURSE.tests if t.blank == "relu_backward"}
    assert {name for name in scored if not name.startswith("affine_backward")} \
        == {name for name in by_name if any(name.startswith(r) for r in relu)}
    assert by_name["affine_backward: db"]["extra_data"]["outcome"] == "failed"
    assert "db differs from the solution" in by_name["affine_backward: db"]["output"]
    affine = next(t for t in COURSE.tests if t.name == "affine_backward")
    expected = sum(t.max_score for t in COURSE.tests if t.blank == "relu_backward") \
        + affine.max_score - affine.points["db"]
    assert results["score"] == expected
    others = [t for t in results["tests"]
              if t["extra_data"]["blank"] not in ("relu_backward", "affine_backward")]
    assert {t["extra_data"]["outcome"] for t in others} == {"not attempted"}


def test_submit_refuses_an_oversized_file_and_writes_nothing(copy, tmp_path):
    notebook = copy / "notebooks/02_fully_connected_nets.ipynb"
    notebook.write_text(notebook.read_text() + " " * (11 * 2**20))
    done = _submit(copy, tmp_path, "--no-tests", "--out", str(tmp_path / "handin.zip"))
    assert done.returncode == 2
    assert done.stderr.startswith("handgrad submit: notebooks/02_fully_connected_nets.ipynb is "
                                  "11.0 MB, over the 10 MB limit for one file; clear its outputs")
    assert not (tmp_path / "handin.zip").exists()


USES = "# Uses your code: "


def _blank_labels():
    """{name a cell would use: label} of every Python blank: relu_backward, or TwoLayerNet
    for two_layer_loss (TwoLayerNet.loss)."""
    labels = {}
    for blank, rel in PYTHON_BLANKS.items():
        source = (ROOT / rel).read_text()
        block = next(b for b in markers.find_blocks(source, rel) if b.id == blank)
        function = readme.enclosing_function(source, block.begin)
        label = f"{blank} in {rel}" if function == blank else f"{blank} ({function}) in {rel}"
        labels[function.split(".")[0]] = label
    return labels


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_cell_that_calls_a_blank_names_it_and_its_file(path):
    labels = _blank_labels()
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"][1:]
    for cell in cells:
        source = "\n".join("" if line.startswith("%") else line for line in cell.source.split("\n"))
        used = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
        first = cell.source.split("\n")[0]
        named = set(first.removeprefix(USES).split(", ")) if first.startswith(USES) else set()
        assert {labels[name] for name in used & set(labels)} <= named, cell.source[:300]
        assert named <= set(labels.values()) | {
            "affine_backward in layers/affine.py (gradcheck's built-in affine below)"}


def test_a_fresh_notebook_says_what_to_implement(copy, tmp_path, monkeypatch):
    """02 runs until softmax_loss: each check of a blank prints one line naming it and its
    file, and the cell that calls it stops with that line, not a traceback."""
    from ipykernel.kernelspec import write_kernel_spec
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    write_kernel_spec(tmp_path / "jupyter/kernels/python3")
    for key, value in {"JUPYTER_PATH": str(tmp_path / "jupyter"), "MPLBACKEND": "Agg",
                       "HANDGRAD_FAST": "1", "PYTHONDONTWRITEBYTECODE": "1"}.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(copy / "notebooks/02_fully_connected_nets.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(copy / "notebooks")}})
    with pytest.raises(CellExecutionError) as stopped:
        client.execute()
    assert stopped.value.ename == "NotImplementedError"
    printed = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(printed)
    assert "affine dx" in text
    assert "not attempted: implement affine_backward in layers/affine.py" in text
    assert "not attempted: implement relu_backward in layers/activations.py" in text
    assert "NOT_ATTEMPTED" not in text
    assert "NOT ATTEMPTED" not in text
    last = next(c for c in reversed(nb.cells) if c.cell_type == "code" and c.outputs)
    assert [o.get("text") for o in last.outputs] == [
        "not attempted: implement softmax_loss in layers/losses.py\n"]


def test_no_released_file_points_to_the_instructors_api_md(released):
    tree = released[0]
    assert not (tree / "API.md").exists()
    pointing = [p.relative_to(tree).as_posix() for p in sorted(tree.rglob("*"))
                if p.is_file() and b"API.md" in p.read_bytes()]
    assert pointing == []
