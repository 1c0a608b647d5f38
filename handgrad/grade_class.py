"""handgrad grade CLASS_DIR: grade a whole class, write a gradebook and a summary.

Taken by `handgrad grade` when its argument is a class (a folder of
submissions, one folder or zip per student, or a Gradescope export with
submission_metadata.yml; see classroom.kind for the rule) or with --class.
"""

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

from handgrad.coursework import batch, classroom, find_solution, gradebook, grader, sandbox, spec


def parser(probe=False):
    """The options of a class run; probe: no --help and CLASS_DIR optional (wants_class)."""
    p = argparse.ArgumentParser(prog="handgrad grade", description=__doc__.split("\n")[0],
                                add_help=not probe)
    p.add_argument("submission", metavar="CLASS_DIR", nargs="?" if probe else None,
                   help="a folder of submissions (one folder or zip per student) or a "
                        "Gradescope export (with submission_metadata.yml)")
    p.add_argument("--class", dest="force_class", action="store_true",
                   help="take CLASS_DIR as a class even when it looks like one submission")
    p.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--junit", help=argparse.SUPPRESS)  # one submission's option
    p.add_argument("--out", metavar="DIR", default="results", help="folder for one results "
                   "folder per student, gradebook.csv and summary.md (default: results)")
    p.add_argument("--solution", metavar="DIR", help="the course root with coursework.toml "
                   "(default: the nearest one above the current folder, else this repository)")
    p.add_argument("--splice", action="store_true",
                   help="grade only the code inside each blank's guards (as for one submission)")
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--only", metavar="ID", action="append", default=[],
                   help="regrade this student (folder name, SID or email); repeatable")
    p.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster: a scheduler "
                   "address (tcp://host:8786), or local:N for a local cluster of N workers")
    p.add_argument("--similarity", action="store_true",
                   help="report pairs whose code inside the blanks is unusually alike")
    p.add_argument("--sandbox", choices=("auto", *sandbox.LEVELS),
                   default=os.environ.get("HANDGRAD_SANDBOX") or "auto",
                   help="isolation of the students' code, as for one submission")
    p.add_argument("--require-sandbox", action="store_true",
                   help="exit 2 unless bubblewrap isolates the students' code")
    return p


def wants_class(argv):
    """True when `handgrad grade ARGV` names a class rather than one submission."""
    args, _ = parser(probe=True).parse_known_args(argv)
    if args.force_class or args.single or args.submission is None:
        return args.force_class
    try:
        course = spec.load(args.solution or find_solution())
    except spec.SpecError:
        return False  # the single-submission path reports it
    return classroom.kind(args.submission, course) != "single"


def _check(args, folder, out):
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; expected a folder"
    if args.jobs < 1:
        return f"--jobs is {args.jobs}; expected at least 1"
    if args.dask and args.dask.startswith("local") and \
            not re.fullmatch(r"local(:[1-9][0-9]*)?", args.dask):
        return f"--dask {args.dask}: expected local or local:N (N workers), or an address"
    return ""


def main(argv=None):
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    folder, out = Path(args.submission), Path(args.out)
    problem = _check(args, folder, out)
    try:
        course = spec.load(args.solution or find_solution())
        subs = [s for s in classroom.find(folder) if s.path.resolve() != out.resolve()]
    except (spec.SpecError, ValueError, OSError) as err:
        problem = problem or str(err)
    unknown = [w for w in args.only if not any(s.matches(w) for s in subs)] if not problem else []
    if unknown:
        problem = f"--only {', '.join(unknown)}: no such submission in {folder}"
    if problem:
        print(f"handgrad grade: {problem}", file=sys.stderr)
        return 2
    try:
        context = grader.prepare(course.root, args.sandbox, args.require_sandbox)
    except (sandbox.SandboxError, RuntimeError) as err:
        print(f"handgrad grade: {err}", file=sys.stderr)
        return 2
    print(sandbox.describe(context.level), file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with context:
            records = grade_all(args, context, subs, folder, out)
    except ImportError as err:  # --dask without the extra
        print(f"handgrad grade: --dask needs Dask's distributed scheduler "
              f"(pip install 'handgrad[cluster]'): {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if not args.dask:
            raise
        print(f"handgrad grade: --dask {args.dask}: {err}", file=sys.stderr)
        return 2
    if records is None:
        return 130
    if args.similarity:
        from handgrad.coursework import similarity

        pairs = similarity.report(course, subs, out)
        print(f"similarity: {len(pairs)} pairs flagged; see {out / 'similarity.html'}")
    return finish(course, subs, records, out)


def grade_all(args, context, subs, folder, out):
    """Grade what needs it, saving each record as it arrives; None when interrupted."""
    course, skip = context.course, [folder, out]
    options = f"splice={args.splice} sandbox={context.level}"
    course_digest = classroom.course_hash(course, skip, options=options)
    digests = {s.key: hashlib.sha256((classroom.submission_hash(s.path) + course_digest)
                                     .encode()).hexdigest() for s in subs}
    todo, records = batch.plan(subs, out, digests, args.only)
    where = f"on Dask at {args.dask}" if args.dask else f"{args.jobs} at a time"
    print(f"grading {len(todo)} of {len(subs)} submissions {where} "
          f"({len(records)} unchanged since their last grading)")
    if args.dask:
        course_zip = batch.pack(course.root, classroom.course_files(course, skip))
        results = batch.run_dask(todo, context.level, args.splice, args.dask, course_zip,
                                 course_digest)
    else:
        results = batch.run_local(todo, context, args.splice, args.jobs)
    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="submission", file=sys.stderr, disable=None)
    try:
        for sub, record in results:
            records[sub.key] = batch.save(out, sub.key, digests[sub.key], record)
            bar.update()
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: {len(records)} of {len(subs)} submissions have results in {out}; "
              "run the same command again to grade the rest", file=sys.stderr)
        return None
    bar.close()
    return records


def finish(course, subs, records, out):
    """Write the gradebooks and the summary; print the closing line; the exit code."""
    gradebook.write_gradebooks(out, course, subs, records)
    gradebook.write_summary(out, course, subs, records)
    graded = sum(r.get("status") == "graded" for r in records.values())
    failed = len(records) - graded
    missing = len(subs) - len(records)
    print(f"gradebook: {out / 'gradebook.csv'}; summary: {out / 'summary.md'}")
    for key, record in sorted(records.items()):
        if record.get("status") != "graded":
            print(f"failed to grade {key}: {record.get('error', '')}", file=sys.stderr)
    tail = f", {missing} not graded yet" if missing else ""
    print(f"{graded} graded, {failed} failed to grade{tail}")
    return 0 if failed == 0 and missing == 0 else 1
