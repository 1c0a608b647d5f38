"""Time the gradient checker: the whole-library run, a big fast model check, a small full one.

Three wall times, medians over repeats:
    library   the `gradcheck` command with no target (every built-in layer, gate and
              model), called in-process as gradcheck.cli.main([]), output discarded
    fast      check_model(FullyConnectedNet([100, 100], input_dim=3072, num_classes=10,
              dtype=np.float64), X (20, 3072), y, fast=True)    (target: < 2 s)
    full      check_model of a small FullyConnectedNet (12-8-7-4, batchnorm, reg 0.1) on
              6 examples, every entry of every parameter
The fast and full rows also print how many times model.loss was called.

and, with --corpus, the `gradcheck` command over tests/gradcheck/corpus (student-style
files, each in its own process, one at a time) against the corpus manifest, printing
the targets of gradcheck on student code:
    false failures   gradients the manifest says are right but got fail (target 0),
                     and correct files that did not exit 0
    backward bugs    files with a wrong gradient on the default configuration, caught
    latent bugs      files right on the default configuration and wrong in another, caught
    wrong forwards   files whose forward differs from the reference, reported
    stubs            files with a blank, every expected check not_attempted
    NumPy 2          removals named with their replacement
    hostile          files that exit, loop or crash, with the expected exit code
    median s/file    wall time of each file's child process (target < 1 s), and the
                     mean CPU time per file (on a loaded machine the two differ)

Usage:
    python benchmarks/bench_gradcheck.py [--repeats 5] [--threads N] [--corpus]

--threads N re-executes the script with OMP/OPENBLAS/MKL_NUM_THREADS=N before numpy
loads; without it the environment's BLAS threading is used as is. On a shared,
loaded machine small matrix products are much slower with several BLAS threads.
"""

import argparse
import contextlib
import io
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _threads import THREAD_VARS, pin_threads

import models
from gradcheck import check_model
from gradcheck.cli import main as gradcheck_main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs, median kept (5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the environment's)")
    parser.add_argument("--corpus", action="store_true",
                        help="only the run over tests/gradcheck/corpus and its targets")
    return parser.parse_args(argv)


def counted(model):
    """Wrap model.loss to count its calls; returns the list that grows by one per call."""
    calls, loss = [], model.loss

    def loss_counted(X, y=None):
        calls.append(1)
        return loss(X, y)

    model.loss = loss_counted
    return calls


def fast_case():
    np.random.seed(0)  # noqa: NPY002 (models draw weights from the global state)
    model = models.FullyConnectedNet([100, 100], input_dim=3072, num_classes=10,
                                     dtype=np.float64)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3072)), rng.integers(10, size=20)
    calls = counted(model)
    return lambda: check_model(model, X, y, fast=True), calls


def full_case():
    np.random.seed(0)  # noqa: NPY002
    model = models.FullyConnectedNet([8, 7], input_dim=12, num_classes=4, weight_scale=0.3,
                                     reg=0.1, normalization="batchnorm", dtype=np.float64)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 12)), rng.integers(4, size=6)
    calls = counted(model)
    return lambda: check_model(model, X, y), calls


def library():
    with contextlib.redirect_stdout(io.StringIO()):
        code = gradcheck_main([])
    if code != 0:
        raise SystemExit(f"bench_gradcheck: gradcheck on the library exited {code}")


def timed(fn, repeats):
    """Median and max wall seconds of fn over repeats runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if result is not None and not result.passed:
            raise SystemExit(f"bench_gradcheck: {result.name} did not pass:\n{result}")
    return float(np.median(times)), max(times)


CORPUS = Path(__file__).resolve().parent.parent / "tests" / "gradcheck" / "corpus"


def corpus_report():
    """The manifest's files and gradcheck's JSON report over the corpus, one file at a time."""
    manifest = json.loads((CORPUS / "manifest.json").read_text())["files"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            gradcheck_main([str(CORPUS), "--timeout", "3", "--json", str(report)])
        data = json.loads(report.read_text())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / len(
        data["files"])
    files = {Path(f["file"]).name: {**f, "checks": {}} for f in data["files"]}
    for c in data["checks"]:
        files[Path(c["file"]).name]["checks"][f"{c['target']} {c['gradient']}"] = c
    return manifest, files, cpu


def as_expected(expected, got):
    """The file's exit code, its expected verdicts and the words of its hints, as listed."""
    if got is None or got["exit_code"] != expected["exit"]:
        return False
    checks = got["checks"]
    return all(k in checks and checks[k]["verdict"] == v
               for k, v in expected.get("checks", {}).items()) and all(
        k in checks and words in checks[k]["hint"]
        for k, words in expected.get("hints", {}).items()) and (
        expected.get("error", "") in got["error"])


def corpus_figures():
    """Print the corpus targets: false failures, bugs caught, stubs, median time per file."""
    manifest, files, cpu = corpus_report()
    false = [f"{name}: {check}" for name, e in manifest.items()
             for check, verdict in e.get("checks", {}).items()
             if verdict == "pass" and files[name]["checks"][check]["verdict"] != "pass"]
    false += [f"{name}: exit {files[name]['exit_code']}" for name, e in manifest.items()
              if e["kind"] == "correct" and files[name]["exit_code"] != 0]
    print(f"{'corpus':<16}{'as expected':>12}  target")
    print(f"{'false failures':<16}{len(false):>12}  0 {'; '.join(false)}")
    for kind, label in [("correct", "correct files"), ("backward_bug", "backward bugs"),
                        ("latent", "latent bugs"), ("wrong_forward", "wrong forwards"),
                        ("stub", "stubs"), ("numpy2", "NumPy 2"),
                        ("hostile", "hostile"), ("import_error", "no import")]:
        names = [n for n, e in manifest.items() if e["kind"] == kind]
        good = sum(as_expected(manifest[n], files.get(n)) for n in names)
        print(f"{label:<16}{f'{good} of {len(names)}':>12}  all")
    seconds = [f["seconds"] for f in files.values()]
    print(f"{'median s/file':<16}{np.median(seconds):>12.2f}  < 1 s (wall, {len(seconds)} "
          f"files one at a time; max {max(seconds):.2f} s, timeouts of 3 s included)")
    print(f"{'CPU s/file':<16}{cpu:>12.2f}  (mean CPU time of the child processes)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pin_threads(args.threads, __file__, argv)
    if args.corpus:
        corpus_figures()
        return
    threads = {var: os.environ.get(var, "-") for var in THREAD_VARS}
    print(f"repeats: {args.repeats}, cores: {os.cpu_count()}, "
          + ", ".join(f"{k}={v}" for k, v in threads.items()))
    print(f"{'check':<10}{'median s':>10}{'max s':>9}{'loss calls':>12}")
    fast, fast_calls = fast_case()
    full, full_calls = full_case()
    for name, fn, calls, target in [("library", library, None, "< 15 s"),
                                    ("fast", fast, fast_calls, "< 2 s"),
                                    ("full", full, full_calls, "")]:
        median, worst = timed(fn, args.repeats)
        per_run = "-" if calls is None else str(len(calls) // (args.repeats + 1))
        print(f"{name:<10}{median:>10.3f}{worst:>9.3f}{per_run:>12}  {target}")


if __name__ == "__main__":
    main()
