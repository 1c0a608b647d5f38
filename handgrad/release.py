"""handgrad release OUT_DIR: write the student version of the coursework.

Proves the solution (its public and hidden tests pass), writes the release
(blanks cut, hidden tests and instructor-only files left out, notebooks without
outputs or solutions, release-manifest.json), then verifies it.
"""

import argparse
import sys

from handgrad.coursework import (
    NOTEBOOK_MODULES,
    build,
    find_solution,
    markers,
    missing_modules,
    spec,
    verify,
)


def parse(argv):
    p = argparse.ArgumentParser(prog="handgrad release", description=__doc__.split("\n")[0])
    p.add_argument("out", metavar="OUT_DIR", help="where the student version goes")
    p.add_argument("--solution", metavar="DIR", help="the course root with coursework.toml "
                   "(default: the nearest one above the current folder, else this repository)")
    p.add_argument("--dry-run", action="store_true",
                   help="show what would be written; write nothing")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if OUT_DIR differs from a fresh release (drift)")
    p.add_argument("--no-prove", action="store_true",
                   help="skip running the tests on the solution first (faster)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds for each test run")
    return p.parse_args(argv)


def _fail(problems, what):
    print(f"handgrad release: {what}:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    missing = missing_modules("handgrad release", NOTEBOOK_MODULES,
                              "it strips the notebooks and runs them to verify the release")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    try:
        course = spec.load(args.solution or find_solution())
        release = build.build(course, skip=[args.out])
    except (spec.SpecError, markers.MarkerError) as err:
        print(f"handgrad release: {err}", file=sys.stderr)
        return 2
    for warning in release.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    leaked = build.leaks(release.files, release.leak_keys)
    if leaked:
        return _fail([f"{rel}:{row}" for rel, row in leaked], "solution lines would leak")
    if args.check:
        problems = build.drift(release, args.out)
        if problems:
            return _fail(problems, f"{args.out} is not the current release")
        print(f"{args.out} is up to date: {len(release.files)} files, "
              f"{len(release.blanks)} blanks")
        return 0
    for blank in release.blanks:
        first, last = blank["lines"]
        print(f"{blank['id']:<28} {blank['file']}:{first}-{last}  {blank['points']:g} points")
    if args.dry_run:
        print(f"dry run: would write {len(release.files)} files and {build.MANIFEST} to {args.out}")
        return 0
    if not args.no_prove:
        problems = verify.prove(course, timeout=args.timeout)
        if problems:
            return _fail(problems, "the solution is not proved; nothing written")
    try:
        build.write(release, args.out)
    except FileExistsError as err:
        print(f"handgrad release: {err}", file=sys.stderr)
        return 2
    problems = verify.verify(release, args.out, timeout=args.timeout)
    if problems:
        return _fail(problems, f"the release in {args.out} does not verify")
    print(f"wrote {len(release.files)} files, {len(release.blanks)} blanks to {args.out}; verified")
    return 0
