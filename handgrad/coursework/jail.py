"""The unshare level's jail: what bubblewrap does, in small, for a grader that runs as root.

    HANDGRAD_JAIL=PLAN unshare --mount --net --pid --ipc --uts --fork --kill-child \\
        python -I -S -B -c "$(cat jail.py)" setpriv --reuid=UID ... -- PROGRAM ARG...

(The source and the plan are handed over as text and in the environment, never as a
path: /proc/1/cmdline, which the child can read, names no folder of the grader's.)

This runs as root inside the new namespaces (the init of the new PID namespace, in a
private mount namespace) and never reads the graded tree. It builds a new root on a
small tmpfs: PLAN's "ro" folders bound read-only (/usr, the interpreter, its
site-packages, the grader's program, the graded tree), its "rw" folders bound
writable (the child's output folder), its "links" as symbolic links, a /proc of the
new PID namespace, a /dev of null, zero, full, random and urandom, and private tmpfs
at /tmp and /home. The old root is detached (pivot_root) and the new one made
read-only; then the command runs as this process's child: setpriv, which
drops every privilege for the run's own uid before it executes the child
(sandbox.view), while this process stays the namespace's init (see init).

PLAN is JSON: {"root": an empty folder to mount the new root on, "tmp_mb": int,
"cwd": str, "ro": [[source, target], ...], "rw": [[source, target], ...],
"links": [[points_to, target], ...]}.
A failure exits 125 with one line on stderr, before anything of the command runs.
"""

import ctypes
import json
import os
import platform
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _bytes(text):
    return None if text is None else os.fsencode(text)


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(_bytes(source), _bytes(target), _bytes(fstype), ctypes.c_ulong(flags),
                       _bytes(data)), f"mount {target}")


def _bind(source, target, flags):
    """Bind source at target (a file or a folder, made here), then apply the mount flags."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND)
    _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_NOSUID | flags)


def _tmpfs(target, size_mb):
    os.makedirs(target, exist_ok=True)
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=1777")


def build_root(plan):
    """Mount the new root at plan["root"] with everything the child may see."""
    root = plan["root"]

    def inside(path):
        return os.path.join(root, path.lstrip("/"))

    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for source, target in plan["ro"]:
        _bind(source, inside(target), MS_RDONLY | MS_NODEV)
    for source, target in plan["rw"]:
        _bind(source, inside(target), MS_NODEV | MS_NOEXEC)
    for points_to, target in plan["links"]:
        os.symlink(points_to, inside(target))
    for name in DEVICES:
        _bind(f"/dev/{name}", inside(f"/dev/{name}"), MS_NOEXEC)
    os.makedirs(inside("/proc"))
    _mount("proc", inside("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _tmpfs(inside("/tmp"), plan["tmp_mb"])
    _tmpfs(inside("/home"), plan["tmp_mb"])


def enter_root(root):
    """Make root the root of this mount namespace and detach the old one (pivot_root(2))."""
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: no system call number known for {platform.machine()}")
    os.chdir(root)
    _check(_libc.syscall(number, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def main(argv):
    plan, program = json.loads(os.environ.pop("HANDGRAD_JAIL")), argv[1:]
    os.umask(0o022)  # the folders made for the view: readable by the child's uid
    try:
        build_root(plan)
        enter_root(plan["root"])
        os.chdir(plan["cwd"])
    except (OSError, KeyError, TypeError) as err:
        print(f"jail: {err}", file=sys.stderr)
        return 125
    return init(program)


def init(program):
    """Stay the namespace's init, as bubblewrap's does: start program, reap every orphan,
    and exit with program's status. The child's change of uid clears its own death signal;
    this process keeps unshare's, and the kernel kills the namespace when its init dies."""
    child = os.fork()
    if child == 0:
        os.execv(program[0], program)
    while True:
        pid, status = os.wait()
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code  # killed by signal n: 128 + n


if __name__ == "__main__":
    sys.exit(main(sys.argv))
