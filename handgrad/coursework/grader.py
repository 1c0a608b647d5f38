"""Grade a submission: one child process per test, scored against the solution.

The solution tree (with coursework.toml) computes every test's reference
outputs once, in its own process. Each test then runs in a fresh process on
the submission, with a timeout and a memory limit, and reports one verdict per
point-bearing output. Pytest tests (public or hidden) run from the solution's
pristine copies, never from the student's, with the submission's code first on
sys.path. Each test runs on its blank's isolated tree (isolate.py): the
solution's code in every other blank, so one wrong blank costs only its own tests.
"""

import json
import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from . import build, forbid, isolate, markers, runner, spec
from .reports import Entry


class SubmissionError(ValueError):
    """The submission cannot be read at all (missing, not a folder or zip, unsafe zip)."""


def unpack(submission, dest):
    """The folder holding the submission's tree: itself, or its zip extracted into dest."""
    path = Path(submission).resolve()
    if path.is_dir():
        return _descend(path)
    if not zipfile.is_zipfile(path):
        raise SubmissionError(f"submission {path} is neither a folder nor a zip file")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or ":" in name:
                raise SubmissionError(f"submission zip holds an unsafe path: {name!r}")
        archive.extractall(dest)
    return _descend(Path(dest))


def _descend(path):
    """A zip of the folder rather than of its contents: step into the one folder."""
    entries = [p for p in path.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    if len(entries) == 1 and entries[0].is_dir():
        return _descend(entries[0])
    return path


def splice(course, tree, dest):
    """Write the pristine release into dest with the student's code inside each guard.

    Returns the blank ids taken from the submission.
    """
    release = build.build(course)
    taken = []
    for rel, data in release.files.items():
        student = Path(tree) / rel
        if rel.endswith(".py") and b"BEGIN YOUR CODE" in data and student.is_file():
            answers = markers.answers(student.read_text(encoding="utf-8", errors="replace"), rel)
            text, used = markers.splice(data.decode("utf-8"), answers, rel)
            data, taken = text.encode("utf-8"), taken + used
        target = Path(dest) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return taken


def _entries(test, verdicts):
    """One Entry per point-bearing output; hidden tests never show a traceback."""
    single = list(test.points) == ["passed"]
    out = []
    for key, points in test.points.items():
        outcome, text = verdicts[key]
        if test.hidden and outcome == "error":
            text = text.strip().splitlines()[0] if text.strip() else "error"
        out.append(Entry(name=test.name if single else f"{test.name}: {key}", blank=test.blank,
                         outcome=outcome, score=float(points) if outcome == "passed" else 0.0,
                         max_score=float(points), output=text, hidden=test.hidden))
    return out


def _same_for_all(test, outcome, text):
    return {key: (outcome, text) for key in test.points}


def _run_test(course, index, test, tree, refdir, tmp):
    result = Path(tmp) / f"result-{index}.json"
    if test.kind == "pytest":
        node = str(course.root / test.target["node"])
        # One node per process: hypothesis' pytest plugin (options, statistics) is not needed
        # for @given tests to run, and loading it would double each process's start-up time.
        done = runner.run("pytest", tree, result, node, "-p", "no:hypothesispytest", cwd=tmp,
                          timeout=course.timeout, memory_mb=course.memory_mb)
    else:
        done = runner.run("test", course.root, tree, index, refdir, result, cwd=tmp,
                          timeout=course.timeout, memory_mb=course.memory_mb)
    if done.timed_out:
        return _same_for_all(test, "timed out", f"killed after {course.timeout:g} s")
    if not result.is_file():
        why = done.stderr.strip()[-2000:] or f"the test process exited with {done.returncode}"
        return _same_for_all(test, "error", why)
    payload = json.loads(result.read_text(encoding="utf-8"))
    if test.kind != "pytest":
        return {key: tuple(v) for key, v in payload["verdicts"].items()}
    return _same_for_all(test, *_pytest_verdict(payload))


def _pytest_verdict(payload):
    """The worst outcome of the pytest node (a parametrized node may hold several tests)."""
    order = ("error", "not attempted", "failed", "skipped", "passed")
    found = list(payload["outcomes"].values())
    if not found:
        return "error", f"no test ran (pytest exit {payload['exit']})"
    status, text = min(found, key=lambda st: order.index(st[0]))
    if status == "skipped":
        return "failed", f"skipped: {text}"
    return status, text[-3000:]


def reference(course, refdir, tmp):
    """Compute every test's outputs on the solution; RuntimeError when the solution fails."""
    done = runner.run("ref", course.root, refdir, cwd=tmp,
                      timeout=course.timeout * max(1, len(course.tests)),
                      memory_mb=course.memory_mb)
    if done.returncode != 0:
        raise RuntimeError(f"the solution in {course.root} fails its own tests' reference run:\n"
                           f"{done.stderr[-3000:]}")


def grade(submission, solution, use_splice=False, jobs=None):
    """Return (entries, note) for a submission; a broken submission scores 0 with the reason.

    jobs: how many test processes run at once (default: the number of CPUs).
    """
    course = spec.load(solution)
    with tempfile.TemporaryDirectory(prefix="handgrad-grade-") as tmp:
        tmp = Path(tmp)
        try:
            isolation, notes = _trees(course, submission, tmp, use_splice)
        except (SubmissionError, OSError, zipfile.BadZipFile) as err:
            why = f"the submission cannot be read: {err}"
            broken = [_entries(t, _same_for_all(t, "error", why)) for t in course.tests]
            return [e for entries in broken for e in entries], why
        (tmp / "ref").mkdir()
        reference(course, tmp / "ref", tmp)

        def run(item):
            index, test = item
            return _run_test(course, index, test, isolation.trees[test.blank], tmp / "ref", tmp)

        with ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool:
            verdicts = list(pool.map(run, enumerate(course.tests)))
    entries = [e for test, v in zip(course.tests, verdicts, strict=True)
               for e in _entries(test, forbid.overrule(test, v, isolation.forbidden))]
    return entries, "\n".join(n for n in [*notes, _import_note(entries)] if n)


def _trees(course, submission, tmp, use_splice):
    """The isolated tree of each graded blank, and the notes that say how they were made."""
    tree = unpack(submission, tmp / "submission")
    notes = []
    if use_splice:
        taken = splice(course, tree, tmp / "spliced")
        tree = tmp / "spliced"
        notes.append(f"Spliced the code of {len(taken)} of {len(course.blanks)} blanks.")
    isolation = isolate.build_trees(course, tree, tmp / "isolated")
    return isolation, [*notes, isolate.note(isolation)]


def _import_note(entries):
    """Why tests could not import the submission: all of them, or only some blanks' trees."""
    broken = [e for e in entries if e.output.startswith("the submission does not import")]
    if not broken:
        return ""
    why = broken[0].output.strip().splitlines()[-1]
    if len(broken) == len(entries):
        return f"The submission does not import: {why}"
    blanks = ", ".join(sorted({e.blank for e in broken}))
    return f"With the code of {blanks} the submission does not import: {why}"
