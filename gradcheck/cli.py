"""gradcheck [TARGET ...] [options]: numeric gradient checks from the command line.

Every target (a file, each file of a folder, a module::Class, a built-in name, whose
`layers` may be a student's own) is checked in a child process of its own
(gradcheck.isolation), which hands back plain results. This module parses, starts
the checks, prints and decides the exit codes; only --selftest, which checks the
library against planted bugs, runs in this process.
"""

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import output
from .isolation import run_isolated, stop_all
from .recipes import CONVENTIONS
from .report import LayerCheck, format_line, summarize
from .sweep import format_sweep
from .targets import TargetError, builtin_targets, known, names_a_file_or_class

EXIT_CODES = """exit codes: one per file, and for the run 2 if any file's is 2, else 1 if any
file's is 1, else 3 if every file's is 3, else 0:
  0  every check passed; kinks and some inconclusive entries or checks are allowed
     as long as at least one check passed (or was judged a kink)
  1  a check failed, timed out, or was not attempted (a blank: NotImplementedError,
     a function returning None)
  2  usage error, unknown target, or a file that does not import (file and line
     shown; also an import that exits, raises or does not finish in time)
  3  nothing failed, but no check could be judged: every one was inconclusive
     (the numeric side too noisy; try --dtype float64 or other inputs)
  130 interrupted (Ctrl-C)"""


def parser():
    p = argparse.ArgumentParser(
        prog="gradcheck",
        description="Check hand-written backward passes against numeric gradients.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="TARGET: a layer or model name (affine, batchnorm, TwoLayerNet, ...),\n"
               "path/to/file.py (every pair of a built-in layer in it), file.py::NAME,\n"
               "a folder (every .py file beneath it), or module.path::Class.\n"
               "No target: every built-in layer and model.\n\n" + EXIT_CODES)
    p.add_argument("targets", nargs="*", metavar="TARGET")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--seed", type=int, default=0, help="seed of inputs and upstream gradients")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="dtype of the inputs (the numeric side is always float64)")
    p.add_argument("--tol", type=float, default=None,
                   help="relative tolerance (default 1e-7 for float64, 1e-3 for float32)")
    p.add_argument("--fast", action="store_true", help="directional checks for models")
    p.add_argument("--max-checks", type=int, default=30,
                   help="entries checked per tensor (all of a smaller one; default 30)")
    p.add_argument("--convention", choices=CONVENTIONS, default=None,
                   help="at a kink (ReLU at 0, a max tie): any subgradient is right (any), or "
                        "only PyTorch's choice (pytorch: 0 at x = 0, the first maximum); "
                        "default: [course] kink_convention of coursework.toml, else any")
    p.add_argument("--strict", action="store_true",
                   help="side effects (writing into an input, dout or the cache) fail a check "
                        "instead of warning")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds for importing a file and for each layer's check (default 30)")
    p.add_argument("--jobs", type=int, default=1,
                   help="files checked at once, each in its own process (default 1)")
    p.add_argument("--explain", action="store_true",
                   help="a paragraph per failure and per kink")
    p.add_argument("--sweep", action="store_true",
                   help="error against step size per gradient: a V when right, a plateau "
                        "when wrong (kink entries left out; --fast: along one direction)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--junit", metavar="PATH", help="write the results as JUnit XML")
    p.add_argument("--selftest", action="store_true",
                   help="check the checker on correct layers and planted bugs")
    return p


def main(argv=None):
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        stop_all()
        print("gradcheck: interrupted", file=sys.stderr)
        return 130


def _main(argv):
    args = parser().parse_args(argv)
    if args.version:
        from handgrad import __version__
        print(f"gradcheck (handgrad) {__version__}")
        return 0
    if args.selftest:
        return run_selftest()
    try:
        jobs = plan(args.targets)
        convention = args.convention or course_convention()
    except TargetError as err:
        print(err, file=sys.stderr)
        return 2
    bad = [f"{name} must be {bound}, got {value}" for name, value, bound, ok in [
        ("--max-checks", args.max_checks, "at least 1", args.max_checks >= 1),
        ("--timeout", args.timeout, "more than 0 seconds", args.timeout > 0),
        ("--jobs", args.jobs, "at least 1", args.jobs >= 1)] if not ok]
    if bad:
        print(f"gradcheck: {bad[0]}", file=sys.stderr)
        return 2
    options = {"seed": args.seed, "dtype": args.dtype, "fast": args.fast, "tol": args.tol,
               "max_checks": args.max_checks, "sweep": args.sweep, "convention": convention,
               "strict": args.strict}
    files = []                 # (file label, exit code, error, [LayerCheck], seconds)
    for (label, _, in_folder), (checks, error, empty, seconds) in zip(
            jobs, run_jobs([job for _, job, _ in jobs], options, args), strict=True):
        if empty and in_folder:
            continue                        # a helper file in a folder: nothing to check
        for lc in checks:
            lc.file = label
        print_checks(checks, args.explain)
        if error:
            print(error, file=sys.stderr)
        files.append((label, exit_code(checks, error), error, checks, seconds))
    results = [lc for file in files for lc in file[3]]
    write(args.json, output.to_json(results, [(f, c, e, t) for f, c, e, _, t in files]))
    write(args.junit, output.to_junit(results))
    counts = summarize(results)
    if sum(1 for f in files if f[0]) > 1:
        print(output.table(files))
    unread = sum(1 for file in files if file[2] and not file[3])
    print(", ".join([f"{n} {k.replace('_', ' ')}" for k, n in counts.items()
                     if n or k in ("passed", "failed")]
                    + [f"{unread} file{'s' * (unread > 1)} not checked"] * bool(unread)))
    return overall([file[1] for file in files])


def plan(specs):
    """[(file label, job, from a folder)]: job is a list of (name, thunk) of the library's
    own code, or the spec of a file or module to check in a child process. A folder gives
    every .py file beneath it but packages' __init__.py (re-exports of the others);
    TargetError for an unknown or missing target."""
    if not specs:
        return [("", "", False)]
    jobs = []
    for spec in specs:
        path = Path(spec)
        if "::" not in spec and path.is_dir():
            found = sorted(p for p in path.rglob("*.py") if p.name != "__init__.py")
            if not found:
                raise TargetError(f"gradcheck: no .py file in {spec}")
            jobs += [(str(p), str(p), True) for p in found]
        elif names_a_file_or_class(spec):
            file = spec.partition("::")[0]
            if file.endswith(".py") and not Path(file).is_file():
                raise TargetError(f"gradcheck: no such file: {file}")
            jobs.append((file if file.endswith(".py") else "", spec, False))
        else:
            known(spec)
            jobs.append(("", spec, False))
    return jobs


def run_jobs(jobs, options, args):
    """The results of run_job for every job, in order; --jobs files checked at once."""
    with ThreadPoolExecutor(args.jobs) as pool:
        started = [pool.submit(run_job, job, options, args.timeout) for job in jobs]
        try:
            for future in started:
                yield future.result()
        except BaseException:                   # Ctrl-C: no new child, the running ones end
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise


def run_job(spec, options, timeout):
    """([LayerCheck], error message or "", nothing to check, wall seconds) of one target,
    checked in a child process."""
    start = time.perf_counter()
    checks, error, empty = [], "", False
    for record in run_isolated(spec, options, timeout):
        if "check" in record:
            checks.append(LayerCheck.from_dict(record["check"]))
        error = record.get("error", error)
        empty = empty or record.get("empty", False)
    return checks, error, empty, time.perf_counter() - start


def print_checks(checks, explain):
    width = max([26, *(len(lc.label) for lc in checks)])
    for lc in checks:
        for r in lc.results:
            print(format_line(lc.label, r, width))
            for warning in r.warnings:
                print(f"    {warning}")
            if explain and (r.verdict in ("fail", "not_attempted", "timeout") or r.kinks):
                print("    " + output.explain(lc.label, r))
            if r.sweep:
                print(format_sweep(lc.label, r, width))


def exit_code(checks, error):
    """One file's exit code (EXIT_CODES)."""
    if error:
        return 2
    counts = summarize(checks)
    if counts["failed"] or counts["not_attempted"] or counts["timeout"]:
        return 1
    return 3 if counts["inconclusive"] and not (counts["passed"] or counts["kink"]) else 0


def overall(codes):
    """The run's exit code from the files' codes."""
    for code in (2, 1):
        if code in codes:
            return code
    return 3 if codes and all(c == 3 for c in codes) else 0


def course_convention():
    """[course] kink_convention of the coursework.toml in the working folder or above it."""
    from handgrad.coursework.spec import SPEC_NAME, SpecError, load
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / SPEC_NAME).is_file():
            try:
                convention = load(folder).kink_convention
            except SpecError as err:
                raise TargetError(f"gradcheck: {err}") from None
            if convention not in CONVENTIONS:
                raise TargetError(f"gradcheck: {folder / SPEC_NAME}: [course] kink_convention "
                                  f"is {convention!r}; expected one of {CONVENTIONS}")
            return convention
    return "any"


def write(path, text):
    if path:
        Path(path).write_text(text)


def run_selftest():
    """Correct built-in layers must pass; every planted bug must be caught (layers are
    imported in this process only when the self-test is asked for)."""
    from . import selftest
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
