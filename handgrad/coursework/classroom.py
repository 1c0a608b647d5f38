"""A class of submissions: where they are, who handed them in, and what they hash to.

Two layouts are read:

- a folder of submissions, one folder or zip per student, named by the student
  (`alice/`, `bob.zip`): the id is the name without `.zip`;
- a Gradescope export: `submission_metadata.yml` beside one folder (or zip)
  per submission (`submission_123456/`), with each submitter's name, student
  id and email in the metadata (a group submission counts for each member).

`kind(path, course)` tells a class from a single submission: a folder with
`submission_metadata.yml` is a Gradescope export; a folder holding any blank's
file (`layers/affine.py`, also inside one wrapping folder) is one submission;
any other folder holding folders or zips is a class. Everything else is one
submission.

The metadata is read with a safe YAML loader: tags that Gradescope's Ruby side
writes (`!ruby/object:BigDecimal`) become plain strings, nothing is executed.
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import build, spec
from .runner import GRADER_ROOT

METADATA = "submission_metadata.yml"
SKIP = ("__MACOSX", ".DS_Store")


@dataclass(frozen=True)
class Person:
    sid: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Submission:
    """One student's (or group's) hand-in: key names its results folder."""

    key: str
    path: Path
    people: tuple = field(default_factory=tuple)  # Person per submitter

    def matches(self, wanted):
        """True when wanted is the key, or a submitter's id or email."""
        return wanted in (self.key, *(p.sid for p in self.people),
                          *(p.email for p in self.people if p.email))


def _entries(folder):
    return sorted(p for p in Path(folder).iterdir()
                  if p.name not in SKIP and not p.name.startswith("."))


def _candidates(folder):
    return [p for p in _entries(folder)
            if (p.is_dir() and not p.is_symlink()) or p.suffix.lower() == ".zip"]


def descend(path):
    """A folder wrapped in one folder (a zip of the folder, not of its contents): step in."""
    entries = _entries(path)
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return descend(entries[0])
    return Path(path)


def kind(path, course):
    """'gradescope', 'class' or 'single' for what `handgrad grade PATH` was given."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return "single"
    if (path / METADATA).is_file():
        return "gradescope"
    tree = descend(path)
    if any((tree / blank["file"]).exists() for blank in course.blanks.values()):
        return "single"
    return "class" if _candidates(path) else "single"


def find(path):
    """The submissions of a class folder or a Gradescope export, sorted by key."""
    path = Path(path)
    if (path / METADATA).is_file():
        return _gradescope(path)
    found, seen = [], {}
    for entry in _candidates(path):
        key = entry.name[:-4] if entry.suffix.lower() == ".zip" else entry.name
        if key in seen:
            raise ValueError(f"two submissions of student {key!r}: {seen[key].name} and "
                             f"{entry.name} in {path}")
        seen[key] = entry
        found.append(Submission(key, entry, (Person(key),)))
    return found


def _gradescope(path):
    """Submissions of a Gradescope export, with the submitters from its metadata."""
    metadata = read_metadata(path / METADATA)
    found = []
    for entry in _candidates(path):
        key = entry.name[:-4] if entry.suffix.lower() == ".zip" else entry.name
        record = metadata.get(key) or {}
        people = tuple(
            Person(str(p.get(":sid") or p.get("sid") or key), str(p.get(":name") or ""),
                   str(p.get(":email") or ""))
            for p in record.get(":submitters", ()) if isinstance(p, dict)
        ) or (Person(key),)
        found.append(Submission(key, entry, people))
    return found


def read_metadata(path):
    """submission_metadata.yml as a dict; unknown tags read as plain values."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def plain(loader, _suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", plain)
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=Loader)  # a SafeLoader
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds {type(data).__name__}; expected a mapping of "
                         "submission folders to their submitters")
    return data


def _digest_files(digest, root, rels):
    for rel in rels:
        path = Path(root) / rel
        digest.update(rel.encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
        else:
            digest.update(path.read_bytes())
        digest.update(b"\0")


def tree_files(root, skip=()):
    """Every file under root (caches and version control left out), sorted relpaths."""
    return build.walk_files(root, lambda rel: not spec.is_junk(rel), skip)


def course_files(course, skip=()):
    """What grading reads from the course root, sorted relpaths: the files at its top
    (coursework.toml, pytest's configuration), every package at its top (a graded
    package may import another), the public and hidden tests, and the folders that
    hold the blanks' files. A class folder kept inside the course root is none of these."""
    tops = {*course.packages, course.hidden_tests, *course.public_tests,
            *(blank["file"] for blank in course.blanks.values())}
    tops = {top.split("/")[0] for top in tops}
    tops |= {p.name for p in course.root.iterdir() if (p / "__init__.py").is_file()}

    def keep(rel):
        first = rel.split("/")[0]
        on_top = "/" not in rel and (course.root / rel).is_file()
        return not spec.is_junk(rel) and (on_top or first in tops)

    return build.walk_files(course.root, keep, skip)


def submission_hash(path):
    """sha256 of a submission: a zip's bytes, or a folder's relpaths and contents."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        _digest_files(digest, path, tree_files(path))
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def course_hash(course, skip=(), options=""):
    """sha256 of what decides a grade: the course's files, the grader's source, options."""
    digest = hashlib.sha256(options.encode())
    _digest_files(digest, course.root, course_files(course, skip))
    grader = Path(GRADER_ROOT) / "handgrad"
    _digest_files(digest, grader, [rel for rel in tree_files(grader) if rel.endswith(".py")])
    return digest.hexdigest()
