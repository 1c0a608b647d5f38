"""The door: every process that runs a submission's code is started here, and only here.

    run(program, tree, out, limits, level) -> Run    one sandboxed child, all of it dead after
    read_json(out, name), read_arrays(out, name)     what it left in out, as plain data

The child is `python -I -S PROGRAM/child.py`: no PYTHON* variables, no user or
site .pth files (so an editable install of the instructor's tree is never on
its path), an explicit sys.path of the program folder, the graded tree and the
interpreter's third-party packages. What it hands back is files in its own
output folder (arrays in .npz, read with allow_pickle=False; small JSON of
plain values), heartbeat lines on a pipe, and its output, capped. It decides
nothing: the grader judges those values in its own process.

Isolation levels (`level()` picks the strongest this machine gives):
- bubblewrap: new mount, PID, network, IPC, UTS namespaces; the child sees only
  the interpreter, its site-packages, the program folder (/grader), the tree
  read-only (/submission), its output folder (/out), a small private /tmp and
  $HOME, under a read-only root; it dies with the grader.
- unshare (a grader running as root, without bubblewrap): the same namespaces
  from util-linux unshare, and in them jail.py builds the same view.
- none: its own session only; the child runs as the grader's user.
Under a root grader, the isolating levels start the child as a uid of the run's
own (util-linux setpriv: no capability, no group, no_new_privs), unprivileged
outside the namespaces too, which RLIMIT_NPROC then counts alone; any other
grader's bubblewrap child is uid 65534 of a user namespace.
Every level adds rlimits (file size, open files, CPU time; address space when
no memory cgroup holds the group) and, where the grader may create cgroups
(v1 or v2), a memory and a process-count limit for the whole process tree,
which is also how every descendant is found and killed at the end.
"""

import contextlib
import ctypes
import itertools
import json
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path, PurePosixPath

import numpy as np

LEVELS = ("bubblewrap", "unshare", "none")
MEANING = {
    "bubblewrap": "namespaces: the child sees only the graded tree and the interpreter, "
                  "no network, an unprivileged uid",
    "unshare": "namespaces and a jail: the child sees only the graded tree and the "
               "interpreter, no network, an unprivileged uid",
    "none": "no isolation: the child runs as the grader's user and can read its files",
}
SANDBOX_UID = 65534  # bubblewrap's uid inside its user namespace, for a grader that is not root
RUN_UIDS = (1_000_000, 1_000_000)  # a root grader's children: first uid, how many (one per run)
BWRAP = "/usr/bin/bwrap"
SETPRIV = "/usr/bin/setpriv"
JAIL = Path(__file__).with_name("jail.py")
UNSHARE = ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(RuntimeError):
    """The requested isolation is not available here."""


@dataclass(frozen=True)
class Limits:
    wall: float = 60.0             # seconds for the whole run
    stage: float | None = None     # seconds between two heartbeats (None: only wall)
    memory_mb: int = 2048          # the process tree (cgroup), else each process (RLIMIT_AS)
    processes: int = 64
    file_mb: int = 64              # largest file the child may write
    open_files: int = 256
    output_bytes: int = 64 * 1024  # stdout and stderr kept; the rest is counted and dropped
    tmp_mb: int = 64               # private /tmp and $HOME (bubblewrap)


@dataclass
class Run:
    returncode: int | None         # None: killed at a time limit
    output: str                    # stdout and stderr, the first Limits.output_bytes
    dropped: int                   # bytes of output beyond the cap
    beats: list = field(default_factory=list)  # heartbeat lines, in order
    seconds: float = 0.0
    memory_hit: bool = False       # the cgroup's memory limit was reached

    @property
    def timed_out(self):
        return self.returncode is None


def _works(level_name):
    """True when a child that does nothing runs at that level on this machine."""
    needs = {"bubblewrap": [BWRAP], "unshare": [shutil.which("unshare") or "/-"]}[level_name]
    if os.geteuid() == 0:
        needs.append(SETPRIV)
    elif level_name == "unshare":
        return False  # the jail is built by root, who then drops to another uid
    if not all(os.access(path, os.X_OK) for path in needs):
        return False
    with contextlib.suppress(OSError, subprocess.SubprocessError, SandboxError), \
            tempfile.TemporaryDirectory(prefix="handgrad-probe-") as folder:
        program, out = Path(folder, "program"), Path(folder, "out")
        program.mkdir(mode=0o755)
        out.mkdir()
        (program / "child.py").write_text("")
        (program / "child.py").chmod(0o644)
        return run(program, program, out, Limits(wall=30), level_name).returncode == 0
    return False


def level(requested=None, require=False):
    """The isolation level to use: requested, or for 'auto' the strongest that works here.

    requested: auto, bubblewrap, unshare or none (None: $HANDGRAD_SANDBOX, else auto).
    require: raise SandboxError unless bubblewrap can be used.
    """
    requested = requested or os.environ.get("HANDGRAD_SANDBOX") or "auto"
    if requested not in ("auto", *LEVELS):
        raise ValueError(f"sandbox: level {requested!r}; expected auto or one of {LEVELS}")
    candidates = LEVELS if requested == "auto" else (requested,)
    found = next((name for name in candidates if name == "none" or _works(name)), None)
    if found is None:
        raise SandboxError(f"sandbox: {requested} cannot be used on this machine")
    if require and found != "bubblewrap":
        raise SandboxError(f"sandbox: bubblewrap is required, but the isolation here is {found} "
                           f"({'not installed' if not os.access(BWRAP, os.X_OK) else 'refused'})")
    return found


def describe(name):
    """The one line the grader prints about the isolation in force."""
    if Group.available():
        limits = "memory and process limits per group (cgroup)"
    elif name == "unshare":
        limits = "memory limit per process (rlimit), processes per run (a uid's rlimit)"
    else:
        limits = "memory limit per process (rlimit), no process-count limit for the group"
    return f"isolation: {name} ({MEANING[name]}; {limits})"


# ---- cgroups: one memory + pids group per run, where the grader may create them -------------

class Group:
    """A cgroup (v1 memory + pids, or v2) holding one child's whole process tree."""

    _serial = itertools.count(1)  # next() is atomic: grading threads never share a name

    def __init__(self, dirs):
        self.dirs = dirs

    @staticmethod
    def _bases():
        """{controller: folder of this process's own cgroup} for the controllers we can write
        ("unified": a cgroup v2 folder whose children get memory and pids controllers)."""
        bases = {}
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return bases
        v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if controllers in ("memory", "pids") and not v2:
                folder = Path("/sys/fs/cgroup", controllers, path.lstrip("/"))
            elif not controllers and v2:
                folder = Path("/sys/fs/cgroup", path.lstrip("/"))
                try:
                    enabled = (folder / "cgroup.subtree_control").read_text().split()
                except OSError:
                    continue
                if not {"memory", "pids"} <= set(enabled):
                    continue
                controllers = "unified"
            else:
                continue
            if os.access(folder, os.W_OK):
                bases[controllers] = folder
        return bases

    @classmethod
    def available(cls):
        bases = cls._bases()
        return {"memory", "pids"} <= set(bases) or "unified" in bases

    @classmethod
    def create(cls, memory_mb, processes):
        """A new group with those limits, or None when no cgroup can be created."""
        bases = cls._bases()
        name = f"handgrad-{os.getpid()}-{next(cls._serial)}"
        size = str(int(memory_mb) * 2**20)
        if {"memory", "pids"} <= set(bases):
            settings = {bases["memory"] / name: {"memory.limit_in_bytes": size,
                                                 "memory.memsw.limit_in_bytes": size},
                        bases["pids"] / name: {"pids.max": str(processes)}}
        elif "unified" in bases:
            settings = {bases["unified"] / name: {"memory.max": size, "memory.swap.max": "0",
                                                  "pids.max": str(processes)}}
        else:
            return None
        made = []
        try:
            for folder, values in settings.items():
                folder.mkdir()
                made.append(folder)
                for key, value in values.items():
                    if (folder / key).exists():
                        (folder / key).write_text(value)
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    def join(self):
        """Move the calling process into the group (run in the child before exec)."""
        for folder in self.dirs:
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)

    def pids(self):
        found = set()
        for folder in self.dirs:
            with contextlib.suppress(OSError):
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        return found

    def kill(self, patience=10.0):
        """SIGKILL every process in the group until none is left (new forks included)."""
        end = time.monotonic() + patience
        while (pids := self.pids()) and time.monotonic() < end:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
        return not self.pids()

    def memory_hit(self):
        """True when the memory limit killed a process (v1 oom_control, v2 memory.events)."""
        for folder in self.dirs:
            for name in ("memory.oom_control", "memory.events"):
                with contextlib.suppress(OSError, ValueError):
                    words = (folder / name).read_text().split()
                    counts = dict(zip(words[::2], map(int, words[1::2]), strict=False))
                    if counts.get("oom_kill", 0) > 0:
                        return True
        return False

    def remove(self):
        for folder in self.dirs:
            with contextlib.suppress(OSError):
                folder.rmdir()


# ---- the command line of each level -----------------------------------------------------------

def interpreter():
    """The real interpreter binary (a venv's python is a link to it)."""
    return os.path.realpath(sys.executable)


def site_packages():
    """The folders of the interpreter's third-party packages (the venv's, then the base's)."""
    found = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return [p for p in dict.fromkeys(found) if os.path.isdir(p)]


@dataclass(frozen=True)
class View:
    """What the child sees, the same under bubblewrap and in the unshare level's jail."""

    ro: list                       # [(source, target)]: bound read-only
    rw: list                       # [(source, target)]: bound writable
    links: list                    # [(points_to, target)]: symbolic links
    argv: list                     # the child's command line, in the view's paths

    def folders(self):
        """The folders that hold the targets, outermost first."""
        targets = [PurePosixPath(target) for _, target in [*self.ro, *self.rw]]
        return list(dict.fromkeys(str(parent) for target in targets
                                  for parent in reversed(target.parents) if parent.name))


def view(program, tree, out, uid=None):
    """The View of a run; with uid, the child's first command is setpriv, which drops every
    privilege of a root grader for uid (and gid uid, no other group, no_new_privs)."""
    prefix, sites = sys.base_prefix, site_packages()
    named = [f"/site/{index}" for index in range(len(sites))]
    argv = [interpreter(), "-I", "-S", "-B", "/grader/child.py", "/submission", "/out", *named]
    if uid is not None:
        argv = [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--no-new-privs", "--", *argv]
    return View(ro=[("/usr", "/usr"), (prefix, prefix), (str(program), "/grader"),
                    (str(tree), "/submission"), *zip(sites, named, strict=True)],
                rw=[(str(out), "/out")],
                links=[("usr/lib", "/lib"), ("usr/lib64", "/lib64"), ("usr/bin", "/bin")],
                argv=argv)


def _bwrap_command(program, tree, out, limits, uid, beat_fd):
    """bubblewrap's command line: as root, namespaces but the user's, and setpriv to uid
    (CAP_SETUID and CAP_SETGID kept for it alone); else a user namespace and uid 65534."""
    seen = view(program, tree, out, uid)
    if uid is None:
        cmd = [BWRAP, "--unshare-all", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    else:
        cmd = [BWRAP, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    tmp = ["--perms", "1777", "--size", str(limits.tmp_mb * 2**20), "--tmpfs"]
    cmd += ["--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev",
            *tmp, "/tmp", *tmp, "/home", "--chdir", "/tmp", "--clearenv"]
    for folder in seen.folders():  # made by bubblewrap with mode 0700 when left implicit
        cmd += ["--perms", "0755", "--dir", folder]
    for source, target in seen.ro:
        cmd += ["--ro-bind", source, target]
    for source, target in seen.rw:
        cmd += ["--bind", source, target]
    for points_to, target in seen.links:
        cmd += ["--symlink", points_to, target]
    cmd += ["--remount-ro", "/"]  # the root tmpfs itself: no writable, unsized place
    for key, value in {**_env("/home"), "HANDGRAD_BEAT_FD": str(beat_fd)}.items():
        cmd += ["--setenv", key, value]
    return [*cmd, *seen.argv]


def _jail_command(program, tree, out, limits, uid, root):
    """(command line, plan): unshare's namespaces, then jail.py (as root, inside them) builds
    the view from the plan and starts setpriv, which drops to uid and executes the child."""
    seen = view(program, tree, out, uid)
    plan = {"root": str(root), "tmp_mb": limits.tmp_mb, "cwd": "/tmp", "ro": seen.ro,
            "rw": seen.rw, "links": seen.links}
    return [shutil.which("unshare"), *UNSHARE, interpreter(), "-I", "-S", "-B", "-c",
            JAIL.read_text(encoding="utf-8"), *seen.argv], json.dumps(plan)


def _env(home):
    """The child's whole environment but $HANDGRAD_BEAT_FD (added when the pipe is made)."""
    return {"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _plain_command(program, tree, out):
    return [interpreter(), "-I", "-S", "-B", str(Path(program) / "child.py"), str(tree),
            str(out), *site_packages()]


def _preexec(limits, group, uid):
    def apply():
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a grader killed takes its child along
        if group is not None:
            group.join()
        else:
            size = int(limits.memory_mb) * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        if uid is not None:  # counted from setpriv's change to uid on (root is not counted)
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        file_size = int(limits.file_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = int(limits.wall) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    return apply


# ---- run ----------------------------------------------------------------------------------------

def run(program, tree, out, limits, level_name):
    """Run PROGRAM/child.py TREE OUT SITES... in the sandbox; return the Run once all of it is dead.

    program: a folder holding child.py and what it imports besides numpy (read-only inside)
    tree: the graded tree (read-only inside, as /submission); out: a folder only the grader
    made, the child's only writable place outside its private /tmp (/out inside).
    The child is killed at limits.wall, or when limits.stage seconds pass without a
    heartbeat line on the descriptor named by $HANDGRAD_BEAT_FD.
    """
    with _command(level_name, program, tree, out, limits) as (make_cmd, env, uid):
        return _run(make_cmd, env, out, limits, uid)


_uids = itertools.count()


@contextlib.contextmanager
def _command(level_name, program, tree, out, limits):
    """(make(heartbeat descriptor) -> command line, environment but that descriptor, uid).

    A root grader's child at an isolating level gets a uid of its own (so RLIMIT_NPROC
    counts its processes only; the grader's pid keeps two graders' runs apart), owns out,
    and needs program and tree readable by others. The jail of the unshare level is
    mounted on an empty folder made for the run (in the run's own mount namespace only)."""
    uid = None
    if level_name != "none" and os.geteuid() == 0:
        _check_readable(program, tree)
        first, count = RUN_UIDS
        uid = first + ((os.getpid() << 12) + next(_uids)) % count
        os.chown(out, uid, uid)
    if level_name == "bubblewrap":
        yield (lambda fd: _bwrap_command(program, tree, out, limits, uid, fd)), {}, uid
    elif level_name == "unshare":
        if uid is None:
            raise SandboxError("sandbox: the unshare level needs a grader running as root")
        with tempfile.TemporaryDirectory(prefix="handgrad-jail-") as root:
            cmd, plan = _jail_command(program, tree, out, limits, uid, root)
            yield (lambda fd: cmd), {**_env("/home"), "HANDGRAD_JAIL": plan}, uid
    else:
        yield (lambda fd: _plain_command(program, tree, out)), _env(str(out)), uid


def _check_readable(*folders):
    """Raise SandboxError naming the first folder others may not enter, or Python file they
    may not read (hidden folders left out): a root grader's child is another uid."""
    for folder in folders:
        for where, dirs, files in os.walk(folder):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            paths = [(where, 0o005)] + [(os.path.join(where, name), 0o004)
                                        for name in files if name.endswith(".py")]
            for path, needed in paths:
                if os.stat(path).st_mode & needed != needed:
                    raise SandboxError(f"sandbox: {path} is not readable by others; the child "
                                       "of a root grader runs as an unprivileged uid (chmod -R "
                                       "o+rX it, or grade with umask 022)")


def _run(make_cmd, env, out, limits, uid):
    """Start make_cmd(heartbeat descriptor) in its cgroup and watch it until all of it is dead."""
    beat_read, beat_write = os.pipe()
    cmd = make_cmd(beat_write)
    if env:
        env = {**env, "HANDGRAD_BEAT_FD": str(beat_write)}
    group = Group.create(limits.memory_mb, limits.processes)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, env=env, cwd=out, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                pass_fds=(beat_write,), start_new_session=True,
                                preexec_fn=_preexec(limits, group, uid))
    except BaseException:
        os.close(beat_read)
        os.close(beat_write)
        if group is not None:
            group.remove()
        raise
    os.close(beat_write)
    try:
        result = _watch(proc, beat_read, limits, start)
    finally:
        _end(proc, group)
        os.close(beat_read)
        proc.stdout.close()
    result.memory_hit = group is not None and group.memory_hit()
    if group is not None:
        group.remove()
    result.seconds = time.monotonic() - start
    return result


class _Reader:
    """Output kept up to a cap (the rest counted), heartbeat lines collected."""

    def __init__(self, limits):
        self.limits, self.kept, self.dropped = limits, bytearray(), 0
        self.beats, self.partial = [], b""

    def output(self, chunk):
        room = max(0, self.limits.output_bytes - len(self.kept))
        self.kept += chunk[:room]
        self.dropped += len(chunk) - min(room, len(chunk))

    def beat(self, chunk):
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()[-4096:]
        room = max(0, 10000 - len(self.beats))
        self.beats += [line.decode("utf-8", "replace")[:200] for line in lines[:room]]

    def result(self, returncode):
        return Run(returncode, self.kept.decode("utf-8", "replace"), self.dropped, self.beats)


def _watch(proc, beat_read, limits, start):
    """Read output and heartbeats until the child exits or a time limit passes."""
    reader = _Reader(limits)
    handlers = {proc.stdout.fileno(): reader.output, beat_read: reader.beat}
    for fd in handlers:
        os.set_blocking(fd, False)
    exit_fd = os.pidfd_open(proc.pid)  # readable once the child exits: no wait for a timeout
    try:
        return _wait(proc, reader, handlers, exit_fd, beat_read, limits, start)
    finally:
        os.close(exit_fd)


def _wait(proc, reader, handlers, exit_fd, beat_read, limits, start):
    """The loop of _watch: select on the pipes and the child's exit until done or late."""
    last_beat, exited_at = start, None
    while True:
        now = time.monotonic()
        deadline = start + limits.wall
        if limits.stage is not None:
            deadline = min(deadline, last_beat + limits.stage)
        if now >= deadline and exited_at is None:
            return reader.result(None)
        if exited_at is None and proc.poll() is not None:
            exited_at = now  # drain what is written; a daemon holding a pipe is not waited for
        if exited_at is not None and (not handlers or now - exited_at > 0.2):
            break
        wait = 0.05 if exited_at is not None else min(0.5, deadline - now)
        watched = [*handlers, exit_fd] if exited_at is None else list(handlers)
        ready, _, _ = select.select(watched, [], [], max(0.0, wait))
        if not ready and exited_at is not None:
            break
        for fd in (fd for fd in ready if fd != exit_fd):
            chunk = os.read(fd, 65536)
            if not chunk:
                del handlers[fd]
                continue
            handlers[fd](chunk)
            if fd == beat_read:
                last_beat = time.monotonic()
    proc.wait()
    return reader.result(proc.returncode)


def _children(pid):
    """The pids whose parent is pid (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
    return found


def _gone(pid):
    """True when pid has exited (gone, or a zombie nobody reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except (OSError, IndexError):
        return True


def _end(proc, group, patience=10.0):
    """Kill the child's whole tree (cgroup, session, namespace) and reap the child.

    bubblewrap and unshare run the child as the init of a PID namespace, a child of
    their own: killed with them, it takes every process of the namespace with it; it
    is waited for here, so that nothing of the run is alive when this returns."""
    inits = _children(proc.pid) if proc.poll() is None else []
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill,
                   *(lambda pid=pid: os.kill(pid, signal.SIGKILL) for pid in inits)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            target()
    proc.wait()
    end = time.monotonic() + patience
    while not all(map(_gone, inits)) and time.monotonic() < end:
        time.sleep(0.01)
    if group is not None and not group.kill():
        raise RuntimeError("sandbox: a child's processes could not be killed")


# ---- what the child left behind, as plain data ----------------------------------------------

def _read(folder, name, limit):
    """The bytes of folder/name: a regular file, never a link, at most limit bytes; else None."""
    try:
        fd = os.open(Path(folder) / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def read_json(folder, name, limit=2**20):
    """Plain JSON values the child wrote (None when missing, too large or malformed)."""
    data = _read(folder, name, limit)
    try:
        return None if data is None else json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def read_arrays(folder, name, limit=64 * 2**20):
    """{key: ndarray} of an .npz the child wrote: plain numbers only (no pickles, no object
    or structured dtypes), each array's header checked against the bytes it really holds,
    all within limit bytes; None when missing, too large or malformed."""
    data = _read(folder, name, limit)
    if data is None:
        return None
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
            if sum(member.file_size for member in members) > limit:
                return None
            arrays = {}
            for member in members:
                if not member.filename.endswith(".npy"):
                    return None
                with archive.open(member) as f:
                    arrays[member.filename[:-4]] = _npy(f, member.file_size)
            return None if any(a is None for a in arrays.values()) else arrays
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, MemoryError):
        return None


def _npy(f, size):
    """One .npy member: its header must describe numbers that fit in the member's size."""
    version = np.lib.format.read_magic(f)
    header = {(1, 0): np.lib.format.read_array_header_1_0,
              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if header is None:
        return None
    shape, fortran, dtype = header(f)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if dtype.kind not in "biuf" or dtype.hasobject or count < 0 or \
            count * dtype.itemsize > size:
        return None
    array = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C").copy()
