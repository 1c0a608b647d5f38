"""gradcheck [TARGET ...] [options]: numeric gradient checks from the command line.

Exit codes (also in --help): see EXIT_CODES.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from . import output, selftest
from .report import format_line, summarize
from .sweep import format_sweep
from .targets import TargetError, builtin_targets, resolve

EXIT_CODES = """exit codes:
  0  every check passed; kinks and some inconclusive entries or checks are allowed
     as long as at least one check passed (or was judged a kink)
  1  a check failed, or was not attempted (a blank raising NotImplementedError)
  2  usage error, unknown target, or a file that does not import (file and line shown)
  3  nothing failed, but no check could be judged: every one was inconclusive
     (the numeric side too noisy; try --dtype float64 or other inputs)"""


def parser():
    p = argparse.ArgumentParser(
        prog="gradcheck",
        description="Check hand-written backward passes against numeric gradients.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="TARGET: a layer or model name (affine, batchnorm, TwoLayerNet, ...),\n"
               "path/to/file.py (every pair of a built-in layer in it), file.py::NAME,\n"
               "or module.path::Class. No target: every built-in layer and model.\n\n"
               + EXIT_CODES)
    p.add_argument("targets", nargs="*", metavar="TARGET")
    p.add_argument("--seed", type=int, default=0, help="seed of inputs and upstream gradients")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="dtype of the inputs (the numeric side is always float64)")
    p.add_argument("--tol", type=float, default=None,
                   help="relative tolerance (default 1e-7 for float64, 1e-3 for float32)")
    p.add_argument("--fast", action="store_true", help="directional checks for models")
    p.add_argument("--max-checks", type=int, default=30,
                   help="entries checked per tensor (all of a smaller one; default 30)")
    p.add_argument("--explain", action="store_true", help="a paragraph per failure")
    p.add_argument("--sweep", action="store_true",
                   help="error against step size per gradient: a V when right, a plateau "
                        "when wrong (kink entries left out; --fast: along one direction)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--junit", metavar="PATH", help="write the results as JUnit XML")
    p.add_argument("--selftest", action="store_true",
                   help="check the checker on correct layers and planted bugs")
    return p


def main(argv=None):
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.selftest:
        return run_selftest()
    try:
        targets = [t for spec in args.targets for t in resolve(spec)] or builtin_targets()
    except TargetError as err:
        print(err, file=sys.stderr)
        return 2
    if args.max_checks < 1:
        print(f"gradcheck: --max-checks must be at least 1, got {args.max_checks}",
              file=sys.stderr)
        return 2
    options = {"tol": args.tol, "max_checks": args.max_checks, "sweep": args.sweep}
    results, width = [], max(len(name) for name, _ in targets)
    for name, run in targets:
        lc = run(seed=args.seed, dtype=np.dtype(args.dtype), fast=args.fast, **options)
        lc.name = name
        results.append(lc)
        for r in lc.results:
            print(format_line(name, r, width))
            if args.explain and r.verdict in ("fail", "not_attempted"):
                print("    " + output.explain(name, r))
            if r.sweep:
                print(format_sweep(name, r, width))
    write(args.json, output.to_json(results))
    write(args.junit, output.to_junit(results))
    counts = summarize(results)
    print(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()
                    if n or k in ("passed", "failed")))
    if counts["failed"] or counts["not_attempted"]:
        return 1
    return 3 if counts["inconclusive"] and not (counts["passed"] or counts["kink"]) else 0


def write(path, text):
    if path:
        Path(path).write_text(text)


def run_selftest():
    """Correct built-in layers must pass; every planted bug must be caught."""
    ok = True
    for name, run in builtin_targets():
        lc = run()
        ok &= lc.passed
        print(f"correct  {name:<28} {'pass' if lc.passed else 'FALSE ALARM: ' + lc.verdict}")
    for bug, caught, hint_ok, hint in selftest.run():
        ok &= caught
        mark = "caught" if caught else "MISSED"
        print(f"planted  {bug:<36} {mark:<7} hint: {hint or '-'}{'' if hint_ok else ' (?)'}")
    print("selftest " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1
