"""Run one worker job in a child process with a timeout and a memory limit.

Only for the instructor's own trees (release proof and verification): a
student's code is started by sandbox.py alone.
"""

import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The folder holding the grader's own handgrad package, for children started elsewhere.
GRADER_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class Outcome:
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self):
        return self.returncode is None


def _limits(memory_mb, cpu_seconds):
    def apply():
        size = int(memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        cpu = int(cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    return apply


def child_env(extra=None):
    env = dict(os.environ)
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update(
        PYTHONPATH=os.pathsep.join([*path, GRADER_ROOT]), PYTHONDONTWRITEBYTECODE="1",
        MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
    )
    env.update(extra or {})
    return env


def run(job, *args, cwd, timeout, memory_mb, env=None):
    """python -m handgrad.coursework.worker JOB ARGS, killed (whole group) after timeout s."""
    cmd = [sys.executable, "-m", "handgrad.coursework.worker", job, *map(str, args)]
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, preexec_fn=_limits(memory_mb, timeout),
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Outcome(None, out, err)
    return Outcome(proc.returncode, out, err)
