"""The answer scan: does the release ship a function that computes a blank's answer?

Run by release verification, in a child process per blank, on that blank's isolated
tree of the written release: the solution's code in every other blank (what a student's
call reaches at grading time), this blank raising, and the functions it forbids disabled
(forbid.py). Every function of the course's packages whose signature accepts the blank's
test inputs is called on them, the way the test calls the blank:

- layer (gradients): backward(dout, cache) with the test forward's cache, and with the
  cache of every shipped forward that accepts the forward's inputs (a fast forward and its
  backward, say); layer ("out"): forward(*inputs)
- loss: f(*inputs) -> (loss, dx); update: f(w, dw, config), step after step

A function that reproduces any scored output of the blank's reference (within the test's
tolerance) is reported. Model tests (a class and its loss) are not scanned.
"""

import copy
import importlib
import inspect
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from gradcheck import rel_error

from . import child, spec
from . import inputs as inputs_mod


def _functions(course, tree):
    """[(qualified name, function)] defined in the modules of the course's packages."""
    found = {}
    for package in course.packages:
        for path in sorted((Path(tree) / package).rglob("*.py")):
            parts = path.relative_to(tree).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            try:
                module = importlib.import_module(name)
            except Exception:  # a module that does not import ships nothing
                continue
            for attr, fn in inspect.getmembers(module, inspect.isfunction):
                if fn.__module__ == name:
                    found[f"{name}.{attr}"] = fn
    return sorted(found.items())


def _call(fn, *args):
    """fn(*args) on copies, or None when it does not accept them or raises."""
    try:
        inspect.signature(fn).bind(*args)
    except (TypeError, ValueError):
        return None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*copy.deepcopy(args))
    except Exception:
        return None


def _tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _context(test, functions):
    """A layer test's inputs, upstream gradient, and the caches a backward may be given:
    the test forward's, and every shipped forward's that accepts its inputs."""
    args = inputs_mod.build(test.inputs, test.seed)
    if "out" in test.points:
        return args, None, []
    out, cache = child.resolve(test.target["forward"])(*copy.deepcopy(args))
    caches = [("", cache)]
    for name, forward in functions:
        got = _call(forward, *args)
        if isinstance(got, tuple) and len(got) == 2 and np.shape(got[0]) == np.shape(out):
            caches.append((f" after {name}", got[1]))
    return args, child.upstream(out, test.seed), caches


def _layer(test, fn, context):
    args, dout, caches = context
    if "out" in test.points:
        yield "", {"out": _tuple(_call(fn, *args))[0]}
    for how, cache in caches:
        grads = _call(fn, dout, cache)
        if grads is not None:
            yield how, dict(zip(test.grads, _tuple(grads), strict=False))


def _loss(test, fn, context):
    got = _call(fn, *inputs_mod.build(test.inputs, test.seed))
    if isinstance(got, tuple) and len(got) == 2:
        yield "", dict(zip(["loss", (test.grads or ("dx",))[0]], got, strict=True))


def _update(test, fn, context):
    w, dw = inputs_mod.build(test.inputs, test.seed)
    config = dict(test.target.get("config", {}))
    for _ in range(int(test.target.get("steps", 3))):
        got = _call(fn, w, dw, config)
        if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict)):
            return
        w, config = got
    yield "", {**config, "next_w": w}


CALLS = {"layer": _layer, "loss": _loss, "update": _update}


def _same(value, expected, tol):
    try:
        value, expected = np.asarray(value, dtype=np.float64), np.asarray(expected, np.float64)
    except (TypeError, ValueError):
        return False
    return (value.shape == expected.shape and bool(np.all(np.isfinite(value)))
            and (value.size == 0 or rel_error(value, expected) <= tol))


def scan(solution, tree, blank, refdir, result):
    """Child job: write [{function, test, outputs}] of every shipped function that reproduces
    a scored output of one of the blank's tests."""
    course = spec.load(solution)
    sys.path.insert(0, str(Path(tree).resolve()))
    functions = _functions(course, tree)
    found = []
    for index, test in enumerate(course.tests):
        if test.blank != blank or test.kind not in CALLS:
            continue
        with np.load(Path(refdir) / f"{index}.npz", allow_pickle=False) as data:
            expected = {key: data[key] for key in data.files}
        context = _context(test, functions) if test.kind == "layer" else None
        for name, fn in functions:
            for how, got in CALLS[test.kind](test, fn, context):
                same = [k for k in test.points if k in got and k in expected
                        and _same(got[k], expected[k], test.tol)]
                if same:
                    found.append({"function": name + how, "test": test.name, "outputs": same})
                    break
    Path(result).write_text(json.dumps(found), encoding="utf-8")
    return 0
