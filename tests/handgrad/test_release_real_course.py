"""The coursework of this repository, end to end: release it, check the student tree, grade it.

The real `handgrad release --no-prove` runs once per session (conftest.py: with its
verification, the public tests and every notebook on the release) and every test shares it.
Student code always runs in a child process from the student tree, never imported into this
one (that would shadow the installed solution).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handgrad import grade, release
from handgrad.coursework import build, isolate, markers, spec

ROOT = Path(__file__).resolve().parents[2]
COURSE = spec.load(ROOT)

# One call that reaches each Python blank with valid inputs (checks before the blank pass).
REACH = {
    "affine_backward": "affine_backward(np.ones((2, 3)), affine_forward(x, w, b)[1])",
    "relu_backward": "relu_backward(x, relu_forward(x)[1])",
    "softmax_loss": "softmax_loss(x, y)",
    "svm_loss": "svm_loss(x, y)",
    "batchnorm_backward": "batchnorm_backward(x, batchnorm_forward(x, g, b4, "
                          "{'mode': 'train'})[1])",
    "batchnorm_backward_alt": "batchnorm_backward_alt(x, batchnorm_forward(x, g, b4, "
                              "{'mode': 'train'})[1])",
    "dropout_forward": "dropout_forward(x, {'mode': 'train', 'p': 0.5, 'seed': 1})",
    "dropout_backward": "dropout_backward(x, (np.full(x.shape, 2.0), x.shape))",
    "conv_backward_naive": "conv_backward_naive(np.ones((2, 2, 2, 2)), "
                           "conv_forward_naive(img, np.ones((2, 1, 3, 3)), np.zeros(2), "
                           "{'stride': 1, 'pad': 1})[1])",
    "max_pool_backward_naive": "max_pool_backward_naive(np.ones((2, 1, 1, 1)), "
                               "max_pool_forward_naive(img, {'pool_height': 2, "
                               "'pool_width': 2, 'stride': 2})[1])",
    "two_layer_loss": "TwoLayerNet(input_dim=4, hidden_dim=3, num_classes=4).loss(x)",
    "sgd_momentum": "sgd_momentum(x, x)",
    "rmsprop": "rmsprop(x, x)",
    "adam": "adam(x, x)",
    "rnn_step_backward": "rnn_step_backward(np.ones((2, 3)), rnn_step_forward(x, np.zeros((2, 3)), "
                         "w, np.eye(3), b)[1])",
    "rnn_backward": "rnn_backward(np.ones((2, 1, 3)), rnn_forward(x[:, None], np.zeros((2, 3)), "
                    "w, np.eye(3), b)[1])",
    "word_embedding_backward": "word_embedding_backward(np.ones((2, 2, 4)), "
                               "word_embedding_forward(np.array([[0, 1], [1, 1]]), x)[1])",
    "lstm_step_backward": "lstm_step_backward(np.ones((2, 1)), np.ones((2, 1)), lstm_step_forward("
                          "x, np.zeros((2, 1)), np.zeros((2, 1)), np.ones((4, 4)), "
                          "np.ones((1, 4)), b4)[2])",
    "attention_backward": "attention_backward(x, attention_forward(x, x, x)[1])",
}
PROBE = """
import json, sys
import numpy as np
from layers import *
from models import TwoLayerNet
from solver.optim import adam, rmsprop, sgd_momentum
import datasets, gradcheck

x, y = np.linspace(-1, 1, 8).reshape(2, 4), np.array([0, 3])
w, b, g, b4 = np.ones((4, 3)), np.zeros(3), np.ones(4), np.zeros(4)
img = np.arange(8.0).reshape(2, 1, 2, 2)
raised = {}
for blank, call in json.loads(sys.argv[1]).items():
    try:
        eval(call)
    except NotImplementedError as err:
        raised[blank] = str(err)
print(json.dumps(raised))
"""

LIBRARY = ("datasets", "gradcheck", "layers", "models", "solver")
# Runs each notebook's setup cell (its magics blanked), from notebooks/, and says where the
# library came from.
SETUP_PROBE = """
import json, sys
import nbformat
found = {}
for path in sys.argv[2:]:
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    saved = list(sys.path)
    for name in [m for m in sys.modules if m.split(".")[0] in sys.argv[1].split(",")]:
        del sys.modules[name]
    exec("".join(line for line in cell.source.splitlines(True) if not line.startswith("%")), {})
    found[path] = {m: sys.modules[m].__file__ for m in sys.argv[1].split(",") if m in sys.modules}
    sys.path[:] = saved
print(json.dumps(found))
"""


def _run(args, cwd):
    """Run python with args in cwd, the student tree first on sys.path (as `python -m` does).

    No bytecode is written: the shared release must stay exactly what was released.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env=env)


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _grade(submission, out):
    code = grade.main([str(submission), "--solution", str(ROOT), "--out", str(out)])
    results = json.loads((out / "results.json").read_text())
    return code, results, {t["name"]: t["extra_data"]["outcome"] for t in results["tests"]}


@pytest.fixture(scope="module")
def student(released):
    return released[0]


def test_every_python_blank_raises_its_own_name_and_file(student):
    python_blanks = {b: info for b, info in COURSE.blanks.items() if info["file"].endswith(".py")}
    assert set(python_blanks) == set(REACH)
    done = _run(["-c", PROBE, json.dumps(REACH)], student)
    assert done.returncode == 0, done.stderr
    raised = json.loads(done.stdout)
    assert raised == {b: f"{b} in {info['file']}" for b, info in python_blanks.items()}


def test_every_notebook_blank_raises_in_its_cell(student):
    for blank, info in COURSE.blanks.items():
        if info["file"].endswith(".ipynb"):
            text = (student / info["file"]).read_text()
            assert f'raise NotImplementedError(\\"{blank} in {info["file"]} cell ' in text


def test_gradcheck_reports_the_blanks_as_not_attempted(student, tmp_path):
    report = tmp_path / "gradcheck.json"
    done = _run(["-m", "gradcheck", "affine", "relu", "--json", str(report)], student)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("0 passed, 0 failed, 4 not attempted")
    assert "not implemented yet: affine_backward in layers/affine.py" in done.stdout
    assert json.loads(report.read_text())["summary"]["not_attempted"] == 4


def test_release_holds_no_hidden_tests_and_lists_every_blank(student):
    files = set(_tree(student))
    assert not any(f.startswith("tests/hidden/") for f in files)
    assert "coursework.toml" not in files
    assert "tests/handgrad/test_release_real_course.py" not in files
    assert "tests/layers/test_affine.py" in files
    manifest = json.loads((student / build.MANIFEST).read_text())
    listed = {b["id"]: b["file"] for b in manifest["blanks"]}
    assert {b: listed.get(b) for b in COURSE.blanks} == \
        {b: info["file"] for b, info in COURSE.blanks.items()}
    # Blocks marked in the source but not (yet) scored by coursework.toml are cut and listed.
    assert all(b["points"] == 0 for b in manifest["blanks"] if b["id"] not in COURSE.blanks)
    assert set(manifest["files"]) == files - {build.MANIFEST}
    for blank in manifest["blanks"]:
        if blank["file"].endswith(".py"):
            first, last = blank["lines"]
            lines = (student / blank["file"]).read_text().splitlines()
            assert lines[first - 1].strip() == f"# BEGIN YOUR CODE {blank['id']}"
            assert lines[last - 1].strip() == "# END YOUR CODE"
            assert blank["hints"] in (1, 2)


def test_release_command_verifies_and_is_deterministic(released, tmp_path):
    out, printed = released
    assert printed.rstrip().endswith(f"blanks to {out}; verified")
    fresh = build.build(COURSE)
    assert _tree(out) == {**fresh.files, build.MANIFEST: build.manifest(fresh)}
    assert release.main([str(out), "--solution", str(ROOT), "--check"]) == 0
    edited = shutil.copytree(out, tmp_path / "edited")
    (edited / "layers/affine.py").write_text("edited\n")
    assert release.main([str(edited), "--solution", str(ROOT), "--check"]) == 1


def test_grading_the_untouched_release_scores_zero(student, tmp_path):
    code, results, outcomes = _grade(student, tmp_path)
    assert code == 1
    assert results["score"] == 0
    assert set(outcomes.values()) == {"not attempted"}
    graded = {t["extra_data"]["blank"] for t in results["tests"]}
    assert graded == {t.blank for t in COURSE.tests}


def test_grading_the_solution_gives_full_score(tmp_path):
    code, results, outcomes = _grade(ROOT, tmp_path)
    assert code == 0
    assert set(outcomes.values()) == {"passed"}
    assert results["score"] == sum(t.max_score for t in COURSE.tests) > 0


def _answer(tree, leave=()):
    """Type the solution into every Python blank of the student tree but those in `leave`."""
    for rel, bodies in isolate.solution_blocks(COURSE).items():
        answers = {bid: body for bid, body in bodies.items() if bid not in leave}
        (tree / rel).write_text(markers.splice((tree / rel).read_text(), answers, rel)[0])


def _replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_planted_bug_costs_only_its_own_blank(student, tmp_path):
    """TwoLayerNet calls affine_backward, dropout_backward needs dropout_forward's mask: each
    blank the full pass does not settle is graded with the solution in every other blank, so
    neither bug spreads, and a blank left untouched (adam) costs nothing elsewhere (rmsprop
    shares its file)."""
    tree = shutil.copytree(student, tmp_path / "handin")
    _answer(tree, leave={"adam"})
    _replace(tree / "layers/affine.py", "db = dout.sum(axis=0) ", "db = 2 * dout.sum(axis=0) ")
    _replace(tree / "layers/dropout.py", "mask = np.asarray((np.random.rand(*x.shape) < p) / p,",
             "mask = np.asarray((np.random.rand(*x.shape) < p),")
    code, results, outcomes = _grade(tree, tmp_path / "out")
    assert code == 1
    lost = {name: o for name, o in outcomes.items() if o != "passed"}
    adam = {name: "not attempted" for name in outcomes if name.startswith("adam")}
    assert lost == {"affine_backward: db": "failed", "dropout_forward: out": "failed", **adam}
    scores = {}
    for t in results["tests"]:
        blank = scores.setdefault(t["extra_data"]["blank"], [0, 0])
        blank[0] += t["score"]
        blank[1] += t["max_score"]
    full = {b: sum(t.max_score for t in COURSE.tests if t.blank == b) for b in scores}
    assert scores["two_layer_loss"] == [full["two_layer_loss"]] * 2 == [6, 6]
    assert scores["dropout_backward"] == [full["dropout_backward"]] * 2
    assert scores["affine_backward"] == [full["affine_backward"] - 1, full["affine_backward"]]
    assert scores["adam"] == [0, full["adam"]]
    # The full pass settles every blank but those (and the blanks forbidden to others);
    # adam, as released, keeps its full-pass results.
    assert ("(6 isolated: affine_backward, batchnorm_backward, batchnorm_backward_alt, "
            "dropout_backward, dropout_forward, two_layer_loss)") in results["output"]
    assert "Not graded again, their code is the release's: adam." in results["output"]


def test_notebooks_use_the_tree_they_sit_in(student):
    """The solution is installed (editable) in this interpreter; a student's notebook must
    still import the student's library, from the parent of its notebooks/ folder."""
    paths = sorted(str(p) for p in (student / "notebooks").glob("*.ipynb"))
    assert len(paths) == 8
    done = _run(["-c", SETUP_PROBE, ",".join(LIBRARY), *paths], student / "notebooks")
    assert done.returncode == 0, done.stderr
    for path, origins in json.loads(done.stdout).items():
        assert origins, path
        for name, origin in origins.items():
            assert Path(origin).resolve().is_relative_to(student.resolve()), (path, name, origin)


# A cheating student: each of these blanks calls what computes its answer for it, by another
# route each time; (blank, its file, the code in its guards, code added outside, what the
# grader must name). Code added outside the blanks that reaches a forbidden module (the
# toy example, importlib) would cost every blank: tests/handgrad/test_forbid.py shows it.
CHEATS = [
    ("batchnorm_backward_alt", "layers/normalization.py",
     "    return batchnorm_backward(dout, cache)", "",
     "forbidden: batchnorm_backward_alt reaches batchnorm_backward ("),
    # A dict of the library holds the function, looked up by a computed key: only the run
    # time sees it.
    ("batchnorm_backward", "layers/normalization.py",
     "    from models.fc_net import NORMALIZATIONS\n"
     "    return NORMALIZATIONS['batch' + 'norm'][1](dout, cache)", "",
     "forbidden: batchnorm_backward_alt may not be called from the blank batchnorm_backward"),
    ("conv_backward_naive", "layers/conv.py",
     "    return _fast(dout, (_pad(x, pad, pad), w, conv_param))", "\n_fast = conv_backward_fast\n",
     "forbidden: conv_backward_naive reaches conv_backward_fast ("),
    ("max_pool_backward_naive", "layers/pool.py",
     "    import importlib\n    fast = importlib.import_module('layers.pool')\n"
     "    dx = fast.max_pool_backward_fast(dout, fast.max_pool_forward_fast(x, pool_param)[1])", "",
     "forbidden: max_pool_backward_naive reaches importlib.* ("),
    ("relu_backward", "layers/activations.py",
     "    import layers\n    gate = getattr(layers, 'max_' + 'backward')\n"
     "    return gate(dout, x > 0)[0]", "",
     "forbidden: relu_backward reaches max_backward ("),
    ("softmax_loss", "layers/losses.py",
     "    from handgrad.coursework import example\n    toy = {}\n    exec(example.LIB, toy)\n"
     "    return toy['softmax_loss'](x, y)", "",
     "forbidden: softmax_loss reaches handgrad.* ("),
    ("affine_backward", "layers/affine.py",
     "    from layers import temporal_affine_backward as step\n"
     "    dx, dw, db = step(dout[:, None], (x.reshape(len(x), 1, -1), w))\n"
     "    dx = dx.reshape(x.shape)", "",
     "forbidden: affine_backward reaches temporal_affine_backward ("),
    ("two_layer_loss", "models/fc_net.py",
     "        net = FullyConnectedNet([len(b1)], input_dim=len(W1), num_classes=len(b2),\n"
     "                                reg=self.reg, dtype=W1.dtype)\n"
     "        net.params = dict(self.params)\n        if y is None:\n"
     "            return net.loss(X)\n        loss, grads = net.loss(X, y)", "",
     "forbidden: two_layer_loss reaches FullyConnectedNet ("),
    ("dropout_backward", "layers/dropout.py",
     "    from layers.gates import multiply_backward as times\n"
     "    return times(dout, (mask, mask))[1]", "",
     "forbidden: dropout_backward reaches multiply_backward ("),
]


def test_a_cheating_student_scores_zero_for_each_cheat_and_full_marks_elsewhere(student,
                                                                             tmp_path):
    tree = shutil.copytree(student, tmp_path / "handin")
    _answer(tree, leave={blank for blank, *_ in CHEATS})
    for blank, rel, body, tail, _ in CHEATS:
        text, used = markers.splice((tree / rel).read_text(),
                                    {blank: [line + "\n" for line in body.split("\n")]}, rel)
        assert used == [blank]
        (tree / rel).write_text(text + tail)
    code, results, _ = _grade(tree, tmp_path / "out")
    assert code == 1
    named = {blank: message for blank, *_, message in CHEATS}
    for t in results["tests"]:
        blank = t["extra_data"]["blank"]
        if blank in named:
            assert t["score"] == 0, t["name"]
            if t["visibility"] != "after_due_date":
                assert named[blank] in t["output"], (t["name"], t["output"][:500])
        else:
            assert t["score"] == t["max_score"], (t["name"], t["output"][:500])
