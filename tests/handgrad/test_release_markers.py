"""Solution markers, notebook cutting and the in-memory release of the example course."""

import json

import pytest

from handgrad.coursework import build, example, markers, notebooks, spec

SOURCE = '''def relu_backward(dout, cache):
    x = cache
    note = """
    # BEGIN SOLUTION not_a_marker
    """
    ### BEGIN SOLUTION [relu_backward]
    # HINT: pass the gradient where x was positive
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


def helper(a):
    if a:
        # BEGIN SOLUTION
        return a + 1
        # END SOLUTION
    return 0
'''


def test_cut_keeps_hints_and_raises_at_the_block_indentation():
    student, blocks, ranges = markers.cut(SOURCE, "pkg/act.py")
    assert [b.id for b in blocks] == ["relu_backward", "helper"]
    assert "dx = dout * (x > 0)" not in student
    assert "return a + 1" not in student
    assert "    # HINT: pass the gradient where x was positive\n" in student
    assert '    raise NotImplementedError("relu_backward in pkg/act.py")\n' in student
    assert '        raise NotImplementedError("helper in pkg/act.py")\n' in student
    lines = student.splitlines()
    first, last = ranges[0]
    assert lines[first - 1].strip() == "# BEGIN YOUR CODE relu_backward"
    assert lines[last - 1].strip() == "# END YOUR CODE"
    compile(student, "act.py", "exec")


def test_markers_inside_strings_never_count():
    student, _, _ = markers.cut(SOURCE, "pkg/act.py")
    assert "# BEGIN SOLUTION not_a_marker" in student
    assert markers.find_blocks('s = """\n# BEGIN SOLUTION x\n"""\n', "s.py") == []


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("# BEGIN SOLUTION a\nx = 1\n", r"f\.py:1: BEGIN without an END"),
        ("x = 1\n# END SOLUTION\n", r"f\.py:2: END without a BEGIN"),
        ("# BEGIN SOLUTION a\n# BEGIN SOLUTION b\n# END SOLUTION\n", r"f\.py:2: BEGIN inside"),
    ],
)
def test_malformed_markers_name_file_and_line(source, match):
    with pytest.raises(markers.MarkerError, match=match):
        markers.find_blocks(source, "f.py")


def test_splice_puts_the_students_code_back_into_the_pristine_release():
    student, _, _ = markers.cut(SOURCE, "pkg/act.py")
    answered = student.replace('raise NotImplementedError("helper in pkg/act.py")', "return 7")
    spliced, used = markers.splice(student, markers.answers(answered, "x"), "pkg/act.py")
    assert used == ["relu_backward", "helper"]
    assert "        return 7\n" in spliced
    assert 'raise NotImplementedError("relu_backward in pkg/act.py")' in spliced


def test_notebook_loses_outputs_code_solutions_and_markdown_answers(tmp_path):
    root = example.write(tmp_path / "course")
    text = (root / "notebooks/toy.ipynb").read_text()
    released, blocks, cut_lines, _ = notebooks.cut(text, "notebooks/toy.ipynb")
    cells = json.loads(released)["cells"]
    assert all(c.get("outputs", []) == [] for c in cells)
    assert all(c.get("execution_count") is None for c in cells if c["cell_type"] == "code")
    assert "max routes it" not in released
    assert notebooks.ANSWER.strip() in released
    assert "return 2 * v" not in released
    assert [b.id for _, b, _ in blocks] == ["double"]
    assert any("max routes it" in line for line in cut_lines)


@pytest.fixture
def course(tmp_path):
    return spec.load(example.write(tmp_path / "course"))


def test_release_leaves_out_hidden_tests_and_instructor_files(course):
    release = build.build(course)
    assert sorted(release.files) == [
        "notebooks/toy.ipynb", "tests/test_toy_public.py", "toylib/__init__.py"]
    ids = {b["id"]: b for b in release.blanks}
    assert set(ids) == {"affine_backward", "relu_backward", "softmax_loss", "sgd_momentum",
                        "double"}
    assert ids["affine_backward"]["points"] == 5
    assert ids["affine_backward"]["hints"] == 1
    assert any("'double' is not in coursework.toml" in w for w in release.warnings)
    assert build.leaks(release.files, release.leak_keys) == []


def test_release_is_deterministic(course):
    first, second = build.build(course), build.build(course)
    assert first.files == second.files
    assert build.manifest(first) == build.manifest(second)
    manifest = json.loads(build.manifest(first))
    assert set(manifest["files"]) == set(first.files)
    assert "dx = dout @ w.T" not in build.manifest(first).decode()


def test_leak_check_finds_a_solution_line(course):
    release = build.build(course)
    files = dict(release.files)
    files["tests/test_toy_public.py"] += b"    dw = x.T @ dout\n"
    assert build.leaks(files, release.leak_keys) == [("tests/test_toy_public.py", 15)]


def test_a_solution_line_released_elsewhere_already_is_no_leak(course):
    (course.root / "toylib/reference.py").write_text("def grad_w(x, dout):\n"
                                                     "    dw = x.T @ dout\n    return dw\n")
    release = build.build(course)
    assert build.line_key("dw = x.T @ dout") not in release.leak_keys
    assert build.line_key("dx = dout @ w.T") in release.leak_keys
    assert build.leaks(release.files, release.leak_keys) == []


def test_spec_and_markers_must_agree(course):
    toml = course.root / "coursework.toml"
    toml.write_text(toml.read_text().replace(
        "[blanks]", '[blanks]\nconv_backward = { file = "toylib/__init__.py" }'))
    with pytest.raises(spec.SpecError, match="blank 'conv_backward' has no '# BEGIN SOLUTION"):
        build.build(spec.load(course.root))


def test_spec_rejects_an_unknown_kind(course):
    toml = course.root / "coursework.toml"
    toml.write_text(toml.read_text().replace('kind = "update"', 'kind = "magic"'))
    with pytest.raises(spec.SpecError, match="test 'sgd_momentum' has kind 'magic'"):
        spec.load(course.root)
