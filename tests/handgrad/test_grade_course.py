"""handgrad grade on the example course: untouched, solved, one planted bug, broken, stuck."""

import json
import shutil
import time
import xml.etree.ElementTree as ET
import zipfile

import pytest

from handgrad import grade
from handgrad.coursework import build, example, markers, spec

LIB = "toylib/__init__.py"


@pytest.fixture(scope="module")
def course_and_release(tmp_path_factory):
    base = tmp_path_factory.mktemp("grade")
    course = example.write(base / "course")
    build.write(build.build(spec.load(course)), base / "release")
    return course, base / "release"


def _solved(course, release, dest):
    """A student tree: the release with the solution's code typed into every guard."""
    tree = shutil.copytree(release, dest)
    source = (course / LIB).read_text()
    answers = {b.id: b.body for b in markers.find_blocks(source, LIB)}
    text, _ = markers.splice((release / LIB).read_text(), answers, LIB)
    (tree / LIB).write_text(text)
    return tree


def _grade(submission, course, out, *extra):
    code = grade.main([str(submission), "--solution", str(course), "--out", str(out), *extra])
    results = json.loads((out / "results.json").read_text())
    outcomes = {t["name"]: t["extra_data"]["outcome"] for t in results["tests"]}
    return code, results, outcomes


def test_untouched_release_scores_zero_all_not_attempted(course_and_release, tmp_path, capsys):
    course, release = course_and_release
    code, results, outcomes = _grade(release, course, tmp_path)
    assert code == 1
    assert results["score"] == 0
    assert set(outcomes.values()) == {"not attempted"}
    assert len(outcomes) == 11
    hidden = [t for t in results["tests"] if t["visibility"] == "after_due_date"]
    assert [t["name"] for t in hidden] == ["relu_backward at the kink: dx",
                                                    "softmax_loss at 1e4: loss"]
    assert "2 more tests (2 points)" in results["output"]
    assert all(t["status"] == "failed" for t in results["tests"])
    assert capsys.readouterr().out.rstrip().endswith("0 passed, 11 failed (11 not attempted)")
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == "11"
    assert suite.get("failures") == "11"


def test_solution_scores_full_marks(course_and_release, tmp_path, capsys):
    course, _ = course_and_release
    code, results, outcomes = _grade(course, course, tmp_path)
    assert code == 0
    assert results["score"] == 15
    assert set(outcomes.values()) == {"passed"}
    assert capsys.readouterr().out.rstrip().endswith("11 passed, 0 failed")


def test_a_planted_bug_costs_only_its_gradient(course_and_release, tmp_path):
    course, release = course_and_release
    tree = _solved(course, release, tmp_path / "student" / "handin")
    lib = tree / LIB
    lib.write_text(lib.read_text().replace("db = dout.sum(axis=0)", "db = 2 * dout.sum(axis=0)"))
    (tree / "tests/test_toy_public.py").write_text("def test_cheat():\n    pass\n")
    archive = tmp_path / "handin.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(tree.rglob("*")):
            zf.write(path, path.relative_to(tmp_path / "student").as_posix())
    code, results, outcomes = _grade(archive, course, tmp_path / "out", "--splice")
    assert code == 1
    assert {name for name, o in outcomes.items() if o != "passed"} == {"affine_backward: db"}
    assert results["score"] == 14
    db = next(t for t in results["tests"] if t["name"] == "affine_backward: db")
    assert "differs from the solution" in db["output"]
    assert "Spliced the code of 4 of 4 blanks" in results["output"]
    # One full pass settles the three right blanks; only affine_backward is graded again.
    assert "(1 isolated: affine_backward)" in results["output"]
    assert "2 sandboxed test processes in all." in results["output"]


def test_a_submission_that_does_not_import_gets_zero_and_the_reason(course_and_release,
                                                                   tmp_path):
    course, release = course_and_release
    tree = shutil.copytree(release, tmp_path / "broken")
    (tree / LIB).write_text("import numpy_typo_module\n" + (tree / LIB).read_text())
    code, results, outcomes = _grade(tree, course, tmp_path / "out")
    assert code == 1
    assert results["score"] == 0
    assert set(outcomes.values()) == {"error"}
    assert "does not import" in results["output"]
    assert "numpy_typo_module" in results["output"]
    hidden = [t for t in results["tests"] if t["visibility"] == "after_due_date"]
    assert all("Traceback" not in t["output"] for t in hidden)


def test_an_unreadable_submission_still_gets_results(course_and_release, tmp_path):
    course, _ = course_and_release
    junk = tmp_path / "handin.zip"
    junk.write_bytes(b"not a zip")
    code, results, outcomes = _grade(junk, course, tmp_path / "out")
    assert code == 1
    assert results["score"] == 0
    assert "cannot be read" in results["output"]
    assert set(outcomes.values()) == {"error"}


def test_a_stuck_blank_times_out_alone(course_and_release, tmp_path):
    course, release = course_and_release
    quick = shutil.copytree(course, tmp_path / "course")
    toml = quick / "coursework.toml"
    # 10 s of wall time: a loaded CI machine must not time out the healthy tests. The
    # blank's three tests run one after another in its process: the submission's time
    # budget of 14 s stops the second and third long before 3 x 10 s.
    toml.write_text(toml.read_text().replace("timeout = 20", "timeout = 10\nbudget = 14"))
    tree = _solved(quick, release, tmp_path / "stuck")
    lib = tree / LIB
    lib.write_text(lib.read_text().replace("dx = dout * (x > 0)", "while True:\n        pass"))
    code, _, outcomes = _grade(tree, quick, tmp_path / "out", "--splice", "--jobs", "3")
    assert code == 1
    stuck = {name for name, o in outcomes.items() if o == "timed out"}
    assert stuck == {"relu_backward: dx", "relu_backward public example: dx",
                     "relu_backward at the kink: dx"}
    assert all(o == "passed" for name, o in outcomes.items() if name not in stuck)


def test_a_tree_that_hangs_at_import_costs_one_timeout_not_one_per_blank(course_and_release,
                                                                         tmp_path):
    """Import-time code lies outside the blanks, the same in every blank's tree: once a
    child is killed while importing, the blanks not yet run are not run, however large
    the time budget."""
    course, release = course_and_release
    quick = shutil.copytree(course, tmp_path / "course")
    toml = quick / "coursework.toml"
    toml.write_text(toml.read_text().replace("timeout = 20", "timeout = 4\nbudget = 600"))
    tree = _solved(quick, release, tmp_path / "hangs")
    lib = tree / LIB
    lib.write_text("while True:\n    pass\n" + lib.read_text())
    start = time.monotonic()
    code, results, outcomes = _grade(tree, quick, tmp_path / "out", "--jobs", "1")
    seconds = time.monotonic() - start
    assert code == 1
    assert results["score"] == 0
    assert set(outcomes.values()) == {"timed out"}
    assert "hung while importing" in json.dumps(results)
    blanks = {t["extra_data"]["blank"] for t in results["tests"]}
    assert len(blanks) > 3
    assert seconds < 4 * 2 + 10, seconds  # one 4 s timeout and start-up, not one per blank


def test_terminal_results_json_and_junit_state_one_score(course_and_release, tmp_path, capsys):
    """A bug only a hidden test sees (ReLU's gradient at 0): every report gives the same
    points and counts, split into visible and after the due date, and the same total."""
    course, release = course_and_release
    tree = _solved(course, release, tmp_path / "handin")
    lib = tree / LIB
    lib.write_text(lib.read_text().replace("dx = dout * (x > 0)", "dx = dout * (x >= 0)"))
    code, results, outcomes = _grade(tree, course, tmp_path / "out")
    assert code == 1
    assert [name for name, o in outcomes.items() if o != "passed"] == \
        ["relu_backward at the kink: dx"]
    printed = capsys.readouterr().out
    tally = results["extra_data"]
    assert (tally["visible"]["score"], tally["visible"]["max_score"]) == (13, 13)
    assert (tally["after_due_date"]["passed"], tally["after_due_date"]["failed"]) == (1, 1)
    assert (tally["total"]["score"], tally["total"]["max_score"]) == (results["score"], 15)
    assert results["score"] == 14
    visible_line = "Visible tests: 9 passed, 0 failed; 13 of 13 points."
    assert visible_line in results["output"]
    assert visible_line in printed
    assert "After the due date: 1 passed, 1 failed; 1 of 2 points." in printed
    assert "score 14 / 15 (visible and after the due date)" in printed
    assert printed.rstrip().endswith("10 passed, 1 failed")
    suite = ET.parse(tmp_path / "out/junit.xml").getroot().find("testsuite")
    props = {p.get("name"): float(p.get("value")) for p in suite.find("properties")}
    for part, numbers in tally.items():
        for key in ("score", "max_score", "passed", "failed"):
            assert props[f"{part}_{key}"] == numbers[key], (part, key)
    assert int(suite.get("tests")) == tally["total"]["tests"] == 11
    assert int(suite.get("failures")) + int(suite.get("errors")) == tally["total"]["failed"]
