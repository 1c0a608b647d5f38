"""Grade a synthetic class of the real course: submissions per minute, local and on Dask.

The class is generated from a fresh release of this repository's course (49
points), one submission in turn of each kind:

    right     the solution's code in every guard
    wrong     the solution with one to three blanks mutated (last assignment doubled)
    blank     the release as it is
    crashing  one blank raises, or one blank file fails at import
    hanging   one blank loops forever (costs its test's timeout, --timeout s here)
    cheating  an empty folder, or the release whose layers package exits at import

Three runs, each a `handgrad grade CLASS --jobs 2` process (wall time measured):

    local   --jobs 2: submissions per minute (target >= 20 for the full course), and the
            mean seconds and sandboxed processes per submission of each kind
    dask    --dask local:2, a LocalCluster of 2 worker processes started by the
            command (start-up included): the ratio to local (target within 15 %)
    alone   --alone submissions (default 10, spread over the kinds; `all` for every
            one) graded one at a time with `handgrad grade SUB --single`: each score
            must equal its gradebook row

Usage:
    python benchmarks/bench_class.py [--count 200] [--alone 10] [--timeout 5] [--no-dask]

The course is copied with `timeout` set to --timeout (the course's own is 60 s, which
would make the hanging submissions dominate) and `budget` (seconds for a whole
submission) to --budget; everything else is the course as it is.
"""

import argparse
import csv
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handgrad.coursework import build, classroom, isolate, markers, spec

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("right", "wrong", "blank", "crashing", "hanging", "cheating")
PROCESSES = re.compile(r"(\d+) sandboxed test process")
ASSIGNMENT = re.compile(r"^(?P<indent>\s*)(?P<lhs>[\w\[\]\"', .]+?) = (?P<rhs>[^#]+?)"
                        r"(?P<comment>\s*#.*)?$")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="submissions (200)")
    parser.add_argument("--alone", default="10", help="submissions graded alone (10, or all)")
    parser.add_argument("--timeout", type=float, default=5, help="seconds per test (5)")
    parser.add_argument("--budget", type=float, default=300,
                        help="seconds per submission (300)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask run")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    return parser.parse_args(argv)


def course_copy(dest, timeout, budget):
    """The course's files with coursework.toml's timeout and budget replaced."""
    course = spec.load(ROOT)
    for rel in classroom.course_files(course):
        target = Path(dest) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, target)
    toml = Path(dest) / spec.SPEC_NAME
    text = re.sub(r"(?m)^budget = .*\n", "", toml.read_text())
    text = re.sub(r"(?m)^timeout = .*$", f"timeout = {timeout:g}\nbudget = {budget:g}", text)
    toml.write_text(text)
    return spec.load(dest)


def _indent(body):
    line = next((ln for ln in body if ln.strip()), "    pass\n")
    return line[:len(line) - len(line.lstrip())]


def _mutated(body):
    """The solution body with its last plain assignment doubled."""
    lines = list(body)
    for i in reversed(range(len(lines))):
        found = ASSIGNMENT.match(lines[i].rstrip("\n"))
        if found and not lines[i].lstrip().startswith("#"):
            lines[i] = (f"{found['indent']}{found['lhs']} = 2 * ({found['rhs']})"
                        f"{found['comment'] or ''}\n")
            return tuple(lines)
    return body


def answers_for(kind, solution, rng):
    """{relpath: {blank: body}} to splice, and a note of what was planted."""
    chosen = {rel: dict(bodies) for rel, bodies in solution.items()}
    blanks = [(rel, bid) for rel, bodies in chosen.items() for bid in bodies]
    if kind == "wrong":
        for rel, bid in rng.sample(blanks, rng.randint(1, 3)):
            chosen[rel][bid] = _mutated(chosen[rel][bid])
    elif kind in ("crashing", "hanging"):
        rel, bid = rng.choice(blanks)
        ind = _indent(chosen[rel][bid])
        chosen[rel][bid] = ((f'{ind}raise RuntimeError("off by one somewhere")\n',)
                            if kind == "crashing" else (f"{ind}while True:\n",
                                                        f"{ind}    pass\n"))
    return chosen


def write_submission(dest, kind, release_dir, solution, rng, index):
    if kind == "cheating" and index % 2 == 0:
        dest.mkdir()  # an empty folder: whatever it scores comes from elsewhere
        return
    shutil.copytree(release_dir, dest)
    if kind == "blank":
        return
    if kind == "cheating":
        init = dest / "layers" / "__init__.py"
        init.write_text(init.read_text() + "\nimport os\nos._exit(0)\n")
        return
    for rel, bodies in answers_for(kind, solution, rng).items():
        text, _ = markers.splice((release_dir / rel).read_text(), bodies, rel)
        if kind == "crashing" and index % 2 and rel == "layers/losses.py":
            text = "import_time_failure = 1 / 0\n" + text
        (dest / rel).write_text(text)


def make_class(work, course, count, seed=0):
    release_dir = work / "release"
    build.write(build.build(course), release_dir)
    solution = isolate.solution_blocks(course)
    rng = random.Random(seed)
    folder = work / "class"
    folder.mkdir()
    kinds = {}
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        key = f"s{index:04d}-{kind}"
        write_submission(folder / key, kind, release_dir, solution, rng, index // len(KINDS))
        kinds[key] = kind
    return folder, kinds


def run(args, label):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "handgrad", "grade", *map(str, args)],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    print(f"{label:<7} {seconds:8.1f} s   exit {done.returncode}   {last}")
    return seconds


def gradebook(out):
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["SID"]: row for row in csv.DictReader(handle)}


def mean_of(out, kinds, kind, value):
    """The mean of value(record) over one kind's submissions, from their grading.json."""
    found = [value(json.loads((out / key / "grading.json").read_text()))
             for key in kinds if kinds[key] == kind]
    return sum(found) / max(1, len(found))


def processes(record):
    """The sandboxed test processes a submission took, from its note."""
    found = PROCESSES.search(record.get("note", ""))
    return int(found[1]) if found else 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-class-"))
    work.mkdir(parents=True, exist_ok=True)
    course = course_copy(work / "course", args.timeout, args.budget)
    start = time.perf_counter()
    folder, kinds = make_class(work, course, args.count)
    print(f"{args.count} submissions generated in {time.perf_counter() - start:.1f} s "
          f"({', '.join(f'{sum(k == kind for k in kinds.values())} {kind}' for kind in KINDS)}); "
          f"course timeout {args.timeout:g} s, budget {args.budget:g} s")
    common = ["--solution", work / "course", "--jobs", "2"]
    local = run([folder, "--out", work / "local", *common], "local")
    print(f"        {args.count / local * 60:8.1f} submissions per minute (target >= 20)")
    for what, value in (("seconds", lambda r: r["seconds"]), ("sandboxed processes", processes)):
        print(f"        mean {what} per submission: " + ", ".join(
            f"{kind} {mean_of(work / 'local', kinds, kind, value):.1f}" for kind in KINDS))
    book = gradebook(work / "local")
    if not args.no_dask:
        dask = run([folder, "--out", work / "dask", *common, "--dask", "local:2"], "dask")
        print(f"        dask / local = {dask / local:.2f} (target <= 1.15); gradebooks "
              f"{'equal' if gradebook(work / 'dask') == book else 'DIFFER'}")
    keys = sorted(kinds)
    if args.alone != "all":
        wanted = int(args.alone)
        keys = keys[:: max(1, len(keys) // max(1, wanted))][:wanted]
    mismatched = []
    for key in keys:
        out = work / "alone" / key
        subprocess.run([sys.executable, "-m", "handgrad", "grade", folder / key, "--single",
                        "--solution", work / "course", "--out", out],
                       capture_output=True, check=False)
        score = json.loads((out / "results.json").read_text())["score"]
        if float(book[key]["Total Score"]) != score:
            mismatched.append(f"{key}: gradebook {book[key]['Total Score']}, alone {score:g}")
    print(f"alone   {len(keys)} graded one at a time: "
          f"{len(keys) - len(mismatched)} match the gradebook" +
          "".join(f"\n        MISMATCH {m}" for m in mismatched))
    by_kind = {kind: [float(book[k]["Total Score"]) for k in kinds if kinds[k] == kind]
               for kind in KINDS}
    print("scores  " + "; ".join(f"{kind} {min(v):g}-{max(v):g}" for kind, v in by_kind.items()
                                 if v))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
