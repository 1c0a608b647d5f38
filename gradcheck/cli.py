"""gradcheck [TARGET ...] [options]: numeric gradient checks from the command line.

Exit codes: 0 every check passed (kinks and inconclusive entries allowed),
1 a check failed or was not attempted, 2 usage or import error, 3 nothing
failed but some checks were only inconclusive.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from . import output, selftest
from .recipes import RECIPES
from .report import format_line, summarize
from .targets import TargetError, builtin_targets, load_file, resolve


def parser():
    p = argparse.ArgumentParser(
        prog="gradcheck",
        description="Check hand-written backward passes against numeric gradients.",
        epilog="TARGET: a layer or model name (affine, batchnorm, TwoLayerNet, ...), "
               "path/to/file.py (every pair of a built-in layer in it), file.py::NAME, "
               "or module.path::Class. No target: every built-in layer and model.")
    p.add_argument("targets", nargs="*", metavar="TARGET")
    p.add_argument("--seed", type=int, default=0, help="seed of inputs and upstream gradients")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="dtype of the inputs (the numeric side is always float64)")
    p.add_argument("--tol", type=float, default=None,
                   help="relative tolerance (default 1e-7 for float64, 1e-3 for float32)")
    p.add_argument("--fast", action="store_true", help="directional checks for models")
    p.add_argument("--max-checks", type=int, default=30, help="entries checked per tensor")
    p.add_argument("--explain", action="store_true", help="a paragraph per failure")
    p.add_argument("--sweep", action="store_true", help="error against step size per gradient")
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
    options = {"tol": args.tol, "max_checks": args.max_checks}
    results, width = [], max(len(name) for name, _ in targets)
    for name, run in targets:
        lc = run(seed=args.seed, dtype=np.dtype(args.dtype), fast=args.fast, **options)
        lc.name = name
        results.append(lc)
        for r in lc.results:
            print(format_line(name, r, width))
            if args.explain and r.verdict in ("fail", "not_attempted"):
                print("    " + output.explain(name, r))
    if args.sweep:
        print_sweeps(args.targets, args.seed)
    write(args.json, output.to_json(results))
    write(args.junit, output.to_junit(results))
    counts = summarize(results)
    print(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()
                    if n or k in ("passed", "failed")))
    if counts["failed"] or counts["not_attempted"]:
        return 1
    return 3 if counts["inconclusive"] and not (counts["passed"] or counts["kink"]) else 0


def print_sweeps(targets, seed):
    """Error against step size for the named layers, a file's layers, or every layer."""
    for spec in targets or [r.name for r in RECIPES.values() if r.available()]:
        path, _, member = spec.partition("::")
        module = load_file(path) if path.endswith(".py") else None
        chosen = [RECIPES[spec]] if spec in RECIPES else [
            r for r in RECIPES.values()
            if module is not None and r.available(module) and member in ("", r.name)]
        for recipe in chosen:
            forward, backward = recipe.resolve(module)
            if backward is None:                        # a loss: (loss, dx) as (out, cache)
                backward = lambda dout, dx: dx * dout    # noqa: E731
            for gname, row in output.sweep(forward, backward, recipe.inputs(seed)):
                cells = "  ".join(f"{h:.0e}:{e:.0e}" for h, e in row)
                print(f"sweep {recipe.name:<18} {gname:<7} {cells}")


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
