"""The child process of the grader and of release verification (one job per process).

    python -m handgrad.coursework.worker ref SOLUTION OUTDIR
        every non-pytest test's outputs on the solution tree, one OUTDIR/<index>.npz each
    python -m handgrad.coursework.worker test SOLUTION TREE INDEX REFDIR RESULT
        judge test INDEX on the submission TREE against REFDIR; verdicts to RESULT (JSON)
    python -m handgrad.coursework.worker pytest TREE RESULT [pytest args]
        run pytest on TREE's code; one outcome per test to RESULT (JSON)
    python -m handgrad.coursework.worker notebook NOTEBOOK RESULT [TIMEOUT]
        run a notebook until its end or first error (the kernel inherits PYTHONPATH)
    python -m handgrad.coursework.worker scan SOLUTION TREE BLANK REFDIR RESULT
        the release's functions that reproduce a blank's answers (answers.py)

The grader's own modules are imported before TREE goes first on sys.path, so
a submission cannot replace them by shipping its own copies.
"""

import importlib
import json
import sys
import traceback
from pathlib import Path

import numpy as np

from . import answers, checks, markers, spec


def _use_tree(tree):
    sys.path.insert(0, str(Path(tree).resolve()))


def _check_origin(tree, names):
    """Import each module and require that it comes from the tree (not the installed solution)."""
    tree = Path(tree).resolve()
    for name in names:
        module = importlib.import_module(name)
        origin = Path(getattr(module, "__file__", None) or "").resolve()
        if tree not in origin.parents:
            raise ImportError(f"{name} was imported from {origin}, not from the submission {tree}")


def _modules(test):
    named = ("forward", "backward", "function", "cls")
    return [v.partition(":")[0] for k, v in test.target.items() if k in named]


def ref(solution, outdir):
    course = spec.load(solution)
    _use_tree(solution)
    for index, test in enumerate(course.tests):
        if test.kind != "pytest":
            got = checks.outputs(test)
            np.savez(Path(outdir) / f"{index}.npz", **{k: np.asarray(v) for k, v in got.items()})
    return 0


def test(solution, tree, index, refdir, result):
    course = spec.load(solution)
    case = course.tests[int(index)]
    _use_tree(tree)
    try:
        _check_origin(tree, [*course.packages, *_modules(case)])
    except Exception as err:
        text = "".join(traceback.format_exception(err))
        reason = f"the submission does not import:\n{text}"
        verdicts = {key: ("error", reason) for key in case.points}
    else:
        with np.load(Path(refdir) / f"{index}.npz", allow_pickle=False) as data:
            expected = {key: data[key] for key in data.files}
        verdicts = checks.judge(case, expected)
    Path(result).write_text(json.dumps({"verdicts": verdicts}), encoding="utf-8")
    return 0


class Recorder:
    """A pytest plugin that keeps one outcome per test: passed, failed, not attempted, error."""

    def __init__(self):
        self.outcomes = {}

    def pytest_collectreport(self, report):
        if report.failed:
            self.outcomes[report.nodeid or "<collection>"] = ("error", str(report.longrepr))

    def pytest_runtest_logreport(self, report):
        if report.passed and report.when == "call":
            self.outcomes.setdefault(report.nodeid, ("passed", ""))
        elif report.skipped and report.when != "teardown":
            text = str(report.longrepr)  # a blank's skip says "not attempted: implement ..."
            status = "not attempted" if markers.NOT_ATTEMPTED in text else "skipped"
            self.outcomes.setdefault(report.nodeid, (status, text))
        elif report.failed:
            text = str(report.longrepr)
            blank = "NotImplementedError" in text or "not_attempted" in text
            status = "not attempted" if blank else "failed" if report.when == "call" else "error"
            self.outcomes[report.nodeid] = (status, text)


def run_pytest(tree, result, *args):
    import pytest

    _use_tree(tree)
    recorder = Recorder()
    code = pytest.main(["-q", "-p", "no:cacheprovider", *args], plugins=[recorder])
    payload = {"exit": int(code), "outcomes": recorder.outcomes}
    Path(result).write_text(json.dumps(payload), encoding="utf-8")
    return 0


def run_notebook(path, result, timeout="600"):
    """Execute a notebook cell by cell until the end or its first error."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=int(float(timeout)), kernel_name="python3",
                                     resources={"metadata": {"path": str(Path(path).parent)}})
    ran, stopped = 0, None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as err:
                stopped = {"cell": index, "ename": err.ename, "evalue": err.evalue}
                break
            ran += cell.cell_type == "code"
    payload = {"ran": ran, "stopped": stopped}
    Path(result).write_text(json.dumps(payload), encoding="utf-8")
    return 0


JOBS = {"ref": ref, "test": test, "pytest": run_pytest, "notebook": run_notebook,
        "scan": answers.scan}

if __name__ == "__main__":
    sys.exit(JOBS[sys.argv[1]](*sys.argv[2:]))
