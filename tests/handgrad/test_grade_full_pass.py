"""The full pass: every test first in one sandboxed child on the student's own tree, then
only the blanks it does not settle in their isolated trees (real sandbox, no mocks).

The course is the example course with two additions: affine_relu_backward, a blank that
calls two others (affine_backward, relu_backward), and relu_grad, a released function that
computes relu_backward's answer (forbidden to it, reachable through the dict GRADS). And
softmax_loss may not reach sgd_momentum (a rule for the tests' sake): a blank forbidden to
another blank, which the full pass (it disables what any blank may not reach) cannot settle
once the student has written it.
"""

import re
import shutil
import threading
from pathlib import Path

import pytest

from handgrad.coursework import build, example, forbid, grader, isolate, markers, spec
from handgrad.coursework.reach import Rule

LIB = "toylib/__init__.py"
ROOT = Path(__file__).resolve().parents[2]
ADDED = '''

def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    # BEGIN SOLUTION affine_relu_backward
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    # END SOLUTION
    return dx, dw, db


def relu_grad(dout, cache):
    return dout * (cache > 0)


GRADS = {"relu": relu_grad}
'''
SPEC = '''
[[tests]]
name = "affine_relu_backward"
blank = "affine_relu_backward"
kind = "layer"
forward = "toylib:affine_relu_forward"
backward = "toylib:affine_relu_backward"
inputs = ["randn(4, 3)", "randn(3, 5)", "randn(5)"]
grads = ["dx", "dw", "db"]
points = { dx = 1, dw = 1, db = 1 }

[[tests]]
name = "softmax_loss, one example"
blank = "softmax_loss"
kind = "loss"
function = "toylib:softmax_loss"
inputs = ["randn(1, 4)", "labels(1, 4)"]
grads = ["dx"]
points = { loss = 1 }

[forbid]
relu_backward = ["relu_grad"]
softmax_loss = ["sgd_momentum"]
'''
TIMEOUT = 4  # seconds per test in the course copy the hanging submission is graded with


def _course(root, timeout=20):
    root = example.write(root)
    (root / LIB).write_text((root / LIB).read_text() + ADDED)
    toml = root / "coursework.toml"
    text = toml.read_text().replace("affine_backward = { file",
                                    'affine_relu_backward = { file = "toylib/__init__.py" }\n'
                                    "affine_backward = { file", 1)
    toml.write_text(text.replace("timeout = 20", f"timeout = {timeout}\nbudget = 600") + SPEC)
    return root


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """(the prepared grader Context, the release folder) of the course above."""
    base = tmp_path_factory.mktemp("full-pass")
    root = _course(base / "course")
    build.write(build.build(spec.load(root)), base / "release")
    with grader.prepare(root) as context:
        yield context, base / "release"


def _solved(course, release, dest, **bodies):
    """The release with the solution in every guard but those given as blank=code."""
    tree = shutil.copytree(release, dest)
    answers = {b.id: b.body for b in markers.find_blocks((course.root / LIB).read_text(), LIB)}
    answers |= {blank: [line + "\n" for line in code.split("\n")]
                for blank, code in bodies.items()}
    (tree / LIB).write_text(markers.splice((release / LIB).read_text(), answers, LIB)[0])
    return tree


def _graded(context, submission, **options):
    """({test: (outcome, output)}, score, note, sandboxed processes started)."""
    entries, note = grader.grade_submission(context, submission, **options)
    processes = int(re.search(r"(\d+) sandboxed test process", note)[1])
    return ({e.name: (e.outcome, e.output) for e in entries}, sum(e.score for e in entries),
            note, processes)


def _lost(outcomes):
    return {name for name, (outcome, _) in outcomes.items() if outcome != "passed"}


def _forbidden_to_others(course):
    """The blanks some other blank may not reach: the full pass disables them."""
    names = {n for entries in course.forbid.values() for n in Rule.of(entries).names}
    return sorted(b for b in course.blanks if b in names)


def test_a_right_submission_takes_one_pass_and_the_blanks_forbidden_to_others(toy, tmp_path):
    context, release = toy
    course = context.course
    assert _forbidden_to_others(course) == ["sgd_momentum"]
    tree = _solved(course, release, tmp_path / "right")
    outcomes, score, note, processes = _graded(context, tree, jobs=2)
    assert _lost(outcomes) == set()
    assert score == sum(t.max_score for t in course.tests) == 19
    assert processes == 1 + len(_forbidden_to_others(course)) < len(course.blanks)
    assert "(1 isolated: sgd_momentum)" in note
    outcomes, score, note, processes = _graded(context, tree, blanks=["relu_backward"])
    assert processes == 1
    assert sorted(outcomes) == ["relu_backward at the kink: dx", "relu_backward public example: dx",
                                "relu_backward: dx"]
    assert score == 4
    assert "isolated:" not in note


def test_a_wrong_blank_is_graded_in_isolation_and_its_dependents_score(toy, tmp_path):
    context, release = toy
    tree = _solved(context.course, release, tmp_path / "wrong",
                   affine_backward="    dx = dout @ w.T\n    dw = x.T @ dout\n"
                                   "    db = 2 * dout.sum(axis=0)")
    outcomes, score, note, processes = _graded(context, tree)
    assert _lost(outcomes) == {"affine_backward: db"}
    assert "differs from the solution" in outcomes["affine_backward: db"][1]
    assert score == 18
    assert "(3 isolated: affine_backward, affine_relu_backward, sgd_momentum)" in note
    assert processes == 4


def test_compensating_for_a_wrong_blank_earns_that_blank_nothing(toy, tmp_path):
    """affine_relu_backward halves the db of a doubled affine_backward: with the student's
    own affine_backward it computes the right arrays (the full pass settles it), while
    affine_backward, called directly by its own tests, still loses its point."""
    context, release = toy
    tree = _solved(context.course, release, tmp_path / "compensates",
                   affine_backward="    dx = dout @ w.T\n    dw = x.T @ dout\n"
                                   "    db = 2 * dout.sum(axis=0)",
                   affine_relu_backward="    da = relu_backward(dout, relu_cache)\n"
                                        "    dx, dw, db = affine_backward(da, fc_cache)\n"
                                        "    db = db / 2")
    outcomes, score, note, processes = _graded(context, tree)
    assert _lost(outcomes) == {"affine_backward: db"}
    assert score == 18
    assert "(2 isolated: affine_backward, sgd_momentum)" in note
    assert processes == 3


def test_a_syntax_error_costs_only_its_blank(toy, tmp_path):
    """The full pass cannot import the tree: every blank is graded in its own tree, where
    only relu_backward's holds the error; the note gives the student's own import error."""
    context, release = toy
    tree = _solved(context.course, release, tmp_path / "syntax",
                   relu_backward="    dx = (dout * 7")
    outcomes, score, note, processes = _graded(context, tree)
    assert _lost(outcomes) == {name for name in outcomes if name.startswith("relu_backward")}
    assert {outcomes[name][0] for name in _lost(outcomes)} == {"error"}
    assert score == 19 - 4
    assert "The submission does not import:\nimport raised SyntaxError" in note
    assert processes == 1 + len({t.blank for t in context.course.tests})


def test_a_blank_reaching_a_forbidden_function_at_run_time_still_fails(toy, tmp_path):
    """relu_backward calls relu_grad through a dict, by a computed key (no static check
    sees it): disabled in the full pass (for every blank) and in its own tree."""
    context, release = toy
    tree = _solved(context.course, release, tmp_path / "cheat",
                   relu_backward="    return GRADS['re' + 'lu'](dout, cache)")
    outcomes, score, note, processes = _graded(context, tree)
    relu = {name for name in outcomes if name.startswith("relu_backward")}
    assert _lost(outcomes) == relu
    assert all("forbidden: relu_grad may not be called from the blank relu_backward"
               in outcomes[name][1] for name in relu)
    assert score == 19 - 4
    assert "(3 isolated: affine_relu_backward, relu_backward, sgd_momentum)" in note
    assert processes == 4


def test_a_hanging_blank_costs_one_timeout_in_its_own_tree(tmp_path):
    """relu_backward loops forever. In the full pass its first test is killed, its other
    tests are not run, and the pass goes on with its region raising instead: the test of
    affine_relu_backward, which calls it, fails at once rather than hang (a second timeout
    would end the pass before the last test, and softmax_loss would not be settled). In its
    own tree its first test is killed and the others are not run, with the reason."""
    root = _course(tmp_path / "course", timeout=TIMEOUT)
    build.write(build.build(spec.load(root)), tmp_path / "release")
    with grader.prepare(root) as context:
        tree = _solved(context.course, tmp_path / "release", tmp_path / "hangs",
                       relu_backward="    while True:\n        pass")
        outcomes, score, note, processes = _graded(context, tree)
    relu = sorted(name for name in outcomes if name.startswith("relu_backward"))
    assert _lost(outcomes) == set(relu)
    assert outcomes["relu_backward: dx"] == (
        "timed out", f"killed after {TIMEOUT} s without progress during this test")
    for name in ("relu_backward public example: dx", "relu_backward at the kink: dx"):
        assert outcomes[name] == ("timed out", "not run: an earlier test of this blank was "
                                               f"killed after {TIMEOUT} s without progress")
    assert score == 19 - 4
    assert "(3 isolated: affine_relu_backward, relu_backward, sgd_momentum)" in note
    assert processes == 2 + 3  # the full pass: killed at relu_backward, then a fresh child


def test_no_guards_means_the_full_pass_alone(toy, tmp_path):
    """The solution tree (no guards): one pass, and sgd_momentum again in its own tree, where
    it is not disabled (the full pass disables it for softmax_loss's sake). An empty folder:
    one child, which cannot import."""
    context, _ = toy
    outcomes, score, note, processes = _graded(context, context.course.root)
    assert _lost(outcomes) == set()
    assert processes == 2
    assert note.startswith("No blank was isolated")
    (tmp_path / "empty").mkdir()
    outcomes, score, note, processes = _graded(context, tmp_path / "empty")
    assert score == 0
    assert {outcome for outcome, _ in outcomes.values()} == {"error"}
    assert processes == 1
    assert "No module named 'toylib'" in note


def test_the_real_course_right_submission_takes_a_handful_of_processes(tmp_path):
    """This repository's course, the solution typed into the release: full marks from one
    full pass plus the blanks forbidden to other blanks (batchnorm's two backwards)."""
    course = spec.load(ROOT)
    build.write(build.build(course), tmp_path / "release")
    tree = shutil.copytree(tmp_path / "release", tmp_path / "right")
    for rel, bodies in isolate.solution_blocks(course).items():
        (tree / rel).write_text(markers.splice((tree / rel).read_text(), bodies, rel)[0])
    with grader.prepare(ROOT) as context:
        outcomes, score, note, processes = _graded(context, tree, jobs=2)
    assert _lost(outcomes) == set()
    assert score == sum(t.max_score for t in course.tests if t.kind != "pytest")
    assert _forbidden_to_others(course) == ["batchnorm_backward", "batchnorm_backward_alt"]
    assert processes == 1 + len(_forbidden_to_others(course))
    assert "(2 isolated: batchnorm_backward, batchnorm_backward_alt)" in note


def test_blanks_that_timed_out_are_graded_again_last(toy):
    """What hangs must not spend the time budget of the blanks graded after it."""
    course = toy[0].course
    by_blank = {"relu_backward": [1], "affine_backward": [0], "softmax_loss": [2],
                "sgd_momentum": [3]}
    verdicts = {0: {"dx": ("failed", "dx differs")}, 1: {"dx": ("timed out", "killed")},
                2: {"loss": ("passed", ""), "dx": ("passed", "")},
                3: {"next_w": ("error", "raised"), "velocity": ("passed", "")}}
    guarded = isolate.Isolation(isolated=sorted(by_blank))
    first = grader._Pass(verdicts=verdicts, ran={0, 1, 2, 3})
    assert grader._again(course, by_blank, first, guarded, threading.Event()) == \
        ["affine_backward", "sgd_momentum", "relu_backward"]
    assert grader._again(course, by_blank, first, guarded, threading.Event(),
                         {"affine_backward"}) == ["sgd_momentum", "relu_backward"]
    hung = threading.Event()
    hung.set()
    assert grader._again(course, by_blank, first, guarded, hung) == []


def _edited(release, dest, old, new):
    """A copy of release whose toylib/__init__.py has old replaced by new (exactly once)."""
    tree = shutil.copytree(release, dest)
    text = (tree / LIB).read_text()
    assert text.count(old) == 1
    (tree / LIB).write_text(text.replace(old, new))
    return tree


def test_an_untouched_blank_is_not_graded_again(toy, tmp_path):
    """The release as it is: one full pass (nothing disabled there: every blank's function
    is the release's), score 0. A region that differs from the release's by one character
    is graded again in its own tree; trailing spaces and CRLF line ends do not count."""
    context, release = toy
    blanks = sorted({t.blank for t in context.course.tests})
    outcomes, score, note, processes = _graded(context, release)
    assert (score, processes) == (0, 1)
    assert {outcome for outcome, _ in outcomes.values()} == {"not attempted"}
    assert f"Not graded again, their code is the release's: {', '.join(blanks)}." in note
    stub = 'raise NotImplementedError("relu_backward in toylib/__init__.py")'
    tree = _edited(release, tmp_path / "one-character", stub, stub.replace('")', '!")'))
    outcomes, score, note, processes = _graded(context, tree)
    assert (score, processes) == (0, 2)
    assert "(1 isolated: relu_backward)" in note
    assert outcomes["relu_backward: dx"][0] == "not attempted"
    tree = _edited(release, tmp_path / "spaces", stub, stub + "  ")
    (tree / LIB).write_bytes((tree / LIB).read_bytes().replace(b"\n", b"\r\n"))
    assert _graded(context, tree)[1:4:2] == (0, 1)
    # sgd_momentum's region as released, its function not (softmax_loss may not reach it):
    # disabled in the full pass, so graded again where it is not.
    tree = _edited(release, tmp_path / "outside", '    config["velocity"] = v\n',
                   '    config["velocity"] = v  # mine\n')
    outcomes, score, note, processes = _graded(context, tree)
    assert (score, processes) == (0, 2)
    assert "(1 isolated: sgd_momentum)" in note
    assert {outcome for outcome, _ in outcomes.values()} == {"not attempted"}


def test_an_import_error_outside_the_blanks_is_final(toy, tmp_path):
    """Code outside the blanks is the same in every tree: one process, every test carries
    the import error (an exception, a syntax error, sys.exit). A traceback through a blank's
    region at import is graded again in isolation: only that blank loses."""
    context, release = toy
    solved = _solved(context.course, release, tmp_path / "solved")
    for name, added, shown in [
            ("missing", "import missing_module_xyz\n",
             "import raised ModuleNotFoundError: No module named 'missing_module_xyz'"),
            ("syntax", "def broken(:\n", "import raised SyntaxError"),
            ("exits", "import sys\nsys.exit(4)\n", "import raised SystemExit: 4")]:
        tree = shutil.copytree(solved, tmp_path / name)
        (tree / LIB).write_text((tree / LIB).read_text() + added)
        outcomes, score, note, processes = _graded(context, tree)
        assert (score, processes) == (0, 1), name
        assert {outcome for outcome, _ in outcomes.values()} == {"error"}
        assert all(output.startswith("the submission does not import:")  # hidden: 1 line
                   for _, output in outcomes.values())
        assert f"The submission does not import:\n{shown}" in note, name
    tree = _solved(context.course, release, tmp_path / "through",
                   relu_backward="    return dout * (cache > 0) + not_defined")
    (tree / LIB).write_text((tree / LIB).read_text() + "relu_backward(1.0, 1.0)\n")
    outcomes, score, _, processes = _graded(context, tree)
    assert _lost(outcomes) == {name for name in outcomes if name.startswith("relu_backward")}
    assert score == 19 - 4
    assert processes == 1 + len({t.blank for t in context.course.tests})


def test_a_process_that_ends_while_importing_is_final(toy, tmp_path):
    """os._exit at import leaves no report: like a hang at import, one process, every test
    an error with the reason."""
    context, release = toy
    tree = _solved(context.course, release, tmp_path / "ends")
    (tree / LIB).write_text((tree / LIB).read_text() + "import os\nos._exit(3)\n")
    outcomes, score, _, processes = _graded(context, tree)
    assert (score, processes) == (0, 1)
    assert set(outcomes.values()) == {
        ("error", "the test process ended while importing the submission (exit code 3)")}


def test_the_real_course_release_takes_one_process(tmp_path):
    """This repository's course as released: nothing to grade again, score 0."""
    course = spec.load(ROOT)
    build.write(build.build(course), tmp_path / "release")
    with grader.prepare(ROOT) as context:
        outcomes, score, _, processes = _graded(context, tmp_path / "release", jobs=2)
    assert (score, processes) == (0, 1)
    assert {outcome for outcome, _ in outcomes.values()} == {"not attempted"}


def test_an_import_failure_is_placed_only_in_the_tree(toy, tmp_path):
    """_outside_blanks reads the child's report (untrusted): anything it cannot place, or
    a place inside a region or outside the tree, grades the blanks again."""
    context, release = toy
    course = context.course
    guard = (release / LIB).read_text().splitlines().index(
        "    # BEGIN YOUR CODE relu_backward") + 2

    def outside(*frames, message="boom"):
        return grader._outside_blanks(course, release, {"message": message,
                                                        "frames": [list(f) for f in frames]})

    assert outside(["/submission/" + LIB, 1, "<module>"])
    assert not outside(["/submission/" + LIB, guard, "relu_backward"])
    assert not outside(["/submission/" + LIB, guard, "relu_backward"],
                       ["/submission/" + LIB, 1, "<module>"])
    assert (release.parent / "course" / LIB).is_file()  # the solution, beside the tree
    assert not outside(["/submission/../course/" + LIB, 1, "<module>"])
    assert not outside(["python/lib/importlib/__init__.py", 1, "import_module"])
    assert not outside(["/submission/" + LIB, 1, "relu_grad"])
    assert outside(["/submission/" + LIB, 1, "<module>"], message=["not", "hashable"])
    assert not outside(["/submission/" + LIB, 1, "<module>"],
                       message=forbid.disabled_message("relu_grad", "relu_backward"))
    assert not grader._outside_blanks(course, release, {"frames": "not a list"})
