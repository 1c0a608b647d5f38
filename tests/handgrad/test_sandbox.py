"""The sandbox: limits for a child's whole process tree, output cap, isolation, safe reads."""

import os
import socket
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

from handgrad.coursework import sandbox

LEVEL = sandbox.level()  # $HANDGRAD_SANDBOX picks a weaker level for a second run
needs_cgroup = pytest.mark.skipif(not sandbox.Group.available(), reason="no writable cgroup")


def _isolating():
    """The levels that isolate the child's view, each skipped where this machine lacks it."""
    for name in ("bubblewrap", "unshare"):
        try:
            yield pytest.param(sandbox.level(name), id=name)
        except sandbox.SandboxError as err:
            yield pytest.param(name, id=name, marks=pytest.mark.skip(reason=str(err)))


isolating = pytest.mark.parametrize("level", list(_isolating()))


def _run(tmp_path, body, limits=None, level=LEVEL, tree=None):
    """Run a child.py made of body (TREE and OUT are its arguments) and return the Run."""
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    head = ("import os, sys, time\nfrom pathlib import Path\n"
            "TREE, OUT = Path(sys.argv[1]), Path(sys.argv[2])\n"
            "def beat(line):\n    os.write(int(os.environ['HANDGRAD_BEAT_FD']), "
            "(line + '\\n').encode())\n")
    (program / "child.py").write_text(head + textwrap.dedent(body))
    if tree is None:
        tree = tmp_path / "tree"
        tree.mkdir(exist_ok=True)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return sandbox.run(program, tree, out, limits or sandbox.Limits(wall=20), level), out


def test_a_child_hands_back_arrays_json_and_heartbeats(tmp_path):
    run, out = _run(tmp_path, """
        sys.path.extend(sys.argv[3:])
        import json
        import numpy as np
        beat("ready")
        np.savez(OUT / "a.npz", x=np.arange(3.0))
        (OUT / "r.json").write_text(json.dumps({"ok": [1, 2]}))
        print("hello")
    """)
    assert run.returncode == 0, run.output
    assert run.beats == ["ready"]
    assert run.output == "hello\n"
    assert np.array_equal(sandbox.read_arrays(out, "a.npz")["x"], [0.0, 1.0, 2.0])
    assert sandbox.read_json(out, "r.json") == {"ok": [1, 2]}


def test_output_is_capped_and_the_rest_counted(tmp_path):
    limits = sandbox.Limits(wall=20, output_bytes=1000)
    run, _ = _run(tmp_path, "sys.stdout.write('x' * 3_000_000)\n", limits)
    assert run.returncode == 0
    assert run.output == "x" * 1000
    assert run.dropped == 3_000_000 - 1000


def test_a_silent_child_is_killed_at_the_stage_limit(tmp_path):
    start = time.monotonic()
    run, _ = _run(tmp_path, "beat('ready')\ntime.sleep(60)\n",
                  sandbox.Limits(wall=30, stage=1.0))
    assert run.timed_out
    assert run.beats == ["ready"]
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("hang", [False, True])
@pytest.mark.parametrize("cgroup", [True, False])
def test_a_setsid_daemon_dies_with_its_child(tmp_path, monkeypatch, cgroup, hang):
    """A double-forked, setsid daemon holding stdout neither stretches the run nor outlives it:
    a cgroup finds it, else the PID namespace of bubblewrap or unshare takes it along."""
    if not cgroup:
        if LEVEL == "none":
            pytest.skip("without a cgroup or a PID namespace a daemon can escape (README)")
        monkeypatch.setattr(sandbox.Group, "create", classmethod(lambda cls, *a: None))
    elif not sandbox.Group.available():
        pytest.skip("no writable cgroup")
    run, out = _run(tmp_path, """
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(2)
                (OUT / "late").write_text("the daemon lived on")
                time.sleep(60)
            os._exit(0)
        print("parent done", flush=True)
        time.sleep(30 if HANG else 0)
    """.replace("HANG", str(hang)), sandbox.Limits(wall=1))
    assert run.timed_out == hang
    assert run.seconds < 10
    time.sleep(3)
    assert not (out / "late").exists()


def test_a_wall_time_limit_holds_for_a_busy_child(tmp_path):
    start = time.monotonic()
    run, _ = _run(tmp_path, "while True:\n    beat('busy')\n    time.sleep(0.05)\n",
                  sandbox.Limits(wall=2, stage=1))
    assert run.timed_out
    assert time.monotonic() - start < 10


FORK_BOMB = """
    made = 0
    try:
        for _ in range(1000):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            made += 1
    except OSError:
        pass
    (OUT / "made").write_text(str(made))
"""


@needs_cgroup
def test_a_fork_bomb_meets_the_process_limit(tmp_path):
    run, out = _run(tmp_path, FORK_BOMB, sandbox.Limits(wall=30, processes=20))
    assert run.returncode == 0, run.output
    assert int((out / "made").read_text()) < 20
    assert run.seconds < 20


@needs_cgroup
def test_memory_is_limited_for_the_whole_tree(tmp_path):
    """Four processes of 100 MB each meet a group limit of 200 MB."""
    run, out = _run(tmp_path, """
        for _ in range(3):
            if os.fork() == 0:
                break
        block = bytearray(100 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(3)
        (OUT / f"kept-{os.getpid()}").write_text("1")
    """, sandbox.Limits(wall=30, memory_mb=200))
    assert len(list(out.glob("kept-*"))) < 4
    assert run.memory_hit


def test_the_child_python_is_isolated_from_the_graders_path(tmp_path, monkeypatch):
    """No PYTHONPATH, no editable install: the grader's own packages are not importable."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    run, out = _run(tmp_path, """
        names = []
        for name in ("handgrad", "layers", "gradcheck"):
            try:
                __import__(name)
                names.append(name)
            except ImportError:
                pass
        (OUT / "imported").write_text(",".join(names))
    """)
    assert run.returncode == 0, run.output
    assert (out / "imported").read_text() == ""


@isolating
def test_the_child_sees_only_the_tree_as_an_unprivileged_user(tmp_path, level):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "mine.py").write_text("X = 1\n")
    (tmp_path / "secret.txt").write_text("solution\n")
    here = os.path.dirname(os.path.abspath(__file__))
    run, out = _run(tmp_path, f"""
        import json
        seen = {{
            "uid": os.getuid(),
            "tree": sorted(os.listdir("/submission")),
            "secret": os.path.exists({str(tmp_path / "secret.txt")!r}),
            "tests": os.path.exists({here!r}),
            "cwd": os.getcwd(),
            "others": [int(p) for p in os.listdir("/proc") if p.isdigit()
                       and int(p) not in (1, os.getpid())],
            "root": sorted(os.listdir("/")),
        }}
        for name, path in [("tree", "/submission/new.py"), ("root", "/new"),
                           ("usr", "/usr/new"), ("tmp", "/tmp/new"), ("home", "/home/new")]:
            try:
                open(path, "w").close()
                seen[name + "_writable"] = True
            except OSError:
                seen[name + "_writable"] = False
        (OUT / "seen.json").write_text(json.dumps(seen))
    """, level=level)
    assert run.returncode == 0, run.output
    seen = sandbox.read_json(out, "seen.json")
    uid = seen.pop("uid")
    assert uid != os.getuid()
    assert uid != 0
    if os.geteuid() == 0:  # a real uid of the run's own, not root mapped into a namespace
        assert sandbox.RUN_UIDS[0] <= uid < sum(sandbox.RUN_UIDS)
    else:
        assert uid == sandbox.SANDBOX_UID
    assert seen.pop("others") == []  # the PID namespace: the child, and bubblewrap's init
    interpreter_top = sys.base_prefix.strip("/").split("/")[0]
    assert set(seen.pop("root")) <= {"bin", "dev", "grader", "home", "lib", "lib64", "out",
                                     "proc", "site", "submission", "tmp", "usr", interpreter_top}
    assert seen == {"tree": ["mine.py"], "secret": False, "tests": False, "cwd": "/tmp",
                    "tree_writable": False, "root_writable": False, "usr_writable": False,
                    "tmp_writable": True, "home_writable": True}


@isolating
def test_the_child_has_no_network(tmp_path, level):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        run, out = _run(tmp_path, f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
                (OUT / "net").write_text("connected")
            except OSError as err:
                (OUT / "net").write_text(type(err).__name__)
        """, level=level)
    finally:
        server.close()
    assert run.returncode == 0, run.output
    assert (out / "net").read_text() != "connected"


@isolating
def test_a_root_graders_child_meets_the_process_limit_without_a_cgroup(tmp_path, monkeypatch,
                                                                      level):
    """No cgroup (as in some containers): a root grader's child runs as a uid of its own,
    so RLIMIT_NPROC holds and a fork bomb still meets the process limit."""
    if os.geteuid() != 0:
        pytest.skip("the grader is not root: its child's uid is bubblewrap's 65534 in a user "
                    "namespace, which RLIMIT_NPROC would count with the grader's processes")
    monkeypatch.setattr(sandbox.Group, "create", classmethod(lambda cls, *a: None))
    run, out = _run(tmp_path, FORK_BOMB, sandbox.Limits(wall=30, processes=20), level=level)
    assert run.returncode == 0, run.output
    assert int((out / "made").read_text()) < 20


@isolating
def test_a_tree_others_cannot_read_is_named(tmp_path, level):
    """A root grader's child is another uid: an unreadable file is named, not a puzzle."""
    if os.geteuid() != 0:
        pytest.skip("the grader is not root: its child reads what the grader can")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "hidden.py").write_text("X = 1\n")
    (tmp_path / "tree" / "hidden.py").chmod(0o600)
    with pytest.raises(sandbox.SandboxError, match=r"hidden\.py is not readable by others"):
        _run(tmp_path, "pass\n", level=level)


def test_reads_refuse_links_fifos_and_large_files(tmp_path):
    (tmp_path / "real.json").write_text('{"a": 1}')
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_text("[" + "1," * 1000 + "1]")
    assert sandbox.read_json(tmp_path, "real.json") == {"a": 1}
    assert sandbox.read_json(tmp_path, "link.json") is None
    assert sandbox.read_json(tmp_path, "fifo.json") is None
    assert sandbox.read_json(tmp_path, "big.json", limit=100) is None
    assert sandbox.read_json(tmp_path, "missing.json") is None


def test_arrays_with_pickles_are_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    np.savez(tmp_path / "ok.npz", x=np.ones(2))
    assert sandbox.read_arrays(tmp_path, "obj.npz") is None
    assert np.array_equal(sandbox.read_arrays(tmp_path, "ok.npz")["x"], [1.0, 1.0])


def test_level_names_what_is_required(monkeypatch):
    monkeypatch.setattr(sandbox, "BWRAP", "/nonexistent/bwrap")
    with pytest.raises(sandbox.SandboxError, match="bubblewrap is required"):
        sandbox.level("auto", require=True)
    with pytest.raises(ValueError, match="expected auto or one of"):
        sandbox.level("docker")
    assert sandbox.level("none") == "none"
    assert sandbox.describe("none").startswith("isolation: none (")


def test_an_array_header_that_lies_about_its_size_is_refused(tmp_path):
    """A .npy header declaring 10**11 numbers over 16 bytes is never allocated."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 16
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as zf:
        zf.writestr("dx.npy", npy)
    np.savez(tmp_path / "text.npz", dx=np.array(["not a number"]))
    assert sandbox.read_arrays(tmp_path, "bomb.npz") is None
    assert sandbox.read_arrays(tmp_path, "text.npz") is None


@pytest.mark.parametrize("level", [*_isolating(), "none"])
def test_a_killed_grader_takes_its_child_along(tmp_path, level):
    """SIGKILL to the grader (no finally runs): the child dies with it, at every level."""
    program = tmp_path / "program"
    program.mkdir()
    (program / "child.py").write_text(
        "import sys, time\nfrom pathlib import Path\ntime.sleep(3)\n"
        "(Path(sys.argv[2]) / 'late').write_text('the child lived on')\n")
    (tmp_path / "tree").mkdir()
    (tmp_path / "out").mkdir()
    grader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from handgrad.coursework import sandbox
        folder = Path({str(tmp_path)!r})
        sandbox.run(folder / "program", folder / "tree", folder / "out",
                    sandbox.Limits(wall=30), {level!r})
    """)])
    time.sleep(1.5)
    grader.kill()
    grader.wait()
    time.sleep(3)
    assert not (tmp_path / "out" / "late").exists()
