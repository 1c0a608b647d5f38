"""The child process of release proof and verification (one job per process).

    python -m handgrad.coursework.worker pytest TREE RESULT [pytest args]
        run pytest on TREE's code; one outcome per test to RESULT (JSON)
    python -m handgrad.coursework.worker notebook NOTEBOOK RESULT [TIMEOUT]
        run a notebook until its end or first error (the kernel inherits PYTHONPATH)
    python -m handgrad.coursework.worker scan SOLUTION TREE BLANK REFDIR RESULT
        the release's functions that reproduce a blank's answers (answers.py)

These run the instructor's solution and the release built from it, never a
student's submission: a submission's code runs only through sandbox.py.
"""

import json
import sys
from pathlib import Path

from . import answers, markers


def _use_tree(tree):
    sys.path.insert(0, str(Path(tree).resolve()))


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


JOBS = {"pytest": run_pytest, "notebook": run_notebook, "scan": answers.scan}

if __name__ == "__main__":
    sys.exit(JOBS[sys.argv[1]](*sys.argv[2:]))
