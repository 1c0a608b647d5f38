"""Per-blank trees of the grader: the solution in every other blank, the rest the student's."""

import os

import pytest

from handgrad.coursework import build, example, isolate, spec

LIB = "toylib/__init__.py"
TOY_BLANKS = ["affine_backward", "relu_backward", "sgd_momentum", "softmax_loss"]
RELU_STUB = 'raise NotImplementedError("relu_backward in toylib/__init__.py")'


@pytest.fixture
def course_and_student(tmp_path):
    """The example course and a student tree: relu_backward answered, code added outside it."""
    course = spec.load(example.write(tmp_path / "course"))
    student = tmp_path / "student"
    build.write(build.build(course), student)
    lib = student / LIB
    text = lib.read_text().replace(RELU_STUB, "dx = dout * 7  # mine")
    extra = "STUDENT_EXTRA = 1\n\n\ndef relu_forward(x):"
    lib.write_text(text.replace("def relu_forward(x):", extra))
    return course, student


def test_each_blank_keeps_only_its_own_code(course_and_student, tmp_path):
    course, student = course_and_student
    before = (student / LIB).read_text()
    iso = isolate.build_trees(course, student, tmp_path / "iso")
    assert sorted(iso.trees) == TOY_BLANKS
    relu = (iso.trees["relu_backward"] / LIB).read_text()
    assert "dx = dout * 7  # mine" in relu
    assert "dx = dout @ w.T" in relu
    assert "NotImplementedError(" not in relu
    assert "STUDENT_EXTRA = 1" in relu
    affine = (iso.trees["affine_backward"] / LIB).read_text()
    assert 'raise NotImplementedError("affine_backward in toylib/__init__.py")' in affine
    assert "dx = dout * (x > 0)" in affine
    assert "# mine" not in affine
    assert "STUDENT_EXTRA = 1" in affine
    for tree in iso.trees.values():
        compile((tree / LIB).read_text(), LIB, "exec")
        assert (tree / "tests/test_toy_public.py").is_file()
    assert (student / LIB).read_text() == before
    assert iso.isolated == TOY_BLANKS
    assert iso.missing == {}
    note = isolate.note(iso, ["relu_backward"], 2)
    assert "(1 isolated: relu_backward)" in note
    assert note.endswith("2 sandboxed test processes in all.")


def test_isolated_trees_are_deterministic(course_and_student, tmp_path):
    course, student = course_and_student
    first = isolate.build_trees(course, student, tmp_path / "one")
    second = isolate.build_trees(course, student, tmp_path / "two")
    for blank in TOY_BLANKS:
        assert (first.trees[blank] / LIB).read_bytes() == (second.trees[blank] / LIB).read_bytes()


def test_a_syntax_error_stays_in_its_own_blank(course_and_student, tmp_path):
    course, student = course_and_student
    lib = student / LIB
    lib.write_text(lib.read_text().replace("dx = dout * 7  # mine", "dx = (dout * 7"))
    iso = isolate.build_trees(course, student, tmp_path / "iso")
    with pytest.raises(SyntaxError):
        compile((iso.trees["relu_backward"] / LIB).read_text(), LIB, "exec")
    compile((iso.trees["affine_backward"] / LIB).read_text(), LIB, "exec")
    assert iso.isolated == TOY_BLANKS


def test_deleted_guards_are_named_in_the_note(course_and_student, tmp_path):
    course, student = course_and_student
    lib = student / LIB
    text = lib.read_text().replace("    # BEGIN YOUR CODE relu_backward\n", "", 1)
    lib.write_text(text.replace("dx = dout * 7  # mine\n    # END YOUR CODE\n",
                                "dx = dout * 7  # mine\n", 1))
    iso = isolate.build_trees(course, student, tmp_path / "iso")
    assert iso.missing == {"relu_backward": LIB}
    assert "dx = dout * 7  # mine" in (iso.trees["affine_backward"] / LIB).read_text()
    note = isolate.note(iso, [], 1)
    assert f"guards are missing from the submission: relu_backward ({LIB})" in note


def test_a_tree_without_guards_is_graded_as_it_is(tmp_path):
    course = spec.load(example.write(tmp_path / "course"))
    iso = isolate.build_trees(course, course.root, tmp_path / "iso")
    assert iso.isolated == []
    assert (iso.trees["relu_backward"] / LIB).read_text() == (course.root / LIB).read_text()
    assert isolate.note(iso, [], 1).startswith("No blank was isolated")


def test_files_are_hard_linked_and_blank_files_replaced(course_and_student, tmp_path):
    course, student = course_and_student
    (student / "data").mkdir()
    (student / "data/big.bin").write_bytes(b"\0" * 2**20)
    before = (student / LIB).read_text()
    iso = isolate.build_trees(course, student, tmp_path / "iso")
    tree = iso.trees["softmax_loss"]
    assert os.path.samefile(tree / "data/big.bin", student / "data/big.bin")
    assert not os.path.islink(tree / "data/big.bin")
    assert not os.path.samefile(tree / LIB, student / LIB)
    assert (student / LIB).read_text() == before


def test_links_in_the_submission_stay_links(course_and_student, tmp_path):
    course, student = course_and_student
    (student / "everything").symlink_to(tmp_path / "course", target_is_directory=True)
    iso = isolate.build_trees(course, student, tmp_path / "iso")
    assert os.path.islink(iso.trees["relu_backward"] / "everything")
