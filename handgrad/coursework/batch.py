"""Grade a class: one task per submission, on local threads or a Dask cluster, resumable.

A task grades one submission with the per-submission grader
(grader.grade_submission: the student's code only in sandboxed children, judged
in this process against the course's Context, prepared once: reference
outputs, isolation level) and returns a record of plain values: the
score, the points and outcome of each blank, the hints, and the texts of
results.json and junit.xml. The caller writes each student's folder as the
records arrive, `grading.json` last and atomically, so an interrupted run
keeps every submission it finished.

A record carries the hash of the submission's files and of the course
(classroom.course_hash); a later run grades again only the submissions whose
hash changed or whose record is missing, and `only` regrades the named ones.

On Dask, the course and each submission travel with the tasks as zip bytes
(the course scattered once to every worker), so a worker needs only handgrad
installed; each worker process unpacks the course and prepares its own
Context once (reference outputs computed in its own sandbox, at the level
the command chose, an error when that worker lacks it), then grades each
submission in its own temporary folders and sandboxed children.
"""

import io
import json
import os
import re
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import classroom, grader

RECORD = "grading.json"
HINT = re.compile(r"hint: (?P<hint>[^\n;]+)")


def blank_outcome(outcomes):
    """A blank's verdict from its entries' outcomes: passed, not attempted, or wrong."""
    if all(o == "passed" for o in outcomes):
        return "passed"
    if all(o == "not attempted" for o in outcomes):
        return "not attempted"
    return "wrong"


def why(output):
    """What went wrong, in words shared across the class: the hint, else the first clause."""
    found = HINT.search(output)
    if found:
        return found["hint"].strip()
    first = output.strip().splitlines()[0] if output.strip() else "no output"
    return re.split(r"[:(]", first, maxsplit=1)[0].strip()


def record_of(entries, note, seconds):
    """The plain-value record of one graded submission (without key and hash)."""
    from . import reports

    blanks = {}
    for e in entries:
        blank = blanks.setdefault(e.blank or "(no blank)", {"score": 0.0, "max": 0.0,
                                                             "outcomes": []})
        blank["score"] += e.score
        blank["max"] += e.max_score
        blank["outcomes"].append(e.outcome)
    for blank in blanks.values():
        blank["outcome"] = blank_outcome(blank.pop("outcomes"))
    hints = sorted({f"{e.name}: {why(e.output)}" for e in entries if e.outcome == "failed"})
    errors = sorted({f"{e.blank or e.name}: {why(e.output)}" for e in entries
                     if e.outcome in ("error", "timed out")})
    return {
        "status": "graded", "score": sum(e.score for e in entries),
        "max_score": sum(e.max_score for e in entries), "blanks": blanks, "hints": hints,
        "errors": errors, "seconds": round(seconds, 2), "note": note,
        "results_json": reports.results_json(entries, note, seconds),
        "junit_xml": reports.junit_xml(entries),
    }


def grade_one(submission, context, splice=False):
    """Grade one submission (path) with a prepared grader.Context; a record, status
    'failed' when the grader itself broke."""
    start = time.perf_counter()
    try:
        entries, note = grader.grade_submission(context, submission, splice, jobs=1)
    except Exception as err:  # the grader itself broke: report it, grade the others
        return {"status": "failed", "error": f"{type(err).__name__}: {err}",
                "seconds": round(time.perf_counter() - start, 2)}
    return record_of(entries, note, time.perf_counter() - start)


# --- the student's results folder: written as records arrive, read back to resume ---

def _write_atomic(path, text):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save(out, key, digest, record):
    """Write OUT/KEY/results.json, junit.xml, then grading.json (the proof it is complete)."""
    folder = Path(out) / key
    folder.mkdir(parents=True, exist_ok=True)
    record = dict(record, key=key, hash=digest)
    for name, field in (("results.json", "results_json"), ("junit.xml", "junit_xml")):
        if field in record:
            _write_atomic(folder / name, record.pop(field))
    _write_atomic(folder / RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def load(out, key):
    """The saved record of KEY, or None when it was never completed."""
    path = Path(out) / key / RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- running the tasks ---

def plan(submissions, out, digests, only=()):
    """Split submissions into (to grade, {key: saved record reused})."""
    todo, kept = [], {}
    for sub in submissions:
        saved = load(out, sub.key)
        wanted = any(sub.matches(w) for w in only)
        if only and not wanted:
            if saved:
                kept[sub.key] = saved
        elif not wanted and saved and saved.get("hash") == digests[sub.key] \
                and saved.get("status") == "graded":
            kept[sub.key] = saved
        else:
            todo.append(sub)
    return todo, kept


def run_local(todo, context, splice, jobs):
    """Yield (submission, record) as each finishes, jobs submissions at a time."""
    pool = ThreadPoolExecutor(max(1, jobs))
    futures = {pool.submit(grade_one, sub.path, context, splice): sub for sub in todo}
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def pack(root, rels):
    """A zip (bytes) of root's files rels."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in rels:
            path = Path(root) / rel
            if not path.is_symlink():
                archive.write(path, rel)
    return buffer.getvalue()


def pack_submission(path):
    """A submission as bytes: a zip as it is, a folder zipped (its links left out)."""
    path = Path(path)
    if not path.is_dir():
        return path.read_bytes()
    return pack(path, classroom.tree_files(path))


# (course hash, sandbox level) -> (the unpacked course's folder, its grader.Context), kept
# for the life of the worker process (each folder is removed when the process ends).
_CONTEXTS = {}
_PREPARING = threading.Lock()


def _worker_context(course_zip, digest, level):
    """The Context of a Dask task's course: unpacked and prepared once per worker process
    (its reference outputs computed in this worker's own sandbox)."""
    with _PREPARING:
        if (digest, level) not in _CONTEXTS:
            folder = tempfile.TemporaryDirectory(prefix="handgrad-course-")  # 0700: private
            course = Path(folder.name) / "course"  # readable by a root grader's sandbox uid
            course.mkdir()
            course.chmod(0o755)
            with zipfile.ZipFile(io.BytesIO(course_zip)) as archive:
                archive.extractall(course)
            _CONTEXTS[digest, level] = folder, grader.prepare(course, level)
        return _CONTEXTS[digest, level][1]


def grade_packed(name, data, course_zip, course_digest, splice, level):
    """The Dask task: grade a submission given as bytes against the course given as bytes,
    at the isolation level the command chose."""
    context = _worker_context(course_zip, course_digest, level)
    with tempfile.TemporaryDirectory(prefix="handgrad-task-") as tmp:
        path = Path(tmp) / (f"{name}.zip" if zipfile.is_zipfile(io.BytesIO(data)) else name)
        path.write_bytes(data)
        return grade_one(path, context, splice)


def run_dask(todo, level, splice, address, course_zip, digest):
    """Yield (submission, record) as each finishes: one task per submission on Dask."""
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    if address.startswith("local"):
        workers = int(address.partition(":")[2] or 2)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        address = cluster.scheduler_address
    client = Client(address)
    try:
        course_zip = client.scatter(course_zip, broadcast=True)
        futures = {client.submit(grade_packed, sub.key, pack_submission(sub.path), course_zip,
                                 digest, splice, level, key=f"grade-{sub.key}-{digest[:8]}",
                                 pure=False): sub for sub in todo}
        for future in dask_completed(futures):
            try:
                record = future.result()
            except Exception as err:  # the worker died: this one failed to grade
                record = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
            yield futures[future], record
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
