"""The grader's side of the trust boundary, without a sandbox: what it accepts, what it shows."""

import json
import os
import zipfile

import numpy as np
import pytest

from handgrad import grade
from handgrad.coursework import checks, example, grader, inputs, spec

SPEC_HEAD = '[course]\nname = "t"\n[blanks]\nb = { file = "m.py" }\n'


def _spec(tmp_path, test):
    (tmp_path / "coursework.toml").write_text(SPEC_HEAD + "[[tests]]\n" + test)
    return tmp_path


@pytest.mark.parametrize("extra", ["points = 1", "points = 0\nhidden = true", ""])
def test_a_pytest_test_with_points_or_hidden_is_refused(tmp_path, extra):
    root = _spec(tmp_path, f'name = "p"\nblank = "b"\nkind = "pytest"\nnode = "t.py::x"\n{extra}\n')
    with pytest.raises(spec.SpecError, match="runs inside the student's process"):
        spec.load(root)


def test_a_pytest_test_of_no_points_is_kept_and_not_graded(tmp_path):
    root = _spec(tmp_path, 'name = "p"\nblank = "b"\nkind = "pytest"\nnode = "t.py::x"\n'
                           'points = 0\n')
    course = spec.load(root)
    assert [t.name for t in course.tests] == ["p"]
    assert grader.selected_tests(course) == []


def test_a_declarative_test_names_its_outputs(tmp_path):
    root = _spec(tmp_path, 'name = "d"\nblank = "b"\nkind = "loss"\nfunction = "m:f"\n')
    with pytest.raises(spec.SpecError, match="gives points to no output"):
        spec.load(root)


def test_input_makers_for_edge_cases():
    kink, labels, ones, low = inputs.build(
        ["array([[0.0, 1.0], [-1.0, 0.0]])", "array([0, 2])", "ones(2, 3)",
         "float32(randn(3, 2) * 1e4)"], seed=0)
    assert kink.dtype == np.float64
    assert np.count_nonzero(kink == 0) == 2
    assert labels.dtype.kind == "i"
    assert np.array_equal(ones, np.ones((2, 3)))
    assert low.dtype == np.float32
    assert np.abs(low).max() > 100
    with pytest.raises(ValueError, match=r"float32\(\.\.\.\) or a literal"):
        inputs.build(["__import__('os')"], seed=0)


def _zip(path, members, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(("members", "words"), [
    ({"m.py": b"#" * (3 * 2**20)}, "times its packed size"),
    ({f"f{i}.py": b"" for i in range(grader.MAX_MEMBERS + 1)}, "members; at most"),
    ({"../evil.py": b"x"}, "unsafe path"),
])
def test_zip_limits_refuse_before_anything_is_written(tmp_path, members, words):
    archive = _zip(tmp_path / "handin.zip", members)
    with pytest.raises(grader.SubmissionError, match=words):
        grader.unpack(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_folder_with_a_link_or_a_fifo_is_refused(tmp_path):
    folder = tmp_path / "handin"
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg/m.py").write_text("x = 1\n")
    (folder / "notes.txt").write_text("mine\n")
    (folder / "pkg/link.py").symlink_to(folder / "pkg/m.py")
    with pytest.raises(grader.SubmissionError, match=r"symbolic link: pkg/link\.py"):
        grader.unpack(folder, tmp_path / "one")
    (folder / "pkg/link.py").unlink()
    os.mkfifo(folder / "pkg/pipe")
    with pytest.raises(grader.SubmissionError, match="special file: pkg/pipe"):
        grader.unpack(folder, tmp_path / "two")
    (folder / "pkg/pipe").unlink()
    assert (grader.unpack(folder, tmp_path / "three") / "pkg/m.py").read_text() == "x = 1\n"
    (tmp_path / "lone").symlink_to(folder)
    with pytest.raises(grader.SubmissionError, match="is a symbolic link"):
        grader.unpack(tmp_path / "lone", tmp_path / "four")


@pytest.mark.parametrize(("args", "words"), [
    (["--out", "FILE"], "exists and is not a folder"),
    (["--jobs", "0"], "--jobs is 0"),
    (["--junit", "."], "is a folder"),
])
def test_bad_options_fail_before_grading(tmp_path, capsys, args, words):
    course = example.write(tmp_path / "course")
    (tmp_path / "FILE").write_text("keep me\n")
    args = [str(tmp_path / "FILE") if a == "FILE" else a for a in args]
    assert grade.main([str(course), "--solution", str(course), "--single", *args]) == 2
    assert words in capsys.readouterr().err
    assert (tmp_path / "FILE").read_text() == "keep me\n"


def test_an_unknown_blank_is_a_usage_error(tmp_path, capsys):
    course = example.write(tmp_path / "course")
    code = grade.main([str(course), "--solution", str(course), "--single", "--blank", "nope",
                       "--out", str(tmp_path / "out"), "--sandbox", "none"])
    assert code == 2
    assert "known blanks: ['affine_backward'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_results_are_written_through_one_rename(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")
    grade.write_atomically(target, json.dumps({"score": 1}))
    assert json.loads(target.read_text()) == {"score": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


STOLEN = {"status": "error", "stage": "backward", "type": "dx_equals_dout_at_w",
          "message": "stolen: dx = dout @ w.T",
          "frames": [["/submission/m.py", 7, "steal_the_solution"], ["?", 3, "x"]]}


def test_a_tree_holding_solution_code_shows_no_text_of_the_child():
    outcome, text = checks.raised(STOLEN, files=frozenset({"m.py"}))
    assert outcome == "error"
    assert text.startswith("backward raised an exception at m.py:7 (the message is not shown")
    for word in ("stolen", "dx_equals", "steal_the"):
        assert word not in text
    builtin = {**STOLEN, "type": "ValueError", "message": "planted by the grader"}
    assert checks.raised(builtin, frozenset(), {"planted by the grader"})[1] == \
        "backward raised ValueError: planted by the grader"


def test_the_students_own_tree_shows_the_message_and_frames():
    _, text = checks.raised(STOLEN)
    assert "dx_equals_dout_at_w: stolen: dx = dout @ w.T" in text
    assert 'File "/submission/m.py", line 7, in steal_the_solution' in text


def test_judging_hides_a_returned_shape_and_refuses_structured_arrays():
    test = spec.Test(name="t", blank="b", kind="loss", points={"loss": 1, "dx": 1},
                     grads=("dx",), target={"function": "m:f"})
    expected = {"loss": np.array(1.0), "dx": np.zeros((2, 3))}
    got = {"loss": np.zeros(0, dtype=[("stolen", "f8")]), "dx": np.zeros((100, 111, 117))}
    verdicts = checks.judge(test, expected, got, {"stage": None}, files=frozenset())
    assert verdicts == {"loss": ("failed", "loss is not an array of numbers"),
                        "dx": ("failed", "dx has the wrong shape; expected (2, 3)")}
    open_tree = checks.judge(test, expected, got, {"stage": None})
    assert open_tree["dx"][1] == "dx has the wrong shape (100, 111, 117); expected (2, 3)"


@pytest.mark.parametrize("files", [None, frozenset({"m.py"})])
def test_a_forged_stage_report_is_judged_not_obeyed(files):
    forged = {"status": "passed", "stage": ["x"], "type": 3, "frames": 5, "message": ["a", "b"]}
    outcome, text = checks.raised(forged, files, frozenset({"planted"}))
    assert outcome == "error"
    assert text.startswith("the test raised")
    assert checks.raised([1, 2], files)[0] == "error"
