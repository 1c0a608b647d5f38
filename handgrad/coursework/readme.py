"""The student's README.md: the course's template (coursework.toml's student_readme) with
the blanks filled in from the release.

The template is Markdown with placeholders:

    {{course}}         the course name
    {{points}}         the points of every graded test together
    {{public_tests}}   the public test folders, space separated (for pytest)
    {{blanks}}         a table of the blanks: file, function, points, and how to check one

A blank's row names its function (the def that holds it, or the notebook cell), its
points (every graded test of the blank, hidden ones included), the `gradcheck FILE::pair`
that checks it where gradcheck has a recipe for its layer, and the `pytest -k` word that
picks its public tests.
"""

import ast
import re

from gradcheck.recipes import RECIPES

from . import markers

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# A layer's function: relu_backward, conv_backward_naive (gradcheck's pair: relu, conv_naive).
_PAIR = re.compile(r"^(?P<stem>\w+?)_(?:forward|backward)(?P<variant>_\w+)?$")


class TemplateError(ValueError):
    """The template names a placeholder that does not exist."""


def enclosing_function(source, row):
    """The qualified name of the innermost def that holds line `row` ('' at module level).

    Magic lines of notebook cells are blanked first, so a cell still parses.
    """
    source = "".join("\n" if markers.MAGIC.match(line) else line
                     for line in source.splitlines(keepends=True))
    name, node = "", ast.parse(source)
    while True:
        inner = [c for c in ast.iter_child_nodes(node)
                 if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and c.lineno <= row <= c.end_lineno]
        if not inner:
            return name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else ""
        node = inner[0]
        name = f"{name}.{node.name}" if name else node.name


def _stem(function):
    """relu_backward -> relu, conv_backward_naive -> conv_naive, softmax_loss -> softmax_loss."""
    match = _PAIR.match(function)
    return f"{match['stem']}{match['variant'] or ''}" if match else function


def _layer_function(blank):
    """The function a blank completes: its id when the id names a forward or backward (the
    code of rnn_backward may sit in a helper it calls), else the def that holds it."""
    return blank["id"] if _PAIR.match(blank["id"]) else blank.get("function", "")


def gradcheck_pair(blank):
    """'FILE::pair' for a blank in a layer that gradcheck has a recipe for, else ''."""
    function = _layer_function(blank)
    name = _stem(function)
    if "." in function or name not in RECIPES:
        return ""
    return f"{blank['file']}::{name}"


def pytest_word(blank):
    """The -k word that picks a blank's public tests: the layer's stem (relu, conv, svm), the
    function, or the class of a method in snake case (TwoLayerNet.loss -> two_layer)."""
    function = _layer_function(blank)
    if "." in function:
        words = re.findall(r"[A-Z][a-z]*", function.split(".")[0])
        return "_".join(w.lower() for w in words[:-1] or words)
    match = _PAIR.match(function)
    return match["stem"] if match else function.removesuffix("_loss")


def blanks_table(blanks):
    """The Markdown table of the blanks, in release order."""
    rows = ["| blank | file | function | points | check it |", "|---|---|---|---:|---|"]
    for blank in blanks:
        if blank["file"].endswith(".ipynb"):
            where, check = f"cell {blank['cell']}", "run the notebook"
        else:
            where = f"`{blank['function']}`" if blank.get("function") else "module level"
            checks = [f"`gradcheck {pair}`" for pair in [gradcheck_pair(blank)] if pair]
            checks.append(f"`-k {pytest_word(blank)}`")
            check = ", ".join(checks)
        rows.append(f"| `{blank['id']}` | `{blank['file']}` | {where} | "
                    f"{blank['points']:g} | {check} |")
    return "\n".join(rows)


def render(template, course, blanks):
    """The release's README.md text from the template."""
    values = {
        "course": course.name,
        "points": f"{sum(t.max_score for t in course.tests):g}",
        "public_tests": " ".join(course.public_tests),
        "blanks": blanks_table(blanks),
    }

    def fill(match):
        if match[1] not in values:
            raise TemplateError(f"{course.student_readme}: unknown placeholder {{{{{match[1]}}}}}; "
                                f"expected one of {sorted(values)}")
        return values[match[1]]

    return PLACEHOLDER.sub(fill, template)
