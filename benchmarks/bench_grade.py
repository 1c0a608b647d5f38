"""Time `handgrad grade` on this repository's course under each isolation level.

Two submissions, each graded by the command in a fresh process (start-up, the
reference run, every blank's tree, every sandboxed child, results written):
    solution   this repository itself: every test passes (full marks)
    release    the pristine student release: every blank raises NotImplementedError
at --jobs 2 (default), under every isolation level this machine gives
(bubblewrap, unshare, none). The runs go round robin over the cases (one
warm-up round, then --repeats timed rounds), so a change of the machine's load
hits every level alike; the load average is printed before and after. Prints
wall seconds (median and max), the score, and the ratio to the level `none`
(the same children with no namespaces). Target: the full solution graded in
under 10 s with the sandbox (bubblewrap) at --jobs 2.

Usage:
    python benchmarks/bench_grade.py [--repeats 3] [--jobs 2] [--levels bubblewrap,none]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handgrad.coursework import build, sandbox, spec

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs, median kept (3)")
    parser.add_argument("--jobs", type=int, default=2, help="grade --jobs (2)")
    parser.add_argument("--levels", default=",".join(sandbox.LEVELS),
                        help="isolation levels to time (default: all this machine gives)")
    return parser.parse_args(argv)


def available(name):
    try:
        return sandbox.level(name) == name
    except sandbox.SandboxError:
        return False


def grade_once(submission, level, jobs, workdir):
    """Wall seconds and score of one `handgrad grade` run in a new process."""
    out = Path(tempfile.mkdtemp(dir=workdir))
    cmd = [sys.executable, "-m", "handgrad", "grade", str(submission), "--solution", str(ROOT),
           "--out", str(out), "--jobs", str(jobs), "--sandbox", level]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    results = out / "results.json"
    if done.returncode not in (0, 1) or not results.is_file():
        raise SystemExit(f"bench_grade: grade exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds, json.loads(results.read_text())["score"]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    course = spec.load(ROOT)
    best = sum(t.max_score for t in course.tests)
    levels = [name for name in args.levels.split(",") if name and available(name)]
    missing = [name for name in args.levels.split(",") if name and name not in levels]
    print(f"repeats: {args.repeats}, jobs: {args.jobs}, cores: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.1f}, "
          f"course: {len(course.tests)} tests, {best:g} points")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as workdir:
        release = Path(workdir) / "release"
        build.write(build.build(course), release)
        cases = [(level, name, submission) for level in levels
                 for name, submission in (("solution", ROOT), ("release", release))]
        times, scores = {case[:2]: [] for case in cases}, {}
        for repeat in range(args.repeats + 1):  # round robin, so load drift hits every case
            for level, name, submission in cases:
                seconds, scores[level, name] = grade_once(submission, level, args.jobs, workdir)
                if repeat:  # the first round warms caches
                    times[level, name].append(seconds)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"{'level':<12}{'submission':<12}{'median s':>10}{'max s':>9}{'score':>8}"
          f"{'vs none':>9}")
    for (level, name), seconds in times.items():
        median = statistics.median(seconds)
        base = times.get(("none", name))
        ratio = median / statistics.median(base) if base else float("nan")
        print(f"{level:<12}{name:<12}{median:>10.2f}{max(seconds):>9.2f}"
              f"{scores[level, name]:>8g}{ratio:>9.2f}")
    for name in missing:
        print(f"{name:<12}not available on this machine")
    print(f"target: the solution under bubblewrap in < {TARGET_SECONDS:g} s at --jobs 2")


if __name__ == "__main__":
    main()
