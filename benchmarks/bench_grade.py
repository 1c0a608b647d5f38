"""Time `handgrad grade` on this repository's course under each isolation level.

Two submissions, each graded by the command in a fresh process (start-up, the
reference run, every blank's tree, every sandboxed child, results written):
    solution   this repository itself: every test passes (full marks)
    release    the pristine student release: every blank raises NotImplementedError
at --jobs 2 (default), under every isolation level this machine gives
(bubblewrap, unshare, none). Prints wall seconds (median and max over
repeats, after one warm-up run per submission), the score, the ratio to the
level `none` (the same children with no namespaces), and the CPU seconds of
the whole process tree (less sensitive than wall time to a busy machine; the
load average is printed). Target: the full solution graded in under 10 s with
the sandbox (bubblewrap) at --jobs 2.

Usage:
    python benchmarks/bench_grade.py [--repeats 3] [--jobs 2] [--levels bubblewrap,none]
"""

import argparse
import json
import os
import resource
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


def _cpu():
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grade_once(submission, level, jobs, workdir):
    """Wall seconds, CPU seconds (the whole process tree) and score of one `handgrad grade`
    run in a new process."""
    out = Path(tempfile.mkdtemp(dir=workdir))
    cmd = [sys.executable, "-m", "handgrad", "grade", str(submission), "--solution", str(ROOT),
           "--out", str(out), "--jobs", str(jobs), "--sandbox", level]
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    results = out / "results.json"
    if done.returncode not in (0, 1) or not results.is_file():
        raise SystemExit(f"bench_grade: grade exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds, cpu, json.loads(results.read_text())["score"]


def timed(submission, level, args, workdir):
    """(median s, max s, median CPU s, score) over args.repeats runs after a warm-up run."""
    grade_once(submission, level, args.jobs, workdir)
    runs = [grade_once(submission, level, args.jobs, workdir) for _ in range(args.repeats)]
    times = [seconds for seconds, _, _ in runs]
    cpu = statistics.median(c for _, c, _ in runs)
    return statistics.median(times), max(times), cpu, runs[-1][2]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    course = spec.load(ROOT)
    best = sum(t.max_score for t in course.tests)
    levels = [name for name in args.levels.split(",") if name]
    print(f"repeats: {args.repeats}, jobs: {args.jobs}, cores: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.1f}, "
          f"course: {len(course.tests)} tests, {best:g} points")
    print(f"{'level':<12}{'submission':<12}{'median s':>10}{'max s':>9}{'cpu s':>8}"
          f"{'score':>8}{'vs none':>9}")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as workdir:
        release = Path(workdir) / "release"
        build.write(build.build(course), release)
        base = {}
        for level in sorted(levels, key=lambda name: name != "none"):
            if not available(level):
                print(f"{level:<12}not available on this machine")
                continue
            for name, submission in (("solution", ROOT), ("release", release)):
                median, worst, cpu, score = timed(submission, level, args, workdir)
                if level == "none":
                    base[name] = median
                ratio = median / base[name] if name in base else float("nan")
                print(f"{level:<12}{name:<12}{median:>10.2f}{worst:>9.2f}{cpu:>8.2f}"
                      f"{score:>8g}{ratio:>9.2f}")
    print(f"target: the solution under bubblewrap in < {TARGET_SECONDS:g} s at --jobs 2")


if __name__ == "__main__":
    main()
