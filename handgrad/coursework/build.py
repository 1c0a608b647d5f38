"""The student version of a course, built in memory: files, blanks, manifest, leak check.

Building is pure and deterministic: files are walked in sorted order, notebooks
are written by nbformat with sorted keys, the manifest has no timestamps. The
same solution tree gives byte-identical releases.
"""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import forbid, markers, notebooks, readme, spec

MANIFEST = "release-manifest.json"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def line_key(line):
    """The hash of one line as the leak check sees it (surrounding spaces ignored)."""
    return sha256(line.strip().encode("utf-8"))


def _telling(line):
    """A solution line worth guarding: not blank, not a hint, not a lone bracket."""
    text = line.strip()
    return len(text) >= 4 and not markers.HINT.match(line)


@dataclass
class Release:
    course: spec.Course
    files: dict = field(default_factory=dict)  # relpath -> bytes
    blanks: list = field(default_factory=list)  # dicts, see manifest()
    cut: set = field(default_factory=set)  # hashes of the solution lines cut out
    kept: set = field(default_factory=set)  # hashes of the released tree's lines outside blocks
    owners: dict = field(default_factory=dict)  # hash of a solution line -> its blank's id
    warnings: list = field(default_factory=list)

    @property
    def leak_keys(self):
        """Lines that exist only inside solution blocks: none may appear in the release.

        A line found anywhere else in the released tree (a `finally:`, a line of a
        released module that a notebook blank rebuilds) is given away already: no leak.
        """
        return self.cut - self.kept


def walk(course, skip=()):
    """Released relpaths under course.root, sorted; `skip` holds folders to leave out."""
    return walk_files(course.root, course.is_released, skip)


def walk_files(root, keep, skip=()):
    """Relpaths under root for which keep(relpath) holds (folders too), sorted."""
    skip = {Path(p).resolve() for p in skip}
    found = []
    for top, dirs, names in os.walk(root):
        rel_top = Path(top).relative_to(root)
        dirs[:] = sorted(d for d in dirs if (Path(top) / d).resolve() not in skip
                         and keep((rel_top / d).as_posix()))
        rels = [(rel_top / n).as_posix() for n in names]
        found += [rel for rel in rels if keep(rel)]
    return sorted(found)


def build(course, skip=()):
    """Return the Release of course (nothing written)."""
    release = Release(course)
    for rel in walk(course, skip):
        data = (course.root / rel).read_bytes()
        if rel.endswith(".py") and b"BEGIN SOLUTION" in data:
            data = _cut_python(release, rel, data.decode("utf-8"))
        elif rel.endswith(".ipynb"):
            data = _cut_notebook(release, rel, data.decode("utf-8"))
        else:
            release.kept |= {line_key(ln) for ln in text_lines(rel, data)}
        release.files[rel] = data
    _check_against_spec(release)
    if course.student_readme:
        _student_readme(release)
    release.warnings += given_away(release)
    return release


def _student_readme(release):
    """README.md of the release: the course's template with the table of blanks (the
    instructor's README.md is never released: walk leaves it out)."""
    course = release.course
    template = (course.root / course.student_readme).read_text(encoding="utf-8")
    try:
        text = readme.render(template, course, release.blanks)
    except readme.TemplateError as err:
        raise spec.SpecError(str(err)) from err
    release.kept |= {line_key(ln) for ln in text.splitlines()}
    release.files["README.md"] = text.encode("utf-8")


def _cut_python(release, rel, source):
    student, blocks, ranges = markers.cut(source, rel)
    inside = {row for b in blocks for row in range(b.begin, b.end + 1)}
    lines = source.splitlines()
    release.kept |= {line_key(ln) for row, ln in enumerate(lines, 1) if row not in inside}
    for block, (first, last) in zip(blocks, ranges, strict=True):
        _own(release, block)
        release.blanks.append({"id": block.id, "file": rel, "lines": [first, last],
                               "solution_lines": [block.begin, block.end],
                               "hints": len(block.hints),
                               "function": readme.enclosing_function(source, block.begin)})
    return student.encode("utf-8")


def _cut_notebook(release, rel, text):
    student, blocks, cut_lines, kept = notebooks.cut(text, rel)
    release.cut |= {line_key(ln) for ln in cut_lines if _telling(ln)}
    release.kept |= {line_key(ln) for ln in kept}
    for cell, block, (first, last) in blocks:
        _own(release, block)
        release.blanks.append({"id": block.id, "file": rel, "cell": cell, "lines": [first, last],
                               "solution_lines": [block.begin, block.end],
                               "hints": len(block.hints)})
    return student.encode("utf-8")


def _own(release, block):
    """Record the telling lines of a solution block as cut, and as the block's."""
    keys = {line_key(ln) for ln in block.body if _telling(ln)}
    release.cut |= keys
    release.owners.update(dict.fromkeys(sorted(keys), block.id))


def given_away(release):
    """Warnings: each solution line that a released file outside the course's packages
    holds as it is (a test, a tool, another cell of a notebook, a document).

    The leak check cannot call these leaks (a line that ships anywhere is given away
    already); the library's own copies are the library's, these are worth a look.
    """
    packages = set(release.course.packages)
    library = {line_key(ln) for rel, data in release.files.items()
               if rel.split("/")[0] in packages for ln in text_lines(rel, data)}
    found = []
    for rel, data in release.files.items():
        if rel.split("/")[0] in packages:
            continue
        for row, line in enumerate(text_lines(rel, data), 1):
            blank = release.owners.get(line_key(line))
            if blank and line_key(line) not in library:
                found.append(f"{rel}:{row} holds a line of the solution of {blank}: "
                             f"{line.strip()!r}")
    return found


def _check_against_spec(release):
    """Every declared blank found once, in its file (undeclared ones only warned about);
    the forbid lists name real functions that the solution itself never reaches."""
    declared = release.course.blanks
    where = {}
    for blank in release.blanks:
        if blank["id"] in where:
            raise markers.MarkerError(f"blank {blank['id']!r} is marked twice: "
                                      f"in {where[blank['id']]} and {blank['file']}")
        where[blank["id"]] = blank["file"]
        points = sum(t.max_score for t in release.course.tests if t.blank == blank["id"])
        blank["points"] = points
        blank["tests"] = [t.name for t in release.course.tests if t.blank == blank["id"]]
        if blank["id"] not in declared:
            release.warnings.append(f"{blank['file']}: blank {blank['id']!r} is not in "
                                    f"{spec.SPEC_NAME} (it scores no points)")
    for bid, info in declared.items():
        if bid not in where:
            raise spec.SpecError(f"{spec.SPEC_NAME}: blank {bid!r} has no "
                                 f"'# BEGIN SOLUTION {bid}' marker in {info['file']}")
        if where[bid] != info["file"]:
            raise spec.SpecError(f"{spec.SPEC_NAME}: blank {bid!r} is declared in {info['file']} "
                                 f"but marked in {where[bid]}")
    forbid.check(release.course)


def manifest(release):
    """release-manifest.json: blanks (ids, files, line ranges, functions, points), the
    public test folders (handgrad submit runs them) and file hashes."""
    data = {
        "manifest_version": 1,
        "course": release.course.name,
        "public_tests": list(release.course.public_tests),
        "blanks": release.blanks,
        "files": {rel: sha256(data) for rel, data in release.files.items()},
    }
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def text_lines(rel, data):
    """The lines of a released file as the leak scan reads them (binary files: none)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    return notebooks.cell_lines(text) if rel.endswith(".ipynb") else text.splitlines()


def leaks(files, keys):
    """[(relpath, line number)] of every released line that is a solution line."""
    return [(rel, row) for rel, data in files.items()
            for row, line in enumerate(text_lines(rel, data), 1) if line_key(line) in keys]


def write(release, out):
    """Write the release into out (empty, or holding an earlier release it replaces)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise FileExistsError(f"release: {out} is not empty and holds no {MANIFEST}; "
                                  "refusing to overwrite it")
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel, data in [*release.files.items(), (MANIFEST, manifest(release))]:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(out, course):
    """{relpath: bytes} of the files in out that a release would hold."""
    files = {}
    for top, dirs, names in os.walk(out):
        rel_top = Path(top).relative_to(out)
        dirs[:] = sorted(d for d in dirs if course.is_released((rel_top / d).as_posix()))
        for name in sorted(names):
            files[(rel_top / name).as_posix()] = (Path(top) / name).read_bytes()
    files.pop(MANIFEST, None)
    return files


def drift(release, out):
    """What differs between the release and the tree in out: [] when up to date."""
    on_disk = read_tree(out, release.course)
    problems = [f"missing: {rel}" for rel in release.files if rel not in on_disk]
    problems += [f"differs: {rel}" for rel, data in release.files.items()
                 if rel in on_disk and on_disk[rel] != data]
    problems += [f"extra: {rel}" for rel in on_disk if rel not in release.files]
    manifest_path = Path(out) / MANIFEST
    if not manifest_path.is_file() or manifest_path.read_bytes() != manifest(release):
        problems.append(f"differs: {MANIFEST}")
    return problems
