"""How a student's outputs are judged, in the grader's own process, from plain values.

A graded test names functions, fixed inputs and outputs: a layer's "out" and
its gradients ("dx", "dw", "db"), a loss's "loss" and "dx", an update rule's
"next_w" and state ("velocity", "m", ...), a model's "loss", "scores" and
grads ("W1", ...). The sandboxed child (child.py) calls the functions and hands
back those outputs as arrays, with the stage that raised (if any) and the
numeric gradient checks of the student's own functions.

`judge(test, expected, got, report)` then scores each output apart (partial
credit per gradient): it must match the solution's at the same inputs (the
reference, computed on the solution tree) and, for gradients, agree with the
numeric gradient of the student's own forward. The numeric check can only
cost points: a numeric check alone would pass a wrong forward whose backward
matches it, and the child's own report of it is the student's to forge.
"""

import numpy as np

from gradcheck import rel_error

GRADIENT_KINDS = ("layer", "loss")


def judge(test, expected, got, report):
    """{output name: (outcome, message)} for every point-bearing output of test.

    expected: the solution's arrays; got: the student's arrays (None: none written);
    report: the child's plain values {"stage": [status, text] | None, "numeric": {...},
    "invalid": [names of outputs that were not numbers]}.
    """
    got, report = got or {}, report if isinstance(report, dict) else {}
    stage = report.get("stage")
    numeric = report.get("numeric") if test.kind in GRADIENT_KINDS else None
    numeric = numeric if isinstance(numeric, dict) else {}
    invalid = {str(name) for name in report.get("invalid") or ()}
    verdicts = {}
    for key in test.points:
        if key not in got and stage and key not in invalid:
            verdicts[key] = (str(stage[0]), str(stage[1]))
        elif key in invalid:
            verdicts[key] = ("failed", f"{key} is not an array of numbers")
        else:
            check = numeric.get(key) if key in test.grads else None
            verdicts[key] = _compare(key, got.get(key), expected.get(key), test.tol,
                                     check if isinstance(check, dict) else None)
    return {key: _known(outcome, text) for key, (outcome, text) in verdicts.items()}


def _known(outcome, text):
    """A stage status the child reported, kept to the outcomes a stage can have."""
    return (outcome if outcome in ("not attempted", "error", "failed", "passed") else "error",
            text[:4000])


def _compare(key, value, expected, tol, numeric):
    if value is None:
        return "failed", f"{key}: not returned"
    if expected is None:
        return "error", f"{key}: the solution gives no reference value"
    if value.shape != expected.shape:
        return "failed", f"{key} has shape {value.shape}; expected {expected.shape}"
    if not np.all(np.isfinite(value)):
        return "failed", f"{key} holds non-finite values"
    if expected.dtype == np.float32 and value.dtype != np.float32:
        return "failed", f"{key} has dtype {value.dtype}; expected float32, the inputs' dtype"
    err = rel_error(value.astype(np.float64), expected.astype(np.float64)) if value.size else 0.0
    if err > tol:
        return "failed", (f"{key} differs from the solution: "
                          f"max rel error {err:.1e} (limit {tol:.0e})")
    if numeric is not None and numeric.get("passed") is not True:
        hint = f"; hint: {numeric.get('hint')}" if numeric.get("hint") else ""
        return "failed", (f"{key} matches the solution but not the numeric gradient: "
                          f"{_text(numeric.get('verdict'))}, rel error "
                          f"{_number(numeric.get('max_rel_error'))}{_text(hint)}")
    note = f"; numeric check {_text(numeric.get('verdict'))}" if numeric is not None else ""
    return "passed", f"{key} matches the solution (max rel error {err:.1e}, limit {tol:.0e}){note}"


def _text(value, limit=300):
    return str(value)[:limit]


def _number(value):
    return f"{value:.1e}" if isinstance(value, (int, float)) else "?"
