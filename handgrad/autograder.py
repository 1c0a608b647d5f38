"""handgrad autograder OUT.zip: the Gradescope autograder bundle of the course."""

import argparse
import sys
from pathlib import Path

from handgrad.coursework import autograder, find_solution, spec


def parse(argv):
    p = argparse.ArgumentParser(prog="handgrad autograder", description=__doc__.split("\n")[0])
    p.add_argument("out", metavar="OUT.zip", help="where the bundle goes (upload it to "
                   "Gradescope as the assignment's autograder)")
    p.add_argument("--solution", metavar="DIR", help="the course root with coursework.toml "
                   "(default: the nearest one above the current folder, else this repository)")
    p.add_argument("--force", action="store_true", help="replace an existing OUT.zip")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    out = Path(args.out)
    if out.suffix != ".zip":
        print(f"handgrad autograder: {out} should end in .zip", file=sys.stderr)
        return 2
    if out.exists() and not args.force:
        print(f"handgrad autograder: {out} exists; --force replaces it", file=sys.stderr)
        return 2
    try:
        course = spec.load(args.solution or find_solution())
        data = autograder.bundle(course)
    except (spec.SpecError, ValueError) as err:
        print(f"handgrad autograder: {err}", file=sys.stderr)
        return 2
    out.write_bytes(data)
    print(f"wrote {out} ({len(data) / 1e6:.1f} MB): setup.sh, run_autograder, "
          f"requirements.txt, the grader and the course {course.name!r}")
    return 0
