"""The teaching notebooks: each one runs top to bottom in fast mode, and is committed clean.

Each notebook ends with an assertion cell, so a wrong number fails here, not just an exception.
The kernel is a separate process: it starts this interpreter (a kernelspec written for the
test), with MPLBACKEND=Agg, HANDGRAD_FAST=1 and notebooks/ as its working directory. Run one by
hand the same way: `cd notebooks && HANDGRAD_FAST=1 jupyter execute 01_backprop_by_hand.ipynb`.
"""

from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_backprop_by_hand",
    "02_fully_connected_nets",
    "03_optimizers",
    "04_batchnorm_dropout",
    "05_convolutional_networks",
    "06_gradient_checking",
    "07_recurrent_networks",
    "08_attention",
]
CELL_TIMEOUT = 180  # seconds per cell; a whole notebook takes well under a minute in fast mode


def _read(path):
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory):
    """A folder holding a kernelspec named python3 that starts the interpreter running pytest."""
    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(root / "kernels" / "python3")
    return root


@pytest.fixture
def kernel_env(monkeypatch, jupyter_path):
    """Environment the kernel inherits: our kernelspec first, headless plots, fast mode.

    One BLAS thread: the notebooks' matrices are small, and on a loaded machine (the test
    suite shares its cores) a multithreaded BLAS makes such products many times slower.
    """
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HANDGRAD_FAST", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def test_every_topic_has_its_notebook():
    assert [path.stem for path in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = _read(path)
    nbformat.validate(nb)
    for index, cell in enumerate(_code_cells(nb)):
        assert cell.outputs == [], f"{path.name}: code cell {index} has outputs"
        assert cell.execution_count is None, f"{path.name}: code cell {index} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_follows_the_teaching_flow(path):
    nb = _read(path)
    title = nb.cells[0]
    assert title.cell_type == "markdown"
    assert all(word in title.source for word in ("forward", "cache", "backward"))
    setup = _code_cells(nb)[0].source
    assert setup.startswith("%load_ext autoreload\n%autoreload 2\n"), "edits to layers/ reload"
    assert "blanks_in_one_line()" in setup, "an unfilled blank prints one line"
    assert "np.random.seed(231)" in setup
    assert 'FAST = os.environ.get("HANDGRAD_FAST") == "1"' in setup
    assert "assert " in _code_cells(nb)[-1].source, "the last code cell must assert the results"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
@pytest.mark.usefixtures("kernel_env")
def test_notebook_runs_top_to_bottom(path):
    nb = _read(path)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute()  # CellExecutionError names the cell of an exception or failed assert
    except CellExecutionError as error:
        if error.ename == "NotImplementedError":  # a coursework blank: "not attempted", not a crash
            raise NotImplementedError(f"{path.name}: {error.evalue}") from error
        raise
    for index, cell in enumerate(_code_cells(nb)):
        for output in cell.outputs:
            text = output.get("text", "") if output.output_type == "stream" else ""
            assert "Warning" not in text, f"{path.name}: code cell {index} warned:\n{text}"
