"""The program inside the sandbox: call a tree's functions at fixed inputs, write what they return.

    python -I -S -B child.py TREE OUT SITE...

Reads OUT/job.json and OUT/inputs.npz (written by the grader), imports the
tree's packages, then for each test writes OUT/<index>.npz (every output as a
plain array: a layer's "out" and gradients, a loss's "loss" and "dx", an
update rule's "next_w" and state, a model's "scores", "loss" and grads) and
OUT/<index>.json (the stage that raised, if any, and the numeric gradient
checks of the tree's own functions). A heartbeat line goes to the descriptor
$HANDGRAD_BEAT_FD before and after each test, so the sandbox can time them.

This file runs with the student's code and is as untrusted as it: it decides
nothing. It imports only the standard library, numpy, gradcheck (from its own
folder) and the tree; the grader judges the arrays in its own process.
"""

import importlib
import json
import os
import sys
import traceback
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)


def _setup_path(tree, sites):
    """numpy and gradcheck from the grader's side; then the tree first, the program folder gone."""
    sys.path.extend(sites)
    sys.path.insert(0, HERE)
    import numpy  # noqa: F401

    import gradcheck  # noqa: F401 (imported before the tree can shadow it)

    sys.path.remove(HERE)
    sys.path.insert(0, tree)


class Stage(Exception):
    """A stage of a test raised: what it was, as plain values (see describe)."""

    def __init__(self, report):
        super().__init__(report["stage"])
        self.report = report


def describe(what, err, status="error"):
    """What raised, as plain values: the stage, the exception's type name and message, and
    (file, line, function) of each frame below this file's own; a SyntaxError adds where the
    parser stopped as the innermost frame (its traceback ends in the import machinery). The
    grader decides what of it a student sees (never source lines)."""
    frames = [[f.filename, f.lineno, f.name] for f in traceback.extract_tb(err.__traceback__)
              if f.filename != __file__]
    if isinstance(err, SyntaxError):
        frames.append([str(err.filename), err.lineno, "<module>"])
    return {"status": status, "stage": what, "type": type(err).__name__,
            "message": str(err)[:2000], "frames": frames[-20:]}


def stage(what, fn, *args, **kwargs):
    """Call fn; a NotImplementedError means the blank is not attempted, anything else an error."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        raise Stage(describe(what, err, "not attempted")) from None
    except BaseException as err:  # SystemExit and KeyboardInterrupt cost this test only
        raise Stage(describe(what, err)) from None


def resolve(name):
    """'package.module:attr.attr' -> the object."""
    module, _, attr = name.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def upstream(out, seed):
    """A fixed upstream gradient of out's shape, in out's dtype when that is a float."""
    import numpy as np

    dout = np.random.default_rng(seed + 1).standard_normal(np.shape(out))
    dtype = getattr(out, "dtype", None)
    return dout.astype(dtype) if dtype is not None and dtype.kind == "f" else dout


def _layer(test, args, got):
    import copy

    fwd, bwd = resolve(test["target"]["forward"]), resolve(test["target"]["backward"])
    got["out"], cache = stage("forward", fwd, *copy.deepcopy(args))
    grads = stage("backward", bwd, upstream(got["out"], test["seed"]), cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    got.update(zip(test["grads"], grads, strict=False))


def _loss(test, args, got):
    fn = resolve(test["target"]["function"])
    got["loss"], got[(test["grads"] or ["dx"])[0]] = stage("loss", fn, *args)


def _update(test, args, got):
    fn = resolve(test["target"]["function"])
    w, dw = args
    config = dict(test["target"].get("config", {}))
    for _ in range(int(test["target"].get("steps", 3))):
        w, config = stage("update", fn, w, dw, config)
    got.update(config, next_w=w)


def _model(test, args, got):
    import numpy as np

    cls = resolve(test["target"]["cls"])
    X, y = args
    np.random.seed(test["seed"])  # noqa: NPY002 (weight init uses the global state: the course API)
    model = stage("constructor", cls, **test["target"].get("init", {}))
    got["scores"] = stage("loss(X)", model.loss, X)
    got["loss"], grads = stage("loss(X, y)", model.loss, X, y)
    got.update(grads)


KINDS = {"layer": _layer, "loss": _loss, "update": _update, "model": _model}


def _numeric(test, args):
    """The numeric gradient checks of the tree's own functions: {gradient: plain values}."""
    from gradcheck import check_layer, check_loss

    try:
        if test["kind"] == "layer":
            fwd, bwd = resolve(test["target"]["forward"]), resolve(test["target"]["backward"])
            check = check_layer(fwd, bwd, *args, seed=test["seed"], name=test["name"])
        else:
            check = check_loss(resolve(test["target"]["function"]), *args, seed=test["seed"])
    except BaseException:  # the comparison with the solution already reports the failure
        return {}
    return {r.name: {"verdict": r.verdict, "passed": r.passed, "hint": r.hint,
                     "max_rel_error": float(r.max_rel_error)} for r in check.results}


def _arrays(got):
    """The outputs that are numbers, as arrays; the names of those that are not."""
    import numpy as np

    arrays, invalid = {}, []
    for key, value in got.items():
        try:
            array = np.asarray(value)
        except BaseException:
            array = None
        if array is None or array.dtype.kind not in "biuf":
            invalid.append(str(key))
        else:
            arrays[str(key)] = array
    return arrays, invalid


def evaluate(test, make_args, numeric):
    """Run one test here: (its outputs as arrays, a report of plain values).

    make_args: returns fresh arguments; numeric: also check the gradients numerically.
    """
    got, status = {}, None
    try:
        KINDS[test["kind"]](test, make_args(), got)
    except Stage as failed:
        status = failed.report
    checks = _numeric(test, make_args()) if numeric and test["kind"] in ("layer", "loss") and \
        any(key in got for key in test["grads"]) else {}
    arrays, invalid = _arrays(got)
    return arrays, {"stage": status, "numeric": checks, "invalid": invalid}


def _write(out, index, arrays, report):
    """OUT/<index>.npz and OUT/<index>.json, each appearing whole (a rename) or not at all."""
    import numpy as np

    np.savez(out / f"{index}.tmp.npz", **arrays)
    os.replace(out / f"{index}.tmp.npz", out / f"{index}.npz")
    (out / f"{index}.tmp.json").write_text(json.dumps(report), encoding="utf-8")
    os.replace(out / f"{index}.tmp.json", out / f"{index}.json")


def arguments(test, arrays):
    """Fresh copies of the test's arguments: arrays from inputs.npz, other values from JSON."""
    import copy

    return [arrays[a["array"]].copy() if "array" in a else copy.deepcopy(a["value"])
            for a in test["args"]]


def main(tree, out, *sites):
    out = Path(out)
    beat_fd = int(os.environ["HANDGRAD_BEAT_FD"])

    def beat(line):
        os.write(beat_fd, f"{line}\n".encode())

    _setup_path(tree, sites)
    import numpy as np

    job = json.loads((out / "job.json").read_text(encoding="utf-8"))
    with np.load(out / "inputs.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    try:
        for name in job["modules"]:
            importlib.import_module(name)
    except BaseException as err:
        (out / "import.json").write_text(json.dumps({"error": describe("import", err)}))
        beat("import failed")
        return 0
    beat("ready")
    for test in job["tests"]:
        beat(f"start {test['index']}")
        found = evaluate(test, lambda test=test: arguments(test, arrays), job["numeric"])
        _write(out, test["index"], *found)
        beat(f"done {test['index']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
