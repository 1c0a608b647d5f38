"""Grade a submission: the student's code runs in the sandbox, the judging happens here.

    context = prepare(solution, sandbox="auto")      # once per course: reference outputs
    entries, note = grade_submission(context, submission)   # once per student
    context.close()

`prepare` reads coursework.toml, builds every test's inputs here, and computes
the solution's outputs once (cached by a hash of the solution's files), in a
sandboxed process that runs no student code. `grade_submission` makes the
grader's own copy of the submission (links and special files refused, zips
within limits), then grades it in two steps:

1. The full pass: ONE sandboxed child runs every selected test in sequence
   (child.py) on the student's own tree, every blank the student's and no
   solution code in it, where every function that any graded blank may not
   reach is disabled (forbid.py). A blank all of whose tests pass there is
   settled: its points come from the student's own code computing the right
   arrays.
2. Every other blank is graded as before the full pass existed: ONE child per
   blank on its isolated tree (isolate.py: the solution's code in every other
   blank, so one wrong blank costs only its own tests). A submission without
   guards has no isolated trees: its full pass stands, but for a blank that
   reached a function disabled there only for another blank's sake.

What the full pass already knows is not run again. A blank whose region (the text
between its guards) is the release's, trailing whitespace aside, keeps its full-pass
verdicts: its code is the release's stub in every tree, and `handgrad release` proves
the pristine release scores 0 (the full pass leaves such a blank's function as
released, not disabled). A tree that fails at import with its traceback outside every
blank's region (or a SyntaxError there), ends while importing without a report
(os._exit, a crash), or hangs at import, settles every test with that error: code
outside the blanks is the same in every tree. This assumes it does not depend on what
a blank's function returns; a traceback through a region, or one that cannot be
placed in the tree, sends every blank to its own tree (a syntax error in a blank
costs only that blank).

Every blank's isolated tree is made either way, for its static forbid scan. In
any child, a test that crashes or times out costs itself and the rest run in a
fresh child, but for the other tests of a blank whose test timed out: those are
not run (one timeout per hanging blank, not one per test). In the full pass of
a submission with guards, the region of a blank whose test timed out is made to
raise, so that the blanks calling it fail at once instead of hanging too; a
second timeout ends the pass, and the tests not run yet are graded in their
blanks' own trees. The child hands back
arrays and plain values; checks.judge turns them into verdicts and points here,
in the grader's process. Nothing the child prints, forks, exits with or writes
elsewhere decides a score.
"""

import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

import gradcheck

from . import build, checks, forbid, inputs, isolate, markers, sandbox, spec
from .reports import Entry

# Zip submissions: at most this many members, this many bytes unpacked, this ratio of
# unpacked to packed bytes (a small zip that unpacks into a huge file is refused).
MAX_MEMBERS = 10000
MAX_UNPACKED = 256 * 2**20
MAX_RATIO = 100
SHOWN_OUTPUT = 2000  # characters of a child's output shown when no blank was isolated
# CPython's ast module keeps its recursion depth in state that every thread shares: two
# threads parsing at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (seen here on 3.11). Whatever parses while grading (forbid's scans of the
# trees, numpy's .npy headers, the input makers) holds this lock: a class is graded in
# threads, and a submission's trees are made while its full pass runs.
PARSING = threading.Lock()


class SubmissionError(ValueError):
    """The submission cannot be read at all (missing, not a folder or zip, unsafe contents)."""


# ---- the submission, as the grader's own copy ------------------------------------------------

def unpack(submission, dest):
    """Copy or extract the submission into dest (the grader's copy); return its tree's folder.

    A folder may hold only folders and regular files: a symbolic link or a special file
    is refused (never followed, never written through). A zip is checked for unsafe
    paths, member count, unpacked size and compression ratio before anything is written.
    """
    path = Path(submission)
    if path.is_symlink():
        raise SubmissionError(f"submission {path.name} is a symbolic link; give the folder itself")
    if path.is_dir():
        _copy_checked(path, Path(dest))
    elif zipfile.is_zipfile(path):
        _extract_checked(path, Path(dest))
    else:
        raise SubmissionError(f"submission {path.name} is neither a folder nor a zip file")
    return _descend(Path(dest))


def _copy_checked(src, dest):
    total = 0
    for folder, dirs, files in os.walk(src):
        rel = Path(folder).relative_to(src)
        dirs[:] = sorted(d for d in dirs if not _junk(d))
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted([*dirs, *files]):
            mode = os.lstat(Path(folder) / name).st_mode
            where = (rel / name).as_posix()
            if stat.S_ISLNK(mode):
                raise SubmissionError(f"submission holds a symbolic link: {where}; links are "
                                      "refused (zip or copy the files themselves)")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise SubmissionError(f"submission holds a special file: {where}")
        for name in sorted(files):
            total += os.lstat(Path(folder) / name).st_size
            if total > MAX_UNPACKED:
                raise SubmissionError(f"submission is larger than {MAX_UNPACKED >> 20} MB")
            shutil.copyfile(Path(folder) / name, dest / rel / name, follow_symlinks=False)


def _junk(name):
    return any(PurePosixPath(name).match(pattern) for pattern in spec.JUNK)


def _extract_checked(path, dest):
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(f"submission zip holds {len(members)} members; "
                                  f"at most {MAX_MEMBERS}")
        for member in members:
            parts = PurePosixPath(member.filename).parts
            if member.filename.startswith("/") or ".." in parts or ":" in member.filename:
                raise SubmissionError(f"submission zip holds an unsafe path: {member.filename!r}")
        unpacked = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members)
        if unpacked > MAX_UNPACKED:
            raise SubmissionError(f"submission zip unpacks to {unpacked >> 20} MB; "
                                  f"at most {MAX_UNPACKED >> 20} MB")
        if unpacked > 2**20 and unpacked > MAX_RATIO * max(packed, 1):
            raise SubmissionError(f"submission zip unpacks {unpacked / max(packed, 1):.0f} times "
                                  f"its packed size; at most {MAX_RATIO}")
        dest.mkdir(parents=True, exist_ok=True)
        for member in members:  # a link member becomes a file holding its target's name
            archive.extract(member, dest)


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


# ---- the course, prepared once ---------------------------------------------------------------

@dataclass
class Context:
    """What grading needs of a course, prepared once and reused for every submission."""

    course: spec.Course
    level: str                     # the sandbox's isolation level
    program: Path                  # child.py and gradcheck, read-only inside the sandbox
    jobs: dict                     # test index -> (job entry, {name: input array})
    reference: dict = field(default_factory=dict)  # test index -> {output: solution's array}
    files: tuple = ()              # the course's .py files (messages may name them)
    pristine: dict = field(default_factory=dict)  # the release's .py files (isolate, forbid)
    folder: tempfile.TemporaryDirectory | None = None

    def close(self):
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_REFERENCES = {}  # hash of the solution's files and the jobs -> reference arrays


def prepare(solution, sandbox_level="auto", require_sandbox=False):
    """The Context of the course at solution: isolation chosen, reference outputs computed.

    Raises spec.SpecError for a bad coursework.toml, sandbox.SandboxError when the
    isolation asked for is missing, RuntimeError when the solution fails its own tests.
    """
    course = spec.load(solution)
    level = sandbox.level(sandbox_level, require=require_sandbox)
    folder = tempfile.TemporaryDirectory(prefix="handgrad-")
    program = Path(folder.name) / "program"
    program.mkdir()
    shutil.copyfile(Path(__file__).with_name("child.py"), program / "child.py")
    shutil.copytree(Path(gradcheck.__file__).parent, program / "gradcheck",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with PARSING:
        jobs = {index: job_entry(index, test) for index, test in enumerate(course.tests)
                if test.kind != "pytest"}
    context = Context(course, level, program, jobs, files=tuple(_course_files(course.root)),
                      pristine=isolate.release_sources(course), folder=folder)
    try:
        context.reference = _reference(context)
    except BaseException:
        context.close()
        raise
    return context


def job_entry(index, test):
    """The test as the child reads it (plain values) and its input arrays, built here."""
    args, arrays = [], {}
    for position, value in enumerate(inputs.build(test.inputs, test.seed)):
        if isinstance(value, np.ndarray):
            arrays[f"{index}.{position}"] = value
            args.append({"array": f"{index}.{position}"})
        else:
            args.append({"value": value})
    entry = {"index": index, "name": test.name, "kind": test.kind, "target": test.target,
             "grads": list(test.grads), "seed": test.seed, "args": args}
    return entry, arrays


def _modules(course, tests):
    named = ("forward", "backward", "function", "cls")
    return list(dict.fromkeys([*course.packages, *(
        v.partition(":")[0] for t in tests for k, v in t.target.items() if k in named)]))


def _write_job(out, context, indices, numeric, modules=None):
    """OUT/job.json and OUT/inputs.npz: the tests at indices; the child imports the modules
    of the tests given as modules (default: of those tests) first."""
    tests = [context.course.tests[i] for i in indices]
    job = {"numeric": numeric, "modules": _modules(context.course, modules or tests),
           "tests": [context.jobs[i][0] for i in indices]}
    (out / "job.json").write_text(json.dumps(job), encoding="utf-8")
    arrays = {k: v for i in indices for k, v in context.jobs[i][1].items()}
    np.savez(out / "inputs.npz", **arrays)


def _course_files(root):
    """Relative paths of the course's .py files and its spec (caches and builds left out)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _junk(d))
        found += [(Path(folder) / name).relative_to(root).as_posix() for name in sorted(files)
                  if name.endswith(".py") or name == spec.SPEC_NAME]
    return found


def _solution_hash(context):
    digest = hashlib.sha256()
    for rel in context.files:
        digest.update(rel.encode() + b"\0" + (context.course.root / rel).read_bytes())
    for path in sorted(context.program.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _reference(context):
    """Every declarative test's outputs on the solution tree: {index: {output: array}}."""
    key = _solution_hash(context)
    if key in _REFERENCES:
        return _REFERENCES[key]
    course, indices = context.course, sorted(context.jobs)
    out = Path(context.folder.name) / "reference"
    out.mkdir()
    _write_job(out, context, indices, numeric=False)
    limits = sandbox.Limits(wall=course.timeout * (len(indices) + 1), stage=course.timeout,
                            memory_mb=course.memory_mb)
    run = sandbox.run(context.program, course.root, out, limits, context.level)
    failure = sandbox.read_json(out, "import.json")
    if failure:
        raise RuntimeError(f"the solution in {course.root} does not import: "
                           f"{checks.raised(failure.get('error'))[1]}")
    reference = {}
    for index in indices:
        report = sandbox.read_json(out, f"{index}.json")
        if not report or report.get("stage"):
            why = checks.raised(report["stage"])[1] if report else \
                run.output[-3000:] or f"exit {run.returncode}"
            raise RuntimeError(f"the solution fails its own test {course.tests[index].name!r}: "
                               f"{why}")
        with PARSING:
            reference[index] = sandbox.read_arrays(out, f"{index}.npz")
        if reference[index] is None:
            raise RuntimeError(f"the solution's outputs of {course.tests[index].name!r} are "
                               "not arrays of numbers")
    _REFERENCES[key] = reference
    return reference


# ---- one submission ------------------------------------------------------------------------

def grade(submission, solution, use_splice=False, jobs=None, sandbox="auto", blanks=None):
    """Return (entries, note) for a submission; a broken submission scores 0 with the reason.

    jobs: how many blanks are graded at once in their own trees (default: the number of CPUs);
    sandbox: auto, bubblewrap, unshare or none; blanks: grade only these blanks' tests.
    """
    with prepare(solution, sandbox) as context:
        return grade_submission(context, submission, use_splice, jobs, blanks)


def selected_tests(course, blanks=None):
    """(index, test) of the tests to grade: all, or those of the given blank ids.

    Pytest tests carry no points (spec.py says why): `handgrad release` proves them on
    the solution; the grader does not run them.
    """
    if blanks:
        unknown = sorted(set(blanks) - {t.blank for t in course.tests})
        if unknown:
            known = sorted({t.blank for t in course.tests if t.blank})
            raise ValueError(f"blanks {unknown} have no tests; known blanks: {known}")
    return [(i, t) for i, t in enumerate(course.tests)
            if t.kind != "pytest" and (not blanks or t.blank in blanks)]


def grade_submission(context, submission, use_splice=False, jobs=None, blanks=None):
    """Return (entries, note) for one submission, with a prepared Context.

    The full pass first: every selected test in one child on the student's own tree;
    then each blank it does not settle in that blank's isolated tree (see _again).
    """
    course = context.course
    chosen = selected_tests(course, blanks)
    tests = [t for _, t in chosen]
    with tempfile.TemporaryDirectory(prefix="handgrad-grade-") as tmp:
        tmp = Path(tmp)
        try:
            with PARSING:
                own, (isolation, blanks, make), notes = _trees(context, submission, tmp,
                                                               use_splice, tests)
        except (SubmissionError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as err:
            why = f"the submission cannot be read: {err}"
            broken = [_entries(t, _same_for_all(t, "error", why)) for t in tests]
            return [e for entries in broken for e in entries], why
        deadline = time.monotonic() + course.time_budget
        hung = threading.Event()  # set when a tree hangs at import: every tree shares that code
        by_blank = {}
        for index, test in chosen:
            by_blank.setdefault(test.blank, []).append(index)
        with PARSING:
            whole = isolate.full_tree(course, own, tmp / "full", blanks, context.pristine)
        # A tree that holds other blanks' solution code shows nothing free-form of the child's.
        files = frozenset(context.files) if isolation.isolated else None

        def silence(blank):  # in the full pass's tree, a blank that hung raises instead
            return isolate.silence(course, whole, blank,
                                   f"not run: {blank} hung in an earlier test of the full pass")

        def alone(blank):
            number = blanks.index(blank)
            return _grade_tests(context, by_blank[blank], isolation.trees[blank],
                                tmp / f"out-{number}", deadline, files, hung)

        with ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool:
            running = pool.submit(_grade_tests, context, [i for i, _ in chosen], whole,
                                  tmp / "out-full", deadline, None, hung,
                                  silence if isolation.isolated else None)
            for number, blank in enumerate(blanks):  # every blank's forbid scan, meanwhile
                with PARSING:
                    make(blank, tmp / "isolated" / f"blank-{number}")
            first = running.result()
            with PARSING:
                untouched = isolate.untouched(course, own, context.pristine)
            again = _again(course, by_blank, first, isolation, hung, untouched)
            passes = [first, *pool.map(alone, again)]
        verdicts = {}
        for one in passes:  # a blank graded again replaces its verdicts of the full pass
            verdicts.update(one.verdicts)
        entries = [e for index, test in chosen for e in
                   _entries(test, forbid.overrule(test, verdicts[index], isolation.forbidden))]
        broken = _import_note(entries)
        if broken and files is not None and first.import_error:
            broken = f"The submission does not import:\n{first.import_error}"
        notes.append(isolate.note(isolation, again, sum(one.children for one in passes),
                                  sorted(set(by_blank) - set(again) & untouched)))
    shown = "" if isolation.isolated else _shown_output([one.output for one in passes])
    return entries, "\n".join(n for n in [*notes, broken, shown] if n)


def _trees(context, submission, tmp, use_splice, tests):
    """The student's own tree, isolate.plan of the graded blanks' trees, and the notes
    that say how they are made."""
    course = context.course
    tree = unpack(submission, tmp / "submission")
    notes = []
    if use_splice:
        taken = splice(course, tree, tmp / "spliced")
        tree = tmp / "spliced"
        notes.append(f"Spliced the code of {len(taken)} of {len(course.blanks)} blanks.")
    return tree, isolate.plan(course, tree, tests, context.pristine), notes


def _again(course, by_blank, first, isolation, hung, untouched=frozenset()):
    """The blanks to grade in their own isolated trees after the full pass (first, a _Pass).

    A blank all of whose tests passed there is settled: its points come from the student's
    own code computing the right arrays. So is a blank in untouched (its region is the
    release's) whose tests all ran there, reaching no function disabled there: its code is
    the release's stub in every tree, and `handgrad release` proves that the pristine
    release scores 0, isolated or not. A tree that hung at import, or failed or ended there
    outside every blank (first.final), settles every blank: import-time code outside the
    blanks is the same in every tree. That assumes it does not depend on what a blank's
    function returns (code added outside the blanks that calls one at import); a traceback
    through a blank's region, or one that cannot be placed in the tree, is graded again in
    isolation. With no guards every tree is the submission as it is, so a blank is graded
    again only when it reached a
    function the full pass disabled for another blank's sake (its own tree leaves it be).
    Blanks with a test that timed out come last, so that what hangs does not spend the
    others' time budget.
    """
    verdicts = first.verdicts

    def outcomes(blank):  # a test the full pass did not run has no verdict: not passed
        return {o for i in by_blank[blank]
                for o, _ in verdicts.get(i, {"": ("not run", "")}).values()}

    def texts(blank):
        return [t for i in by_blank[blank] for _, t in verdicts[i].values()]

    def released(blank):  # its tests ran on the release's code, nothing disabled reached
        return blank in untouched and first.ran.issuperset(by_blank[blank]) and \
            not forbid.reached(texts(blank), every)

    if hung.is_set() or first.final:
        return []
    every = forbid.disabled(course, by_blank).keys()
    again = [blank for blank in by_blank if outcomes(blank) != {"passed"} and not released(blank)]
    if not isolation.isolated:
        again = [blank for blank in again if forbid.reached(
            texts(blank), every - forbid.disabled(course, [blank]).keys())]
    return sorted(again, key=lambda blank: "timed out" in outcomes(blank))


@dataclass
class _Pass:
    """What the children of one tree gave: verdicts and output, and what it cost."""

    verdicts: dict = field(default_factory=dict)  # test index -> {output: (outcome, text)}
    output: str = ""               # the children's output, the grader's paths replaced
    import_error: str = ""         # why the tree does not import ('' when it does)
    children: int = 0              # sandboxed processes started
    ran: set = field(default_factory=set)  # tests judged from the child's own report
    final: bool = False            # the first child failed or ended at import, outside
                                   # every blank: every tree would (see _again)


def _grade_tests(context, indices, tree, out_root, deadline, files, hung, silence=None):
    """Run the tests at indices on tree in as few sandboxed children as it takes; judge each
    here. Returns a _Pass.

    A first child that fails or ends while importing, outside every blank, sets the
    _Pass's final (see _again). A child that stops in the middle (a timeout, a crash,
    os._exit) costs the test it was running; the tests after it run in a fresh child,
    but for the other tests of a blank whose test timed out: they are not run ("timed
    out", one timeout per blank that hangs, not one per test). A child killed while
    importing sets hung: what runs at import is the code outside the blanks, the same in
    every tree, so the tests not yet run are not run at all (one timeout for a tree that
    cannot import).
    files: None for the student's own tree, else the course's files (see checks.raised).
    silence: None, or (the full pass) silence(blank) makes the region of a blank whose test
    timed out raise in tree, so that the tests of the blanks that call it fail at once
    rather than hang, and returns False when it cannot (no guards of it in the tree). A
    timeout it cannot silence, or a second one, ends the run: the tests not run yet get no
    verdict (each blank's own tree grades them), so the full pass spends at most two
    timeouts however many blanks hang.
    """
    course, pending, result, output = context.course, list(indices), _Pass(), []
    silenced = False
    verdicts = result.verdicts
    while pending:
        left = deadline - time.monotonic()
        why = (f"not run: the submission hung while importing (killed after "
               f"{course.timeout:g} s in another blank's tests)" if hung.is_set()
               else f"the submission's time budget of {course.time_budget:g} s ran out")
        if left <= 0 or hung.is_set():
            verdicts.update({i: _same_for_all(course.tests[i], "timed out", why)
                             for i in pending})
            break
        out = out_root.with_name(f"{out_root.name}-{result.children}")
        out.mkdir(mode=0o700)
        _write_job(out, context, pending, numeric=True)
        limits = sandbox.Limits(wall=min(left, course.timeout * (len(pending) + 1)),
                                stage=course.timeout, memory_mb=course.memory_mb)
        run = sandbox.run(context.program, tree, out, limits, context.level)
        result.children += 1
        output.append(_clean(run.output, tree))
        failure = sandbox.read_json(out, "import.json")
        if isinstance(failure, dict):
            stage = _plain_paths(failure.get("error"), tree)
            text = checks.raised(stage, files)[1]
            result.import_error = _clean(text, tree)
            result.final = result.children == 1 and _outside_blanks(course, tree, stage)
            why = f"the submission does not import:\n{result.import_error}"
            verdicts.update({i: _same_for_all(course.tests[i], "error", why) for i in pending})
            break
        for index in list(pending):
            report = sandbox.read_json(out, f"{index}.json")
            if isinstance(report, dict):
                with PARSING:
                    got = sandbox.read_arrays(out, f"{index}.npz")
                report["stage"] = _plain_paths(report.get("stage"), tree)
                found = checks.judge(course.tests[index], context.reference[index], got,
                                     report, files, forbid.messages(course))
                verdicts[index] = {k: (o, _clean(t, tree)) for k, (o, t) in found.items()}
                pending.remove(index)
                result.ran.add(index)
        if not pending:
            break
        started = [b.removeprefix("start ").strip() for b in run.beats if b.startswith("start ")]
        current = next((i for i in pending if started and str(i) == started[-1]), None)
        if run.timed_out and current is None:
            hung.set()
        result.final = not (started or run.timed_out) and result.children == 1
        stopped = [current] if current is not None else list(pending)
        outcome = "timed out" if run.timed_out else "error"
        verdicts.update({i: _same_for_all(course.tests[i], outcome,
                                          _stopped(run, course, current is None))
                         for i in stopped})
        blank = course.tests[current].blank if current is not None else ""
        if run.timed_out and blank:
            rest = [i for i in pending if i != current and course.tests[i].blank == blank]
            why = (f"not run: an earlier test of this blank was killed after "
                   f"{course.timeout:g} s without progress")
            verdicts.update({i: _same_for_all(course.tests[i], "timed out", why) for i in rest})
            stopped += rest
        pending = [i for i in pending if i not in stopped]
        if run.timed_out and current is not None and silence is not None:
            if silenced or not silence(blank):
                break
            silenced = True
    result.output = "".join(output)
    return result


def _outside_blanks(course, tree, stage):
    """Whether an import failure (a stage report, frames as _plain_paths gives them) lies
    outside every blank's guarded region in tree: its innermost frame in the tree (for a
    SyntaxError, where the parser stopped) and every other frame in it are outside them,
    and it is not a function disabled in tree (forbid.disable) that raised. False when no
    frame lies in the tree."""
    frames = stage.get("frames") if isinstance(stage, dict) else None
    names = forbid.disabled(course, course.blanks)
    if not isinstance(frames, list) or str(stage.get("message")) in forbid.messages(course) \
            or any(frame[2] in names for frame in frames):
        return False
    places = [(frame[0].removeprefix("/submission/"), frame[1]) for frame in frames
              if frame[0].startswith("/submission/") and isinstance(frame[1], int)]
    root = Path(tree).resolve()
    for rel, line in places:
        path = (root / rel).resolve()
        if not (path.is_relative_to(root) and path.suffix == ".py" and path.is_file()):
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(b.begin <= line <= b.end for b in markers.guards(text, rel)):
            return False
    return bool(places)


def _stopped(run, course, at_import):
    """Why a child stopped before writing a test's results."""
    where = "while importing the submission" if at_import else "during this test"
    if run.timed_out and at_import:
        return f"the submission hung while importing (killed after {course.timeout:g} s " \
               "without progress)"
    if run.timed_out:
        return f"killed after {course.timeout:g} s without progress {where}"
    if run.memory_hit:
        return f"stopped {where}: the memory limit of {course.memory_mb} MB was reached"
    return f"the test process ended {where} (exit code {run.returncode})"


def _plain_paths(stage, tree):
    """A child's stage report with each frame's file as the student may see it:
    /submission/REL for the graded tree, site-packages/... or python/... for the
    interpreter's, '?' for anything else (never a path of the grader's)."""
    if not isinstance(stage, dict) or not isinstance(stage.get("frames"), list):
        return stage
    places = [(str(tree), "/submission"), ("/submission", "/submission"),
              *((path, "site-packages") for path in sandbox.site_packages()),
              ("/site/", "site-packages/"), (sys.base_prefix, "python")]
    frames = []
    for frame in stage["frames"]:
        if isinstance(frame, list) and len(frame) == 3:
            name = str(frame[0])
            name = next((new + name[len(old):] for old, new in places
                         if name.startswith(old)), "?")
            frames.append([name, frame[1], str(frame[2])[:100]])
    return {**stage, "frames": frames}


def _clean(text, tree):
    """The child's text with the grader's own paths replaced by the sandbox's names."""
    return str(text).replace(str(tree), "/submission")


def _shown_output(outputs):
    text = "".join(outputs).strip()
    if not text:
        return ""
    cut = text[:SHOWN_OUTPUT] + ("\n[... output cut]" if len(text) > SHOWN_OUTPUT else "")
    return f"Your code printed:\n{cut}"


def _entries(test, verdicts):
    """One Entry per point-bearing output; hidden tests never show a traceback."""
    single = list(test.points) == ["passed"]
    out = []
    for key, points in test.points.items():
        outcome, text = verdicts[key]
        if test.hidden and outcome in ("error", "not attempted", "timed out"):
            text = text.strip().splitlines()[0] if text.strip() else outcome
        out.append(Entry(name=test.name if single else f"{test.name}: {key}", blank=test.blank,
                         outcome=outcome, score=float(points) if outcome == "passed" else 0.0,
                         max_score=float(points), output=text, hidden=test.hidden))
    return out


def _same_for_all(test, outcome, text):
    return {key: (outcome, text) for key in test.points}


def _import_note(entries):
    """Why tests could not import the submission: all of them, or only some blanks' trees."""
    broken = [e for e in entries if e.output.startswith("the submission does not import")]
    if not broken:
        return ""
    lines = broken[0].output.strip().splitlines()
    why = next((line for line in lines[1:] if " raised " in line), lines[-1])
    if len(broken) == len(entries):
        return f"The submission does not import: {why}"
    blanks = ", ".join(sorted({e.blank for e in broken}))
    return f"With the code of {blanks} the submission does not import: {why}"
