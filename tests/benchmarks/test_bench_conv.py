"""benchmarks/bench_conv.py runs without torch: a note, and nan in the torch columns."""

import importlib
import os
import sys

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks")


def test_bench_conv_without_torch_times_handgrad_only(monkeypatch, capsys):
    monkeypatch.syspath_prepend(BENCHMARKS)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")                      # pinned already: no re-execution
    monkeypatch.setitem(sys.modules, "torch", None)       # import torch raises ImportError
    bench_conv = importlib.import_module("bench_conv")
    monkeypatch.setattr(bench_conv, "CONVS", {"tiny": ((2, 2, 6, 6), (3, 2, 3, 3), 1)})
    assert bench_conv.main(["--threads", "1", "--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "torch is not installed: timing handgrad only"
    rows = [line.split() for line in lines if line.startswith(("conv tiny", "pool tiny"))]
    assert len(rows) == 4                                 # conv and pool, float32 and float64
    assert all(row[4:6] == ["nan", "nan"] for row in rows)   # torch ms and the ratio
    assert all(float(row[3]) > 0 for row in rows)           # handgrad's fast ms
