"""Notebooks in the release: solutions cut from code and Markdown cells, outputs stripped.

Code cells use the Python markers (see markers.py); Markdown cells mark an
answer with <!-- BEGIN SOLUTION --> and <!-- END SOLUTION --> lines, which the
release replaces with a prompt.
"""

import re
from pathlib import PurePosixPath

from . import markers

MD_BEGIN = re.compile(r"^\s*<!--\s*BEGIN SOLUTION\s*-->\s*$")
MD_END = re.compile(r"^\s*<!--\s*END SOLUTION\s*-->\s*$")
ANSWER = "*YOUR ANSWER HERE*\n"


def _cut_markdown(source, where):
    """Return (released source, [answer bodies]) of one Markdown cell."""
    out, bodies, body = [], [], None
    for row, line in enumerate(source.splitlines(keepends=True), 1):
        if MD_BEGIN.match(line):
            if body is not None:
                raise markers.MarkerError(f"{where}:{row}: BEGIN inside an open answer")
            body = []
        elif MD_END.match(line):
            if body is None:
                raise markers.MarkerError(f"{where}:{row}: END without a BEGIN")
            out.append(ANSWER)
            bodies.append(tuple(body))
            body = None
        elif body is None:
            out.append(line)
        else:
            body.append(line)
    if body is not None:
        raise markers.MarkerError(f"{where}: an answer is never closed")
    return "".join(out), bodies


def cut(text, relpath):
    """Return (released notebook text, blocks, cut lines, kept lines).

    blocks: (cell index, Block, release line range) of every code-cell blank;
    cut lines: the solution lines removed (code and Markdown), for the leak check;
    kept lines: the solution notebook's lines outside every solution region.
    """
    import nbformat  # optional: only releasing and splicing read notebooks

    nb = nbformat.reads(text, as_version=4)
    stem = PurePosixPath(relpath).stem
    blocks, cut_lines, kept = [], [], []
    for index, cell in enumerate(nb.cells):
        where = f"{relpath} cell {index}"
        original = cell.source
        if cell.cell_type == "code":
            source, found, ranges = markers.cut(original, where, default=f"{stem}_cell{index}")
            blocks += [(index, b, r) for b, r in zip(found, ranges, strict=True)]
            inside = {row for b in found for row in range(b.begin, b.end + 1)}
            cut_lines += [line for b in found for line in b.body if not markers.HINT.match(line)]
            kept += [ln for row, ln in enumerate(original.splitlines(), 1) if row not in inside]
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            source, bodies = _cut_markdown(original, where)
            cut_lines += [line for body in bodies for line in body]
            kept += source.splitlines()
        else:
            source = original
            kept += source.splitlines()
        cell.source = source if original.endswith("\n") else source.rstrip("\n")
    return nbformat.writes(nb) + "\n", blocks, cut_lines, kept


def cell_lines(text):
    """Every line of every cell's source and text output, for the leak scan."""
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    lines = []
    for cell in nb.cells:
        lines += cell.source.splitlines()
        for output in cell.get("outputs", []):
            lines += str(output.get("text", "")).splitlines()
            lines += str(output.get("data", {}).get("text/plain", "")).splitlines()
    return lines
