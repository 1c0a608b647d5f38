"""What a blank may not reach: the static check of its region, the run-time disabling in its
tree, and the grade of a student who calls a forbidden function by every route."""

import importlib.util
import json
import shutil

import pytest

from handgrad import grade, release
from handgrad.coursework import build, example, forbid, isolate, markers, spec, verify

LIB = "toylib/__init__.py"
# A released function that computes relu_backward's answer: the leak the forbid list closes.
PLANTED = '''

def relu_grad(dout, cache):
    return dout * (cache > 0)


GRADS = {"relu": relu_grad}
'''
FORBID = '''
[forbid]
relu_backward = ["relu_grad"]
'''


def _course(root):
    """The example course with relu_grad planted, forbidden in relu_backward, and
    scipy and importlib forbidden in every blank."""
    root = example.write(root)
    (root / LIB).write_text((root / LIB).read_text() + PLANTED)
    toml = root / "coursework.toml"
    text = toml.read_text().replace("memory_mb = 2048\n", 'memory_mb = 2048\n'
                                    'forbid = ["scipy.*", "importlib.*"]\n')
    toml.write_text(text + FORBID)
    return spec.load(root)


@pytest.fixture(scope="module")
def course_and_release(tmp_path_factory):
    base = tmp_path_factory.mktemp("forbid")
    course = _course(base / "course")
    build.write(build.build(course), base / "release")
    return course, base / "release"


def _solved(course, release, dest, blank=None, body="", tail=""):
    """The release with the solution in every guard, `body` in the guard of `blank`, and
    `tail` added at the end of the file."""
    tree = shutil.copytree(release, dest)
    source = (course.root / LIB).read_text()
    answers = {b.id: b.body for b in markers.find_blocks(source, LIB)}
    if blank:
        answers[blank] = [line + "\n" for line in body.split("\n")]
    text, _ = markers.splice((release / LIB).read_text(), answers, LIB)
    (tree / LIB).write_text(text + tail)
    return tree


CHEATS = {
    "a direct call": ("    return relu_grad(dout, cache)", "", "reaches relu_grad"),
    "an alias made outside the region": ("    return fast(dout, cache)", "\nfast = relu_grad\n",
                                         "reaches relu_grad"),
    "an import alias": ("    from toylib import relu_grad as g\n    return g(dout, cache)", "",
                        "reaches relu_grad"),
    "getattr with a constant": ("    import toylib\n"
                                "    return getattr(toylib, 'relu_' + 'grad')(dout, cache)", "",
                                "reaches relu_grad"),
    "importlib": ("    m = importlib.import_module('toylib')\n    return m.relu_grad(dout, cache)",
                  "\nimport importlib\n", "reaches importlib.*"),
    "a helper outside the region": ("    return helper(dout, cache)",
                                    "\ndef helper(d, c):\n    from scipy import special\n"
                                    "    return special.expit(d)\n",
                                    "reaches scipy.* through helper()"),
    "getattr with a computed name": ("    import toylib\n    name = ''.join(['relu', '_grad'])\n"
                                     "    return getattr(toylib, name)(dout, cache)", "",
                                     "uses getattr(), which looks names up or runs code"),
    "exec": ("    exec('dx = 2')\n    return dout", "", "uses exec()"),
    "getattr passed along": ("    import functools\n    import toylib\n"
                             "    return functools.reduce(getattr, NAMES, toylib)(dout, cache)",
                             "\nNAMES = ['relu_grad'[::-1][::-1]]\n", "uses getattr()"),
    "a module's __dict__": ("    import toylib\n    return vars(toylib)['relu' + '_grad']", "",
                            "uses vars()"),
    "reflection": ("    import toylib\n    return toylib.__dict__['relu_grad'](dout, cache)", "",
                   "uses __dict__"),
}


@pytest.mark.parametrize("route", sorted(CHEATS))
def test_the_static_check_finds_every_route(course_and_release, tmp_path, route):
    course, release = course_and_release
    body, tail, expected = CHEATS[route]
    tree = _solved(course, release, tmp_path / "student", "relu_backward", body, tail)
    found = forbid.scan(course, "relu_backward", tree)
    assert any(expected in f for f in found), found
    assert all(f.startswith("relu_backward ") and f"({LIB}:" in f for f in found)
    assert forbid.scan(course, "affine_backward", tree) == []


def test_the_honest_solution_and_look_alike_names_pass(course_and_release, tmp_path):
    course, release = course_and_release
    tree = _solved(course, release, tmp_path / "student", "relu_backward",
                   '    """Not relu_grad: my own."""\n    grad = dout.copy()\n'
                   "    grad[x <= 0] = 0\n    return grad")
    assert forbid.scan(course, "relu_backward", tree) == []
    assert forbid.scan(course, "softmax_loss", tree) == []


def test_the_region_of_deleted_guards_is_the_whole_function(course_and_release, tmp_path):
    course, release = course_and_release
    tree = _solved(course, release, tmp_path / "student", "relu_backward",
                   "    return relu_grad(dout, cache)")
    lib = tree / LIB
    lib.write_text("".join(line for line in lib.read_text().splitlines(keepends=True)
                           if "YOUR CODE relu_backward" not in line))
    assert forbid.scan(course, "relu_backward", tree) == [
        f"relu_backward reaches relu_grad ({LIB}:{_line(lib, 'return relu_grad(')})"]


def _line(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _load(path):
    spec_ = importlib.util.spec_from_file_location(f"toylib_{path.parent.parent.name}", path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module


def test_forbidden_functions_raise_in_their_blanks_tree_only(course_and_release, tmp_path):
    course, release = course_and_release
    student = _solved(course, release, tmp_path / "student")
    iso = isolate.build_trees(course, student, tmp_path / "iso")
    assert iso.forbidden == {blank: [] for blank in iso.trees if blank}
    relu_tree, affine_tree = iso.trees["relu_backward"] / LIB, iso.trees["affine_backward"] / LIB
    relu = _load(relu_tree)
    with pytest.raises(RuntimeError, match="forbidden: relu_grad may not be called from the "
                                           "blank relu_backward"):
        relu.relu_grad(relu.np.ones(2), relu.np.ones(2))
    assert relu.relu_backward(relu.np.ones(2), relu.np.array([1.0, -1.0])).tolist() == [1, 0]
    affine = _load(affine_tree)
    assert affine.relu_grad(affine.np.ones(2), affine.np.array([1.0, -1.0])).tolist() == [1, 0]
    assert len(relu_tree.read_text().splitlines()) == len(affine_tree.read_text().splitlines())


def test_the_forbid_lists_are_checked_against_the_library_and_the_solution(tmp_path):
    course = _course(tmp_path / "course")
    toml = course.root / "coursework.toml"
    toml.write_text(toml.read_text().replace('["relu_grad"]', '["relu_grads"]'))
    with pytest.raises(spec.SpecError, match=r"forbids \['relu_grads'\], which no module of "
                                             "toylib defines"):
        build.build(spec.load(course.root))
    toml.write_text(toml.read_text().replace('["relu_grads"]', '["relu_grad"]')
                    + 'softmax_loss = ["numpy.*"]\n')
    with pytest.raises(spec.SpecError, match=r"the solution of 'softmax_loss' breaks its own "
                                             r"forbid list: softmax_loss reaches numpy\.\*"):
        build.build(spec.load(course.root))
    toml.write_text(toml.read_text() + '\n[forbid.nothing]\n')
    with pytest.raises(spec.SpecError, match=r"\[forbid\] names \['nothing'\], not in"):
        spec.load(course.root)


def test_code_added_outside_the_blanks_may_not_reach_the_forbidden_modules(course_and_release,
                                                                           tmp_path):
    """Run at import, such code could replace any blank's function: every blank answers."""
    course, release = course_and_release
    pristine = {rel: data.decode() for rel, data in build.build(course).files.items()
                if rel.endswith(".py")}
    honest = ("\n\ndef double(a):\n    return 2 * a\n\n\nif __name__ == '__main__':\n"
              "    print(double(relu_forward(1.0)[0]))\n")
    tree = _solved(course, release, tmp_path / "honest", tail=honest)
    (tree / "toylib/helpers.py").write_text("import numpy as np\n\nTWO = np.float64(2)\n")
    assert [forbid.scan(course, b, tree, pristine=pristine) for b in course.blanks] == \
        [[]] * len(course.blanks)
    tree = _solved(course, release, tmp_path / "cheat",
                   tail="\nimport importlib\nrelu_backward = importlib.import_module('toylib')"
                        ".GRADS['relu']\n")
    row = len((tree / LIB).read_text().splitlines()) - 1
    (tree / "toylib/helpers.py").write_text("def go(name):\n    return eval(name)\n")
    for blank in course.blanks:
        assert forbid.scan(course, blank, tree, pristine=pristine) == [
            f"code added outside the blanks reaches importlib.* ({LIB}:{row})",
            f"code added outside the blanks reaches importlib.* ({LIB}:{row + 1})",
            "code added outside the blanks uses eval(), which looks names up or runs code the "
            "grader cannot read; no blank may (toylib/helpers.py:2)"]


def test_a_cheat_scores_zero_for_its_blank_only(course_and_release, tmp_path):
    """relu_backward reaches relu_grad through a dict of the library, by a computed key (the
    static check cannot see it: the disabled body raises); softmax_loss imports scipy (the
    static check sees it). Every other blank scores."""
    course, release = course_and_release
    tree = _solved(course, release, tmp_path / "handin", "relu_backward",
                   "    return GRADS['re' + 'lu'](dout, cache)")
    lib = tree / LIB
    text = lib.read_text()
    lib.write_text(text.replace("    shifted = x - x.max(", "    import scipy.special\n"
                                "    shifted = x - x.max(", 1))
    assert grade.main([str(tree), "--solution", str(course.root), "--out",
                       str(tmp_path / "out")]) == 1
    results = json.loads((tmp_path / "out/results.json").read_text())
    lost = {t["name"]: t["output"] for t in results["tests"] if t["score"] < t["max_score"]}
    relu = [name for name in lost if name.startswith("relu_backward")]
    assert sorted(lost) == sorted([*relu, "softmax_loss: loss", "softmax_loss: dx",
                                   "softmax_loss at 1e4: loss"])
    assert relu
    assert all("forbidden: relu_grad may not be called from the blank relu_backward"
               in lost[name] for name in relu)
    assert all("] forbidden: softmax_loss reaches scipy.* (toylib/__init__.py:" in lost[name]
               for name in lost if name.startswith("softmax"))
    assert results["score"] == 15 - 4 - 4


# A forward/backward pair whose cache differs from the blank's: found through its forward.
PAIR = """

def affine_forward_t(x, w, b):
    return x @ w + b, (x.T, w)


def affine_backward_t(dout, cache):
    xt, w = cache
    return dout @ w.T, xt @ dout, dout.sum(axis=0)
"""


def test_the_answer_scan_names_what_gives_an_answer_away_unless_forbidden(tmp_path):
    course = _course(tmp_path / "course")
    (course.root / LIB).write_text((course.root / LIB).read_text() + PAIR)
    out = tmp_path / "release"
    build.write(build.build(course), out)
    assert verify.answer_scan(course, out, timeout=120) == [
        "toylib.affine_backward_t after toylib.affine_forward_t reproduces dx, dw, db of the "
        "test 'affine_backward' of blank affine_backward: forbid it in affine_backward's "
        "[forbid] list of coursework.toml, or do not ship it"]
    toml = course.root / "coursework.toml"
    toml.write_text(toml.read_text().replace('["relu_grad"]', '[]')
                    + 'affine_backward = ["affine_backward_t"]\n')
    problems = verify.answer_scan(spec.load(course.root), out, timeout=120)
    assert problems == [
        f"toylib.relu_grad reproduces dx of the test {test!r} of blank relu_backward: "
        "forbid it in relu_backward's [forbid] list of coursework.toml, or do not ship it"
        for test in ("relu_backward", "relu_backward public example", "relu_backward at the kink")]


def test_release_fails_and_names_a_shipped_answer(tmp_path, capsys):
    course = _course(tmp_path / "course")
    toml = course.root / "coursework.toml"
    toml.write_text(toml.read_text().replace('["relu_grad"]', '[]'))
    code = release.main([str(tmp_path / "out"), "--solution", str(course.root), "--no-prove"])
    assert code == 1
    err = capsys.readouterr().err
    assert "does not verify" in err
    assert "toylib.relu_grad reproduces dx of the test 'relu_backward'" in err


def test_release_warns_of_a_solution_line_that_a_test_holds(tmp_path):
    course = _course(tmp_path / "course")
    public = course.root / "tests/test_toy_public.py"
    public.write_text(public.read_text() + "\n\ndef relu_by_hand(dout, x):\n"
                      "    dx = dout * (x > 0)\n    return dx\n")
    row = public.read_text().splitlines().index("    dx = dout * (x > 0)") + 1
    warnings = [w for w in build.build(spec.load(course.root)).warnings if " holds " in w]
    assert warnings == [f"tests/test_toy_public.py:{row} holds a line of the solution of "
                        "relu_backward: 'dx = dout * (x > 0)'"]
