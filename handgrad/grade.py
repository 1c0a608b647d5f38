"""handgrad grade SUBMISSION: score a student tree or zip; write results.json and JUnit XML."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from handgrad import grade_class
from handgrad.coursework import find_solution, grader, missing_modules, reports, sandbox, spec


def parse(argv):
    p = argparse.ArgumentParser(prog="handgrad grade", description=__doc__.split("\n")[0])
    p.add_argument("submission", metavar="SUBMISSION", help="the student's folder or zip file")
    p.add_argument("--out", metavar="DIR", default="results",
                   help="folder for results.json and junit.xml (default: results)")
    p.add_argument("--junit", metavar="PATH", help="JUnit XML path (default: DIR/junit.xml)")
    p.add_argument("--solution", metavar="DIR", help="the course root with coursework.toml "
                   "(default: the nearest one above the current folder, else this repository)")
    p.add_argument("--splice", action="store_true", help="grade only the code inside each "
                   "blank's guards, put into the pristine release (either way, a blank with a "
                   "test that fails on the submission as it is gets graded again with the "
                   "solution's code in every other blank)")
    p.add_argument("--jobs", type=int, help="blanks graded at once in their own trees, after "
                   "the full pass (default: CPU count)")
    p.add_argument("--single", action="store_true",
                   help="take SUBMISSION as one submission even when it looks like a class "
                        "(a folder of submissions or a Gradescope export: see handgrad grade "
                        "CLASS_DIR --help)")
    p.add_argument("--sandbox", choices=("auto", *sandbox.LEVELS),
                   default=os.environ.get("HANDGRAD_SANDBOX") or "auto",
                   help="isolation of the student's code (default: $HANDGRAD_SANDBOX, else "
                        "auto: the strongest this machine gives)")
    p.add_argument("--require-sandbox", action="store_true",
                   help="exit 2 unless bubblewrap isolates the student's code")
    p.add_argument("--blank", action="append", metavar="ID",
                   help="grade only this blank's tests (repeatable)")
    return p.parse_args(argv)


def _check_paths(args):
    """A message for an unusable --out, --junit or --jobs, before any grading; else ''."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return f"--out {out} exists and is not a folder"
    if args.junit and Path(args.junit).is_dir():
        return f"--junit {args.junit} is a folder; expected a file path"
    if args.jobs is not None and args.jobs < 1:
        return f"--jobs is {args.jobs}; expected 1 or more"
    if not Path(args.submission).exists() and not Path(args.submission).is_symlink():
        return f"submission {args.submission} does not exist"
    return ""


def write_atomically(path, text):
    """Write text to path through a temporary file in the same folder and one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if grade_class.wants_class(argv):  # a folder of submissions or a Gradescope export
        return grade_class.main(argv)
    args = parse(argv)
    missing = args.splice and missing_modules("handgrad grade --splice", ["nbformat"],
                                              "it rebuilds the release, notebooks included")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    problem = _check_paths(args)
    if problem:
        print(f"handgrad grade: {problem}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        with grader.prepare(args.solution or find_solution(), args.sandbox,
                            args.require_sandbox) as context:
            print(sandbox.describe(context.level), file=sys.stderr)
            entries, note = grader.grade_submission(context, args.submission, args.splice,
                                                    args.jobs, args.blank)
    except (spec.SpecError, sandbox.SandboxError, RuntimeError, ValueError) as err:
        print(f"handgrad grade: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    seconds = time.perf_counter() - start
    results = out / "results.json"
    write_atomically(results, reports.results_json(entries, note, seconds))
    write_atomically(Path(args.junit) if args.junit else out / "junit.xml",
                     reports.junit_xml(entries))
    print(reports.table(entries))
    print(reports.terminal(entries, note, results))
    return 0 if all(e.outcome == "passed" for e in entries) else 1
