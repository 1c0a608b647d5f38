"""One tree per blank, so that a bug in one blank costs only that blank's tests.

TwoLayerNet.loss calls the student's affine_backward, dropout_backward needs the
student's dropout_forward mask: graded on the submission as it is, one wrong
blank would fail the tests of every blank built on it. So each blank's tests
run on a copy of the submission where every OTHER blank's guarded region holds
the solution's code and only this blank holds the student's. Code outside the
blanks stays the student's (it is their submission); with --splice the
submission is the pristine release with the student's blanks spliced in, so
the isolated tree is the release with this one blank of the student's.

A blank whose guards the student deleted cannot be swapped out: its own code
then runs in the other blanks' trees, and `Isolation.missing` says so.

The grader runs a blank's tree only when the full pass (`full_tree`: the
submission as it is, with no solution code) did not settle the blank; it
makes every blank's tree anyway, for the blank's forbid scan.
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import build, forbid, markers, spec


@dataclass
class Isolation:
    """The per-blank trees of one grading run."""

    trees: dict = field(default_factory=dict)  # blank id ("" for tests of no blank) -> Path
    isolated: list = field(default_factory=list)  # blanks swapped for the solution elsewhere
    missing: dict = field(default_factory=dict)  # blank id -> file whose guards are gone
    forbidden: dict = field(default_factory=dict)  # blank id -> what its code may not reach


def solution_blocks(course):
    """{relpath: {blank id: solution body lines}} of every Python file that holds a blank."""
    files = sorted({info["file"] for info in course.blanks.values()
                    if info["file"].endswith(".py")})
    out = {}
    for rel in files:
        source = (course.root / rel).read_text(encoding="utf-8")
        out[rel] = {block.id: block.body for block in markers.find_blocks(source, rel)}
    return out


def _copy(tree, dest):
    """Copy tree (the grader's own copy of the submission) into dest: caches and version
    control left out, symbolic links never followed. Files are hard-linked where the file
    system allows (one tree per blank costs no space; a symbolic link would point nowhere
    in the sandbox); a file that gets a blank's variant is replaced, never written through."""
    def copy(src, dst):
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copyfile(src, dst)

    shutil.copytree(tree, dest, symlinks=True, ignore=shutil.ignore_patterns(*spec.JUNK),
                    copy_function=copy)


def _variants(tree, blocks):
    """Return ({relpath: {kept blank: text}}, the blank ids whose guards the tree holds).

    Each text has the solution in every guarded region but the kept blank's;
    the key None stands for every blank the file does not hold. A file whose
    guards are all gone has no variants: it is graded as it is.
    """
    out, guarded = {}, set()
    for rel, bodies in blocks.items():
        path = Path(tree) / rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        texts = {}
        for keep in [None, *bodies]:
            others = {bid: body for bid, body in bodies.items() if bid != keep}
            texts[keep], used = markers.splice(text, others, rel)
            if keep is None and used:
                out[rel] = texts
                guarded |= set(used)
    return out, guarded


def build_trees(course, tree, dest, tests=None):
    """Write one isolated copy of tree per blank of tests (default: all) under dest.

    Returns the Isolation. Tests of no blank run on a copy with every blank's
    region from the solution. In a blank's tree, what the blank may not reach is
    checked in its source and disabled (forbid.py).
    """
    isolation, blanks, make = plan(course, tree, tests)
    for index, blank in enumerate(blanks):
        make(blank, Path(dest) / f"blank-{index}")
    return isolation


def release_sources(course):
    """{relpath: text} of the release's Python files (what forbid compares a tree with)."""
    return {rel: data.decode("utf-8") for rel, data in build.build(course).files.items()
            if rel.endswith(".py")}


def plan(course, tree, tests=None, pristine=None):
    """(the Isolation, the blanks of tests, make): make(blank, dest) writes that blank's
    tree into dest, records it (and its forbid violations) in the Isolation and returns
    dest; trees of different blanks may be made at the same time.

    pristine: release_sources(course), when the caller keeps it across submissions.
    """
    blocks = solution_blocks(course)
    variants, guarded = _variants(tree, blocks)
    pristine = release_sources(course) if pristine is None else pristine
    shared = {}  # what the code outside the guards reaches: the same in every tree
    result = Isolation(
        isolated=sorted(guarded),
        missing={bid: rel for rel, ids in blocks.items() for bid in ids if bid not in guarded},
    )

    def make(blank, target):
        _copy(tree, target)
        for rel, texts in variants.items():
            (target / rel).unlink()
            (target / rel).write_text(texts.get(blank, texts[None]), encoding="utf-8")
        if blank:
            result.forbidden[blank] = forbid.enforce(course, blank, target, pristine, shared)
        result.trees[blank] = target
        return target

    return result, sorted({t.blank for t in tests or course.tests}), make


def untouched(course, tree, pristine):
    """The blanks whose region in tree (the text between its guards) is the release's in
    pristine (release_sources), trailing whitespace and line endings aside: their code is
    the release's stub in every tree, so no tree can score them (see grader._again)."""
    def plain(body):
        return [line.rstrip() for line in body]

    found = set()
    for rel in sorted({info["file"] for info in course.blanks.values()}):
        path = Path(tree) / rel
        if rel not in pristine or not path.is_file():
            continue
        mine = markers.answers(path.read_text(encoding="utf-8", errors="replace"), rel)
        released = markers.answers(pristine[rel], rel)
        found |= {blank for blank, body in mine.items() if blank in released
                  and course.blanks.get(blank, {}).get("file") == rel
                  and plain(body) == plain(released[blank])}
    return found


def full_tree(course, tree, dest, blanks, pristine=None):
    """Write the full pass's tree into dest and return it: a copy of tree with every blank the
    student's (no solution code at all), where what any of blanks may not reach is disabled,
    but a blank's function left as released (pristine: release_sources; see forbid.disable)."""
    _copy(tree, dest)
    forbid.disable(course, [blank for blank in blanks if blank], dest, pristine)
    return dest


def silence(course, tree, blank, message):
    """Make the blank's guarded region in tree raise RuntimeError(message); False when tree
    holds no guards of it (or it sits in a notebook)."""
    rel = course.blanks[blank]["file"] if blank else ""
    path = Path(tree) / rel
    if not rel.endswith(".py") or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    block = next((b for b in markers.guards(text, rel) if b.id == blank), None)
    if block is None:
        return False
    text, _ = markers.splice(text, {blank: [f"{block.indent}raise RuntimeError({message!r})"]},
                             rel)
    path.unlink()  # a new file: the tree's files are hard links to the grader's copy
    path.write_text(text, encoding="utf-8")
    return True


def note(isolation, again, processes, kept=()):
    """The visible lines that say how the blanks were graded: again, the blanks graded in
    their own trees after the full pass; processes, the sandboxed children started; kept,
    the blanks not graded again whose regions are the release's."""
    if not isolation.isolated:
        lines = ["No blank was isolated: the submission holds none of the release's "
                 "'BEGIN YOUR CODE' guards, so every test ran on its code as it is."]
    else:
        lines = ["Every test ran first on the submission as it is; a blank that passed all "
                 "its tests there keeps those results."]
        if again:
            lines.append(f"Those that did not were graded again, each with the solution's code "
                         f"in every other blank ({len(again)} isolated: "
                         f"{', '.join(sorted(again))}).")
        if kept:
            lines.append(f"Not graded again, their code is the release's: {', '.join(kept)}.")
    if isolation.missing:
        gone = ", ".join(f"{b} ({rel})" for b, rel in sorted(isolation.missing.items()))
        lines.append(f"Not isolated, their guards are missing from the submission: {gone}; "
                     "their code ran in the other blanks' tests too.")
    lines.append(f"{processes} sandboxed test process{'es' if processes != 1 else ''} in all.")
    return "\n".join(lines)
