"""handgrad grade on a class: a folder of submissions or a Gradescope export, resumable."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from handgrad import autograder, grade
from handgrad.coursework import build, classroom, example, markers, spec

LIB = "toylib/__init__.py"
METADATA = """\
submission_1001:
  :submitters:
  - :name: Alice Liddell
    :sid: '1001'
    :email: alice@example.edu
  :created_at: 2026-11-30 23:58:01.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.0
submission_1002:
  :submitters:
  - :name: Bob Dylan
    :sid: '1002'
    :email: bob@example.edu
  - :name: Carol King
    :sid: '1003'
    :email: carol@example.edu
"""


def _solved(course, release, dest, edit=None):
    """The release with the solution typed into every guard, then edit(text) applied."""
    tree = shutil.copytree(release, dest)
    answers = {b.id: b.body for b in markers.find_blocks((course / LIB).read_text(), LIB)}
    text, _ = markers.splice((release / LIB).read_text(), answers, LIB)
    (tree / LIB).write_text(edit(text) if edit else text)
    return tree


OWN_SOFTMAX = """\
    N = x.shape[0]
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        row = x[i] - np.max(x[i])
        e = np.exp(row)
        p = e / np.sum(e)
        loss -= np.log(p[y[i]])
        dx[i] = p
        dx[i, y[i]] -= 1
    loss /= N
    dx /= N
"""


def _own_softmax(text, rename=False):
    """softmax_loss written with a loop; renamed and commented when rename is True."""
    own = OWN_SOFTMAX
    if rename:
        for old, new in (("row", "shifted"), ("e =", "ex ="), ("(e)", "(ex)"), ("e /", "ex /"),
                         ("p =", "probs ="), ("p[", "probs["), ("= p\n", "= probs\n")):
            own = own.replace(old, new)
        own = own.replace("    loss /= N", "    # the mean over the batch\n    loss /= N")
    start = text.index("    shifted = x - x.max")
    end = text.index("    # END YOUR CODE", start)
    return text[:start] + own + text[end:]


def _wrong_db(text):
    return text.replace("db = dout.sum(axis=0)", "db = 2 * dout.sum(axis=0)")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A toy course, its release and a class: right, wrong, blank, a broken zip, a copy."""
    base = tmp_path_factory.mktemp("class")
    course = example.write(base / "course")
    toml = course / spec.SPEC_NAME  # a loaded machine must not turn a right answer into a timeout
    toml.write_text(toml.read_text().replace("timeout = 20", "timeout = 60"))
    release = base / "release"
    build.write(build.build(spec.load(course)), release)
    folder = base / "class"
    folder.mkdir()
    _solved(course, release, folder / "alice")
    _solved(course, release, folder / "bob", _wrong_db)
    shutil.copytree(release, folder / "carol")
    (folder / "dave.zip").write_bytes(b"PK\x03\x04 but not a zip")
    _solved(course, release, folder / "erin", _own_softmax)  # erin and frank: one softmax
    _solved(course, release, folder / "frank", lambda text: _own_softmax(text, rename=True))
    return course, release, folder


def _run(capsys, *args):
    code = grade.main([str(a) for a in args])
    return code, capsys.readouterr().out


def _gradebook(out):
    with open(out / "gradebook.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _stamp(out, key):
    return (out / key / "grading.json").stat().st_mtime_ns


@pytest.fixture(scope="module")
def graded(toy, tmp_path_factory):
    course, _, folder = toy
    out = tmp_path_factory.mktemp("graded") / "out"
    code = grade.main([str(folder), "--solution", str(course), "--out", str(out), "--jobs", "2",
                       "--similarity"])
    return out, code


def test_a_class_gets_a_results_folder_per_student_and_a_gradebook(graded, toy, tmp_path,
                                                                   capsys):
    out, code = graded
    course, _, folder = toy
    assert code == 0
    rows = {row["SID"]: row for row in _gradebook(out)}
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    for key in rows:
        assert (out / key / "results.json").is_file()
        assert (out / key / "junit.xml").is_file()
    assert rows["alice"]["Total Score"] == "15"
    assert rows["alice"]["Max Points"] == "15"
    assert rows["bob"]["affine_backward"] == "4"
    assert rows["bob"]["relu_backward"] == "4"
    assert rows["carol"]["Total Score"] == "0"
    assert rows["dave"]["Total Score"] == "0"
    assert {row["Status"] for row in rows.values()} == {"graded"}
    for key, path in (("bob", folder / "bob"), ("dave", folder / "dave.zip")):
        single = tmp_path / key
        _run(capsys, path, "--solution", course, "--out", single)
        alone = json.loads((single / "results.json").read_text())
        assert float(rows[key]["Total Score"]) == alone["score"]
    canvas = list(csv.reader((out / "canvas.csv").read_text().splitlines()))
    assert canvas[0][:3] == ["Student", "ID", "SIS User ID"]
    assert canvas[1][0] == "Points Possible"
    assert canvas[1][-1] == "15"


def test_the_summary_gives_shares_per_blank_and_common_failures(graded):
    out, _ = graded
    text = (out / "summary.md").read_text()
    assert "6 submissions: 6 graded, 0 failed to grade" in text
    assert "| affine_backward | 5 | 50% | 33% | 17% |" in text
    assert "| relu_backward | 4 | 67% | 17% | 17% |" in text
    assert "- 17% of the class: affine_backward: db: db differs from the solution" in text
    errors = text.split("## Most common errors and timeouts, by blank")[1]
    assert "- 17% of the class: affine_backward: the submission cannot be read" in errors
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_an_unchanged_class_is_not_graded_again(graded, toy, capsys):
    out, _ = graded
    course, _, folder = toy
    before = {key: _stamp(out, key) for key in ("alice", "bob", "carol", "dave")}
    code, text = _run(capsys, folder, "--solution", course, "--out", out)
    assert code == 0
    assert "grading 0 of 6 submissions" in text
    assert text.rstrip().endswith("6 graded, 0 failed to grade")
    assert before == {key: _stamp(out, key) for key in before}


def _interrupt_after_first(cmd, out, timeout=300):
    """Start cmd, send it Ctrl-C once a first grading is complete; (exit code, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while not list(out.glob("*/grading.json")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no grading finished in time"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def test_an_interrupted_run_grades_only_what_it_had_not_finished(toy, tmp_path, capsys):
    course, release, folder = toy
    small = tmp_path / "class"
    for key in ("alice", "carol", "erin"):
        shutil.copytree(folder / key, small / key)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "handgrad", "grade", str(small), "--solution", str(course),
           "--out", str(out), "--jobs", "1"]
    code, err = _interrupt_after_first(cmd, out)
    done = {path.parent.name: path.stat().st_mtime_ns for path in out.glob("*/grading.json")}
    assert code == 130, err
    assert "run the same command again to grade the rest" in err
    assert 1 <= len(done) < 3
    code, text = _run(capsys, small, "--solution", course, "--out", out)
    assert code == 0
    assert f"grading {3 - len(done)} of 3 submissions" in text
    assert done == {key: _stamp(out, key) for key in done}  # finished ones were kept
    shutil.rmtree(small / "carol")  # carol hands in again, now solved
    _solved(course, release, small / "carol")
    code, text = _run(capsys, small, "--solution", course, "--out", out)
    assert "grading 1 of 3 submissions" in text
    assert {r["SID"]: r["Total Score"] for r in _gradebook(out)} == {
        "alice": "15", "carol": "15", "erin": "15"}


def test_only_regrades_one_student(graded, toy, capsys):
    out, _ = graded
    course, _, folder = toy
    before = {key: _stamp(out, key) for key in ("alice", "bob", "carol", "dave")}
    code, text = _run(capsys, folder, "--solution", course, "--out", out, "--only", "bob")
    assert code == 0
    assert "grading 1 of 6 submissions" in text
    after = {key: _stamp(out, key) for key in before}
    assert [k for k in before if before[k] != after[k]] == ["bob"]
    assert len(_gradebook(out)) == 6


def test_similarity_flags_the_copied_pair_not_the_shared_release(graded):
    out, _ = graded
    rows = list(csv.DictReader((out / "similarity.csv").read_text().splitlines()))
    assert [(r["a"], r["b"]) for r in rows] == [("erin", "frank")]
    assert float(rows[0]["share_a"]) > 0.9
    page = (out / "similarity.html").read_text()
    assert "<mark>" in page
    assert "for i in range(N):" in page


def test_bad_options_are_refused_before_grading(toy, tmp_path, capsys):
    course, _, folder = toy
    (tmp_path / "file").write_text("")
    assert grade.main([str(folder), "--solution", str(course), "--out",
                       str(tmp_path / "file")]) == 2
    assert "--out" in capsys.readouterr().err
    assert grade.main([str(folder), "--solution", str(course), "--out", str(tmp_path / "o"),
                       "--only", "zoe"]) == 2
    assert "--only zoe: no such submission" in capsys.readouterr().err
    assert grade.main([str(folder), "--solution", str(course), "--out", str(tmp_path / "o"),
                       "--dask", "local:two"]) == 2
    assert "expected local or local:N" in capsys.readouterr().err


def test_the_rule_that_tells_a_class_from_one_submission(toy, tmp_path):
    course, release, folder = toy
    loaded = spec.load(course)
    assert classroom.kind(folder, loaded) == "class"
    assert classroom.kind(folder / "alice", loaded) == "single"
    wrapped = shutil.copytree(release, tmp_path / "handin" / "release")
    assert classroom.kind(wrapped.parent, loaded) == "single"
    assert classroom.kind(folder / "dave.zip", loaded) == "single"
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / classroom.METADATA).write_text("{}\n")
    assert classroom.kind(tmp_path / "export", loaded) == "gradescope"


def test_a_gradescope_export_gives_names_emails_and_group_members(toy, tmp_path, capsys):
    course, _, folder = toy
    export = tmp_path / "export"
    export.mkdir()
    (export / classroom.METADATA).write_text(METADATA)
    shutil.copytree(folder / "alice", export / "submission_1001")
    shutil.copytree(folder / "bob", export / "submission_1002")
    out = tmp_path / "out"
    code, text = _run(capsys, export, "--solution", course, "--out", out)
    assert code == 0
    assert text.rstrip().endswith("2 graded, 0 failed to grade")
    rows = [(r["Name"], r["SID"], r["Email"], r["Total Score"], r["Submission ID"])
            for r in _gradebook(out)]
    assert rows == [("Alice Liddell", "1001", "alice@example.edu", "15", "submission_1001"),
                    ("Bob Dylan", "1002", "bob@example.edu", "14", "submission_1002"),
                    ("Carol King", "1003", "carol@example.edu", "14", "submission_1002")]
    code, text = _run(capsys, export, "--solution", course, "--out", out, "--only", "1003")
    assert "grading 1 of 2 submissions" in text


def test_metadata_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / classroom.METADATA
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        classroom.read_metadata(path)
    path.write_text("!!python/object/apply:os.system ['echo owned']\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        classroom.read_metadata(path)


def test_dask_on_a_local_cluster_writes_the_same_gradebook(graded, toy, tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")
    out, _ = graded
    course, _, folder = toy
    small = tmp_path / "class"
    shutil.copytree(folder / "bob", small / "bob")
    shutil.copy(folder / "dave.zip", small / "dave.zip")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        code, text = _run(capsys, small, "--solution", course, "--out", tmp_path / "dask",
                          "--dask", cluster.scheduler_address)
    assert code == 0
    assert text.rstrip().endswith("2 graded, 0 failed to grade")
    local = [row for row in _gradebook(out) if row["SID"] in ("bob", "dave")]
    assert _gradebook(tmp_path / "dask") == local


def test_the_autograder_bundle_grades_an_upload_where_gradescope_puts_it(toy, tmp_path, capsys):
    course, _, folder = toy
    bundle = tmp_path / "autograder.zip"
    assert autograder.main([str(bundle), "--solution", str(course)]) == 0
    assert autograder.main([str(bundle), "--solution", str(course)]) == 2  # never overwritten
    root = tmp_path / "autograder"  # Gradescope's layout: source, submission, results
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
    setup = (root / "source" / "setup.sh").read_text()
    assert "bubblewrap" in setup
    assert "requirements.txt" in setup
    pins = (root / "source" / "requirements.txt").read_text().splitlines()
    assert all("==" in line for line in pins)
    assert any(line.startswith("numpy==") for line in pins)
    assert (root / "source" / "course" / "tests" / "hidden").is_dir()
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    shutil.copytree(folder / "bob", root / "submission")
    env = dict(os.environ, HANDGRAD_AUTOGRADER_ROOT=str(root), HANDGRAD_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 14
    assert "failed to grade" not in done.stdout  # graded as one submission, not as a class


def test_help_shows_the_options_of_what_was_named(toy, capsys):
    _, _, folder = toy
    with pytest.raises(SystemExit):
        grade.main(["--help"])
    assert "--single" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        grade.main([str(folder), "--help"])
    assert "--similarity" in capsys.readouterr().out
