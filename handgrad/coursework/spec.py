"""The course spec, coursework.toml: blanks, points, and what each graded test scores.

    [course]
    public_tests = ["tests"]             # proved on the solution, run on the release
    hidden_tests = "tests/hidden"        # never released; run by the grader
    instructor_only = ["coursework.toml"]  # globs never released
    notebooks = ["notebooks/*.ipynb"]    # released without outputs or solutions
    packages = ["layers"]                # a submission must provide these itself
    timeout = 60                         # seconds per graded test (and for an import)
    memory_mb = 2048                     # memory of a blank's process tree
    budget = 180                         # seconds for a whole submission (default 3 x timeout)
    kink_convention = "any"              # gradcheck at kinks: "any" subgradient, or "pytorch"
    forbid = ["scipy.*"]                 # what no graded blank may reach (see forbid.py)
    student_readme = "STUDENT.md"        # rendered as the release's README.md (readme.py)

    [blanks]
    relu_backward = { file = "layers/activations.py", about = "dx of max(0, x)" }

    [forbid]                             # per blank: functions of the course, modules.*
    relu_backward = ["max_backward"]

    [[tests]]                            # kinds: layer, loss, update, model (pytest: 0 points)
    name = "relu_backward"
    blank = "relu_backward"
    kind = "layer"
    forward = "layers:relu_forward"
    backward = "layers:relu_backward"
    inputs = ["randn(4, 5)"]
    grads = ["dx"]
    points = { dx = 2 }                  # partial credit: one entry per output
    hidden = false                       # hidden tests show after the due date
    case = "kinks"                       # the input class judged: a hidden test's case
                                         # must have a visible test of the same blank

A pytest-kind test may not carry points or be hidden: it runs the student's
code inside the test's own process, where nothing the grader can trust judges
it. Point-bearing tests are declarative (inputs, outputs, comparisons), judged
by the grader from the values the student's code returns.
"""

import fnmatch
import zlib
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

SPEC_NAME = "coursework.toml"
KINDS = ("layer", "loss", "update", "model", "pytest")
# Never part of a course: caches, builds, environments, version control.
JUNK = (".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis",
        ".ipynb_checkpoints", ".venv", "build", "dist", "results", "runs", "*.egg-info")


def is_junk(relpath):
    """True for caches, builds, environments and version control (any part of relpath)."""
    return any(fnmatch.fnmatch(part, pat) for part in relpath.split("/") for pat in JUNK)


class SpecError(ValueError):
    """coursework.toml is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Test:
    """One graded test: a process of its own that scores one or more outputs."""

    name: str
    blank: str
    kind: str
    points: dict  # output name -> points, e.g. {"dx": 2, "dw": 2, "db": 1}
    hidden: bool = False
    target: dict = field(default_factory=dict)  # forward/backward/function/cls/node/...
    inputs: tuple = ()
    grads: tuple = ()
    tol: float = 1e-6
    seed: int = 0
    case: str = ""  # the input class it judges (kinks, float32, ...); see coursework.toml

    @property
    def max_score(self):
        return float(sum(self.points.values()))


@dataclass(frozen=True)
class Course:
    root: Path
    name: str
    blanks: dict  # id -> {"file": relpath, "about": text}
    tests: tuple
    public_tests: tuple = ("tests",)
    hidden_tests: str = "tests/hidden"
    instructor_only: tuple = (SPEC_NAME,)
    notebooks: tuple = ()
    packages: tuple = ()
    notebook_env: dict = field(default_factory=dict)
    forbid: dict = field(default_factory=dict)  # blank id -> names its code may not reach
    timeout: float = 60.0
    memory_mb: int = 2048
    kink_convention: str = "any"
    budget: float | None = None  # None: 3 x timeout
    student_readme: str = ""  # a template rendered as the release's README.md (readme.py)

    @property
    def time_budget(self):
        """Seconds for grading one whole submission."""
        return float(self.budget) if self.budget is not None else 3 * float(self.timeout)

    def is_released(self, relpath):
        """True when relpath (posix, relative to root) belongs in the student version."""
        if is_junk(relpath):
            return False
        if self.student_readme and relpath in (self.student_readme, "README.md"):
            return False  # the release's README.md is rendered from the template instead
        hidden = self.hidden_tests.rstrip("/")
        if relpath == hidden or relpath.startswith(hidden + "/"):
            return False
        return not any(fnmatch.fnmatch(relpath, pat) for pat in self.instructor_only)


def load(root):
    """Read root/coursework.toml into a Course; SpecError names what is wrong."""
    root = Path(root).resolve()
    path = root / SPEC_NAME
    if not path.is_file():
        raise SpecError(f"no {SPEC_NAME} in {root}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: {err}") from err
    course = dict(data.get("course", {}))
    unknown = sorted(set(course) - {"name", "instructor_only", "forbid", *_COURSE_KEYS})
    if unknown:
        raise SpecError(f"{SPEC_NAME}: unknown [course] keys {unknown}")
    blanks = {bid: dict(b) for bid, b in data.get("blanks", {}).items()}
    for bid, blank in blanks.items():
        if "file" not in blank:
            raise SpecError(f"{SPEC_NAME}: blank {bid!r} has no 'file'")
    tests = tuple(_test(t, blanks) for t in data.get("tests", []))
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        twice = sorted(n for n in set(names) if names.count(n) > 1)
        raise SpecError(f"{SPEC_NAME}: test names repeat: {twice}")
    instructor_only = tuple(dict.fromkeys([SPEC_NAME, *course.pop("instructor_only", [])]))
    template = course.get("student_readme", "")
    if template and not (root / template).is_file():
        raise SpecError(f"{SPEC_NAME}: student_readme {template!r} is not a file in {root}")
    return Course(
        root=root, name=course.pop("name", root.name), blanks=blanks, tests=tests,
        instructor_only=instructor_only, forbid=_forbid(course.pop("forbid", []), data, blanks),
        **{k: tuple(v) if isinstance(v, list) else v
           for k, v in course.items() if k in _COURSE_KEYS},
    )


_COURSE_KEYS = ("public_tests", "hidden_tests", "notebooks", "packages", "notebook_env",
                "timeout", "memory_mb", "kink_convention", "budget", "student_readme")
_TARGET_KEYS = ("forward", "backward", "function", "cls", "init", "node", "steps", "config")


def _forbid(common, data, blanks):
    """{blank id: names}: [course] forbid for every blank, then the blank's own [forbid] list."""
    own = dict(data.get("forbid", {}))
    stray = sorted(set(own) - set(blanks))
    if stray:
        raise SpecError(f"{SPEC_NAME}: [forbid] names {stray}, not in [blanks]")
    out = {}
    for bid in blanks:
        names = [*common, *own.get(bid, [])]
        if any(not isinstance(n, str) or not n for n in names):
            raise SpecError(f"{SPEC_NAME}: forbid of blank {bid!r} is {names!r}; "
                            "expected a list of names")
        out[bid] = tuple(dict.fromkeys(names))
    return out


def _test(raw, blanks):
    raw = dict(raw)
    name = raw.get("name")
    if not name:
        raise SpecError(f"{SPEC_NAME}: a [[tests]] entry has no name: {raw}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise SpecError(f"{SPEC_NAME}: test {name!r} has kind {kind!r}; expected one of {KINDS}")
    blank = raw.get("blank", "")
    if blank and blank not in blanks:
        raise SpecError(f"{SPEC_NAME}: test {name!r} scores blank {blank!r}, not in [blanks]")
    points = raw.get("points", 1)
    points = {"passed": points} if not isinstance(points, dict) else dict(points)
    if not points or any(not isinstance(p, (int, float)) or p < 0 for p in points.values()):
        raise SpecError(f"{SPEC_NAME}: test {name!r} has points {points!r}; expected numbers >= 0")
    if kind != "pytest" and "passed" in points:
        raise SpecError(f"{SPEC_NAME}: test {name!r} gives points to no output; name them, "
                        "e.g. points = { dx = 2, dw = 2 }")
    if kind == "pytest" and (raw.get("hidden") or any(points.values())):
        raise SpecError(
            f"{SPEC_NAME}: test {name!r} is a pytest test with points or hidden = true; a pytest "
            "test runs inside the student's process, where the grader cannot judge it: give it "
            "points = 0, or write it as a layer, loss, update or model test (inputs and "
            "outputs, judged by the grader)")
    return Test(
        name=name, blank=blank, kind=kind, points=points, hidden=bool(raw.get("hidden", False)),
        target={k: raw[k] for k in _TARGET_KEYS if k in raw},
        inputs=tuple(raw.get("inputs", ())), grads=tuple(raw.get("grads", ())),
        tol=float(raw.get("tol", 1e-6)), case=str(raw.get("case", "")),
        seed=int(raw.get("seed", zlib.crc32(name.encode()) % 2**31)),
    )
