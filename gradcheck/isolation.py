"""The door to code someone else wrote: a student's file or module (or the `layers`
package of a student's tree, checked by built-in names) is imported and checked here,
in a child process, one child per file or target, and nowhere else.

The parent (run_isolated) starts `python -m gradcheck.isolation JOB` in a new session
(a Ctrl-C at the terminal reaches the parent only), with one BLAS thread, an
address-space limit, stdin/stdout closed and stderr kept in a temporary file. The
child imports the file under a time limit, runs every check of it under a time limit
each (SIGALRM), and hands back plain data: one JSON line per event on a pipe of its
own, never objects, never an exit code of its own choosing.

    {"start": NAME}                 a check begins
    {"check": LayerCheck.to_dict()}  a check ended (a verdict, whatever the code raised)
    {"error": MESSAGE}               the file cannot be checked (import failed)
    {"error": MESSAGE, "empty": true} it has nothing to check
    {"done": true}

Everything that decides (exit codes, what is printed) is the parent's, in cli.py.
The parent also keeps a deadline of its own: a child silent for longer than the time
limit plus a grace period is killed, and so is a child whose check swallowed the
alarm; a child that ends without "done" (os._exit, a crash) is reported as such.
"""

import importlib
import importlib.util
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRACE = 5.0                      # seconds the parent waits beyond the child's own limit
MEMORY_BYTES = 4 * 2**30         # address-space limit of the child


LIVE = set()                     # children running now, for stop_all


def stop_all():
    """Kill every child still running (the parent was interrupted)."""
    for child in list(LIVE):
        child.kill()


IMPORT_TIMEOUT = "the import did not finish within"    # the start of that error message


class CheckTimeout(BaseException):
    """Raised by the alarm in the child; a BaseException so `except Exception` in the
    checked code cannot swallow it."""


def run_isolated(spec, options, timeout):
    """Yield the records of checking spec: file.py, file.py::NAME, module::Class, a built-in
    name (the `layers` package found first on the path may be a student's), or "" (all).

    options: plain keyword arguments of the checks (seed, dtype name, tol, ...).
    """
    read, write = os.pipe()
    job = json.dumps({"spec": spec, "options": options, "timeout": timeout, "fd": write})
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
               [str(Path(__file__).resolve().parent.parent),
                *filter(None, [os.environ.get("PYTHONPATH")])])}
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-m", "gradcheck.isolation", job],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err, pass_fds=(write,), env=env,
                                 start_new_session=True)
        os.close(write)
        LIVE.add(child)
        try:
            yield from _read(child, read, timeout, err)
        finally:
            os.close(read)
            if child.poll() is None:
                child.kill()
            child.wait()
            LIVE.discard(child)


def _read(child, fd, timeout, err):
    """The child's records; a timeout or an early end becomes a record of its own."""
    buffer, current, done = b"", None, False
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout + GRACE
        while not done:
            if not sel.select(max(0.0, deadline - time.monotonic())):
                child.kill()
                yield _stopped(current, f"did not finish within {timeout:g} s and did not "
                               "stop when asked: an infinite loop that catches every "
                               "exception? (--timeout sets the limit)", "timeout")
                return
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                record = json.loads(line)
                current = record.get("start", None if "check" in record else current)
                done = done or "done" in record
                deadline = time.monotonic() + timeout + GRACE
                yield record
    if not done:
        code = child.wait()
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-1:]
        yield _stopped(current, f"the checking process ended during this check (exit code "
                       f"{code}): os._exit() or a crash in the checked code?"
                       + (f" Last error line: {tail[0]}" if tail else ""), "fail")


def _stopped(current, hint, verdict):
    if current is None:
        return {"error": hint}
    return {"check": {"name": current, "results": [
        {"name": "check", "verdict": verdict, "hint": hint}]}}


# ---- the child ----------------------------------------------------------------------------


def load_file(path):
    """Import a Python file as a module.

    Relative imports (`from ._checks import ...` in a copy of a layers file)
    resolve in the file's own package when its folder is one, else in `layers`.
    """
    path = Path(path)
    in_package = (path.parent / "__init__.py").is_file()
    package = path.parent.name if in_package else "layers"
    name = f"{package}._gradcheck_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    root = path.parent.parent if in_package else path.parent
    sys.path.insert(0, str(root.resolve()))       # the file's package or siblings import
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    return module


def _on_alarm(signum, frame):
    raise CheckTimeout


def _limited(timeout, fn, *args):
    """fn(*args) stopped by CheckTimeout after timeout seconds."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _import(spec, timeout):
    """(module or None, error message): spec's file or module imported under the limit."""
    from .hints import describe_error
    from .targets import names_a_file_or_class
    if not names_a_file_or_class(spec):
        return None, ""                  # built-in names: the layers package, imported later
    path = spec.partition("::")[0]
    is_file = path.endswith(".py")
    try:
        module = _limited(timeout, load_file if is_file else importlib.import_module, path)
    except SyntaxError as err:
        return None, f"{err.filename}:{err.lineno}: SyntaxError: {err.msg}"
    except CheckTimeout as err:
        where = describe_error(err, {path}).removeprefix("raised CheckTimeout")
        return None, (f"{path}: {IMPORT_TIMEOUT} {timeout:g} s{where}: an "
                      "infinite loop at module level? (--timeout sets the limit)")
    except BaseException as err:      # SystemExit, KeyboardInterrupt and the rest: reported
        return None, (f"{path}: import failed: {describe_error(err, {path})}"
                      + (": code at module level runs on import; put it under "
                         "`if __name__ == '__main__':`" if isinstance(
                             err, (SystemExit, KeyboardInterrupt)) else ""))
    return module, ""


def child(job):
    """Import and check job["spec"]; write one JSON line per event on job["fd"]."""
    from .report import GradientCheck, LayerCheck
    from .targets import TargetError, targets_of
    out = os.fdopen(job["fd"], "w")

    def emit(record):
        out.write(json.dumps(record, default=_plain) + "\n")
        out.flush()

    sys.stdout = sys.stderr = open(os.devnull, "w")     # noqa: SIM115 (the checked code's prints)
    sys.path.insert(0, os.getcwd())                      # as `python -m` does
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    spec, timeout = job["spec"], job["timeout"]
    module, error = _import(spec, timeout)
    targets = []
    if error:
        emit({"error": error})
    else:
        try:
            targets = _limited(timeout, targets_of, spec, module)
        except TargetError as err:
            emit({"error": str(err), "empty": True})     # nothing to check in it
        except CheckTimeout:
            emit({"error": f"gradcheck: finding the targets did not finish within "
                           f"{timeout:g} s"})
        except BaseException as err:                    # a student's layers package failing
            emit({"error": f"gradcheck: importing the targets failed: {_raised(err, module)}"})
    for name, run in targets:
        emit({"start": name})
        try:
            lc = _limited(timeout, lambda run=run: run(**job["options"]))
        except CheckTimeout as err:
            lc = LayerCheck(name, results=[GradientCheck("check", "timeout", hint=(
                f"did not finish within {timeout:g} s: an infinite loop? "
                f"{_where(err, module)}(--timeout sets the limit)"))])
        except BaseException as err:   # KeyboardInterrupt, SystemExit, custom: a verdict
            lc = LayerCheck(name, results=[GradientCheck("check", "fail", hint=_raised(
                err, module))])
        lc.name = name
        emit({"check": lc.to_dict()})
    emit({"done": True})


def _plain(value):
    """numpy scalars and tuples in results as plain JSON values."""
    return value.item() if hasattr(value, "item") else str(value)


def _where(err, module):
    from .hints import raised_at
    at = raised_at(err, {getattr(module, "__file__", "")})
    return f"Stopped at {at}. " if at else ""


def _raised(err, module):
    from .hints import describe_error
    return describe_error(err, {getattr(module, "__file__", "")})


if __name__ == "__main__":
    child(json.loads(sys.argv[1]))
