"""handgrad grade SUBMISSION: score a student tree or zip; write results.json and JUnit XML."""

import argparse
import sys
import time
from pathlib import Path

from handgrad import grade_class
from handgrad.coursework import find_solution, grader, missing_modules, reports, spec


def parse(argv):
    p = argparse.ArgumentParser(prog="handgrad grade", description=__doc__.split("\n")[0])
    p.add_argument("submission", metavar="SUBMISSION", help="the student's folder or zip file")
    p.add_argument("--out", metavar="DIR", default="results",
                   help="folder for results.json and junit.xml (default: results)")
    p.add_argument("--junit", metavar="PATH", help="JUnit XML path (default: DIR/junit.xml)")
    p.add_argument("--solution", metavar="DIR", help="the course root with coursework.toml "
                   "(default: the nearest one above the current folder, else this repository)")
    p.add_argument("--splice", action="store_true", help="grade only the code inside each "
                   "blank's guards, put into the pristine release (either way, each blank is "
                   "graded with the solution's code in every other blank)")
    p.add_argument("--jobs", type=int, help="test processes at once (default: CPU count)")
    p.add_argument("--single", action="store_true",
                   help="take SUBMISSION as one submission even when it looks like a class")
    return p.parse_args(argv)


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
    start = time.perf_counter()
    try:
        entries, note = grader.grade(args.submission, args.solution or find_solution(),
                                     use_splice=args.splice, jobs=args.jobs)
    except (spec.SpecError, RuntimeError) as err:
        print(f"handgrad grade: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seconds = time.perf_counter() - start
    results = out / "results.json"
    results.write_text(reports.results_json(entries, note, seconds), encoding="utf-8")
    junit = Path(args.junit) if args.junit else out / "junit.xml"
    junit.write_text(reports.junit_xml(entries), encoding="utf-8")
    print(reports.table(entries))
    print(reports.terminal(entries, note, results))
    return 0 if all(e.outcome == "passed" for e in entries) else 1
