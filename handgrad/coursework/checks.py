"""What one graded test computes, and how a student's outputs are judged.

`outputs(test)` runs the test's functions at its fixed inputs and returns every
named output: a layer's "out" and its gradients ("dx", "dw", "db"), a loss's
"loss" and "dx", an update rule's "next_w" and state ("velocity", "m", ...), a
model's "loss", "scores" and grads ("W1", ...). It runs once in a process on
the solution tree (the reference) and once in a process on the submission.

`judge(test, ref)` then scores each output apart (partial credit per gradient):
it must match the solution's at the same inputs and, for gradients, agree with
the numeric gradient of the student's own forward. A numeric check alone would
pass a wrong forward whose backward matches it; the solution alone would not
say *why* a gradient is wrong.
"""

import copy
import importlib
import traceback

import numpy as np

from gradcheck import check_layer, check_loss, rel_error

from . import inputs as inputs_mod

GRADIENT_KINDS = ("layer", "loss")


class Stage(Exception):
    """A test stage raised: carries the status ("not attempted" or "error") and the text."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status, self.text = status, text


def resolve(name):
    """'package.module:attr.attr' -> the object."""
    module, _, attr = name.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _call(what, fn):
    """Call fn(); a NotImplementedError means the blank is not attempted."""
    try:
        return fn()
    except NotImplementedError as err:
        raise Stage("not attempted", f"{what} raised NotImplementedError({err})") from err
    except Exception as err:
        text = "".join(traceback.format_exception(err))
        raise Stage("error", f"{what} raised {type(err).__name__}: {err}\n{text}") from err


def _upstream(shape, seed):
    return np.random.default_rng(seed + 1).standard_normal(shape)


def _layer(test, stages, got):
    fwd, bwd = resolve(test.target["forward"]), resolve(test.target["backward"])
    args = inputs_mod.build(test.inputs, test.seed)
    got["out"], cache = stages("forward", fwd, *copy.deepcopy(args))
    grads = stages("backward", bwd, _upstream(np.shape(got["out"]), test.seed), cache)
    got.update(zip(test.grads, _tuple(grads), strict=False))


def _loss(test, stages, got):
    fn = resolve(test.target["function"])
    args = inputs_mod.build(test.inputs, test.seed)
    got["loss"], got[(test.grads or ("dx",))[0]] = stages("loss", fn, *args)


def _update(test, stages, got):
    fn = resolve(test.target["function"])
    w, dw = inputs_mod.build(test.inputs, test.seed)
    config = dict(test.target.get("config", {}))
    for _ in range(int(test.target.get("steps", 3))):
        w, config = stages("update", fn, w, dw, config)
    got.update(config, next_w=w)


def _model(test, stages, got):
    cls = resolve(test.target["cls"])
    X, y = inputs_mod.build(test.inputs, test.seed)
    np.random.seed(test.seed)  # noqa: NPY002 (weight init uses the global state, API.md)
    model = stages("constructor", cls, **test.target.get("init", {}))
    got["scores"] = stages("loss(X)", model.loss, X)
    got["loss"], grads = stages("loss(X, y)", model.loss, X, y)
    got.update(grads)


KINDS = {"layer": _layer, "loss": _loss, "update": _update, "model": _model}


def _tuple(value):
    return value if isinstance(value, tuple) else (value,)


def outputs(test):
    """Reference run: every output of the test; any exception propagates."""
    got = {}
    KINDS[test.kind](test, lambda _what, fn, *args, **kwargs: fn(*args, **kwargs), got)
    return got


def judge(test, ref):
    """Student run: {output name: (status, message)} for every point-bearing output."""
    got, verdicts = {}, {}
    try:
        KINDS[test.kind](test, lambda what, fn, *a, **k: _call(what, lambda: fn(*a, **k)), got)
    except Stage as stage:
        verdicts = {key: (stage.status, stage.text) for key in test.points if key not in got}
    gradients = test.kind in GRADIENT_KINDS and any(key in got for key in test.grads)
    numeric = _numeric(test) if gradients else {}
    for key in test.points:
        if key not in verdicts:
            verdicts[key] = _compare(key, got.get(key), ref.get(key), test.tol, numeric.get(key))
    return verdicts


def _compare(key, value, expected, tol, numeric):
    if value is None:
        return "failed", f"{key}: not returned"
    value, expected = np.asarray(value), np.asarray(expected)
    if value.shape != expected.shape:
        return "failed", f"{key} has shape {value.shape}; expected {expected.shape}"
    if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
        return "failed", f"{key} holds non-finite or non-numeric values (dtype {value.dtype})"
    err = rel_error(value.astype(np.float64), expected.astype(np.float64)) if value.size else 0.0
    if err > tol:
        return "failed", (f"{key} differs from the solution: "
                          f"max rel error {err:.1e} (limit {tol:.0e})")
    if numeric is not None and not numeric.passed:
        hint = f"; hint: {numeric.hint}" if numeric.hint else ""
        return "failed", (f"{key} matches the solution but not the numeric gradient: "
                          f"{numeric.verdict}, rel error {numeric.max_rel_error:.1e}{hint}")
    note = f"; numeric check {numeric.verdict}" if numeric is not None else ""
    return "passed", f"{key} matches the solution (max rel error {err:.1e}, limit {tol:.0e}){note}"


def _numeric(test):
    """The numeric gradient check of the student's own functions, by gradient name."""
    args = inputs_mod.build(test.inputs, test.seed)
    try:
        if test.kind == "layer":
            fwd, bwd = resolve(test.target["forward"]), resolve(test.target["backward"])
            check = check_layer(fwd, bwd, *args, seed=test.seed, name=test.name)
        else:
            check = check_loss(resolve(test.target["function"]), *args, seed=test.seed)
    except Exception:  # the comparison with the solution already reports the failure
        return {}
    return {r.name: r for r in check.results if r.name in test.grads or r.name == "dx"}
