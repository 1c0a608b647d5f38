"""Proof before a release is written, verification after.

prove: the public and hidden tests pass on the solution tree.
verify: in the written release every .py compiles, no solution line leaked
(line hashes), no function it ships computes a blank's answer unless the blank
forbids it (answers.py), the public tests fail only where a blank raises (not
attempted, never an import or collection error), and each notebook runs until
its first blank (or to its end).
"""

import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from functools import partial
from pathlib import Path

import numpy as np

from . import answers, build, grader, isolate, runner


def _pytest(tree, paths, timeout, memory_mb):
    """Run pytest on paths inside tree (one process); return its outcomes payload.

    Hypothesis keeps its database in the temporary folder, not in the tree: a
    verified release holds exactly the files that were written.
    """
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "outcomes.json"
        env = {"PYTHONPATH": os.pathsep.join([str(tree), runner.GRADER_ROOT]),
               "HYPOTHESIS_STORAGE_DIRECTORY": str(Path(tmp) / "hypothesis")}
        outcome = runner.run("pytest", tree, result, *paths, cwd=tree, timeout=timeout,
                             memory_mb=memory_mb, env=env)
        if outcome.timed_out:
            return {"exit": None, "outcomes": {}, "log": f"timed out after {timeout} s"}
        if not result.is_file():
            return {"exit": outcome.returncode, "outcomes": {}, "log": outcome.stderr[-3000:]}
        payload = json.loads(result.read_text(encoding="utf-8"))
        payload["log"] = outcome.stdout[-3000:]
        return payload


def _existing(root, paths):
    return [p for p in paths if (Path(root) / p).exists()]


def prove(course, timeout=1800, memory_mb=4096):
    """[] when the public and hidden tests pass on the solution, else the problems."""
    paths = _existing(course.root, [*course.public_tests, course.hidden_tests])
    if not paths:
        return []
    payload = _pytest(course.root, paths, timeout, memory_mb)
    bad = [f"{node}: {status}" for node, (status, _) in payload["outcomes"].items()
           if status not in ("passed", "skipped")]
    if payload["exit"] not in (0, 5) and not bad:
        bad = [f"pytest exited with {payload['exit']}:\n{payload['log']}"]
    return [f"the solution fails a test: {b}" for b in bad]


def verify(release, out, timeout=1800, memory_mb=4096):
    """[] when the written release in out is sound, else the problems.

    The public test run and the notebooks are processes of their own, run side by side.
    """
    out = Path(out).resolve()
    course = release.course
    on_disk = build.read_tree(out, course)
    problems = _compile(on_disk, out)
    problems += [f"solution line leaked: {rel}:{row}"
                 for rel, row in build.leaks(on_disk, release.leak_keys)]
    jobs = [partial(_public_tests, course, out, timeout, memory_mb),
            partial(answer_scan, course, out, timeout, memory_mb)]
    jobs += [partial(_run_notebook, course, out, rel, timeout, memory_mb) for rel in on_disk
             if any(fnmatch(rel, pat) for pat in course.notebooks)]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for found in pool.map(lambda job: job(), jobs):
            problems += found
    return problems


def _public_tests(course, out, timeout, memory_mb):
    """The public tests in the release fail only as 'not attempted' (never import errors)."""
    paths = _existing(out, course.public_tests)
    if not paths:
        return []
    payload = _pytest(out, paths, timeout, memory_mb)
    problems = [f"public test {node} is {status} in the release, not 'not attempted'"
                + (f":\n{text[-1500:]}" if status == "error" else "")
                for node, (status, text) in payload["outcomes"].items()
                if status in ("failed", "error")]
    if payload["exit"] not in (0, 1, 5):
        problems.append(f"public tests: pytest exited with {payload['exit']}:\n{payload['log']}")
    return problems


def answer_scan(course, out, timeout=1800, memory_mb=4096):
    """[] unless a function the release ships reproduces a blank's reference outputs and
    the blank does not forbid it (answers.py; one child process per blank)."""
    graded = sorted({t.blank for t in course.tests
                     if t.blank and t.kind != "pytest" and t.kind in answers.CALLS})
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "ref").mkdir()
        trees = isolate.build_trees(course, out, tmp / "trees").trees
        try:
            with grader.prepare(course.root) as context:
                for index, arrays in context.reference.items():
                    np.savez(tmp / "ref" / f"{index}.npz", **arrays)
        except RuntimeError as err:
            return [f"answer scan: {err}"]
        for blank in graded:
            result = tmp / f"{blank}.json"
            done = runner.run("scan", course.root, trees[blank], blank, tmp / "ref", result,
                              cwd=tmp, timeout=timeout, memory_mb=memory_mb)
            if not result.is_file():
                problems.append(f"answer scan of {blank} did not finish: {done.stderr[-1500:]}")
                continue
            problems += [f"{found['function']} reproduces {', '.join(found['outputs'])} of the "
                         f"test {found['test']!r} of blank {blank}: forbid it in "
                         f"{blank}'s [forbid] list of coursework.toml, or do not ship it"
                         for found in json.loads(result.read_text(encoding="utf-8"))]
    return problems


def _compile(files, out):
    problems = []
    for rel, data in files.items():
        if rel.endswith(".py"):
            try:
                compile(data, str(out / rel), "exec")
            except SyntaxError as err:
                problems.append(f"does not compile: {rel}:{err.lineno}: {err.msg}")
    return problems


def _run_notebook(course, out, rel, timeout, memory_mb):
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "notebook.json"
        env = {"PYTHONPATH": os.pathsep.join([str(out), runner.GRADER_ROOT]),
               **course.notebook_env}
        outcome = runner.run("notebook", out / rel, result, timeout, cwd=out,
                             timeout=timeout, memory_mb=memory_mb, env=env)
        if outcome.timed_out or not result.is_file():
            return [f"notebook {rel} did not finish: {outcome.stderr[-1500:]}"]
        stopped = json.loads(result.read_text(encoding="utf-8"))["stopped"]
    if stopped and stopped["ename"] != "NotImplementedError":
        return [f"notebook {rel} stops at cell {stopped['cell']} with {stopped['ename']}: "
                f"{stopped['evalue']} (before any blank)"]
    return []
