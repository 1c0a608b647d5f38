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

import builtins

import numpy as np

from gradcheck import rel_error

GRADIENT_KINDS = ("layer", "loss")
STAGES = ("forward", "backward", "loss", "update", "constructor", "loss(X)", "loss(X, y)",
          "import")
BUILTIN_ERRORS = frozenset(name for name, obj in vars(builtins).items()
                           if isinstance(obj, type) and issubclass(obj, BaseException))
VERDICTS = ("pass", "kink", "inconclusive", "not_attempted", "fail")


def judge(test, expected, got, report, files=None, messages=frozenset()):
    """{output name: (outcome, message)} for every point-bearing output of test.

    expected: the solution's arrays; got: the student's arrays (None: none written);
    report: the child's plain values {"stage": what raised (see raised) | None,
    "numeric": {gradient: check}, "invalid": [names of outputs that were not numbers]};
    files: None when the tree is the student's own (messages may quote it); else the
    course's files, and no free-form text of the child's reaches the message (see raised);
    messages: exception messages the grader itself planted in the tree (shown as they are).
    """
    got, report = got or {}, report if isinstance(report, dict) else {}
    stage = report.get("stage")
    numeric = report.get("numeric") if test.kind in GRADIENT_KINDS else None
    numeric = numeric if isinstance(numeric, dict) else {}
    invalid = report.get("invalid")
    invalid = {str(name) for name in invalid} if isinstance(invalid, list) else set()
    verdicts = {}
    for key in test.points:
        value = got.get(key)
        if key not in got and stage and key not in invalid:
            verdicts[key] = raised(stage, files, messages)
        elif key in invalid or (value is not None and value.dtype.kind not in "biuf"):
            verdicts[key] = ("failed", f"{key} is not an array of numbers")
        else:
            check = numeric.get(key) if key in test.grads else None
            verdicts[key] = _compare(key, value, expected.get(key), test.tol,
                                     check if isinstance(check, dict) else None, files)
    return verdicts


def raised(report, files=None, messages=frozenset()):
    """(outcome, message) for a stage that raised, from the child's plain values.

    files None: the tree is the student's own; the message quotes the exception and its
    frames (file, line, function; never source lines). Otherwise the tree holds other
    blanks' solution code, and the child may have put any of it into a message, a type or
    a function name: the message names only a built-in exception type, the innermost
    frame in one of the course's files (a line number), and the exception's message only
    when it is one of messages (the grader's own words).
    """
    report = report if isinstance(report, dict) else {}
    status = report.get("status") if report.get("status") == "not attempted" else "error"
    what = report.get("stage") if report.get("stage") in STAGES else "the test"
    kind = str(report.get("type"))
    frames = report.get("frames") if isinstance(report.get("frames"), list) else []
    frames = [[str(f[0]), f[1], str(f[2])] for f in frames if isinstance(f, list) and len(f) == 3]
    if files is None:
        where = "".join(f'  File "{f[0]}", line {f[1]}, in {f[2]}\n' for f in frames)
        return status, f"{what} raised {kind}: {report.get('message')}\n{where}"[:4000]
    kind = kind if kind in BUILTIN_ERRORS else "an exception"
    place = next((f" at {f[0].removeprefix('/submission/')}:{f[1]}" for f in reversed(frames)
                  if f[0].removeprefix("/submission/") in files and isinstance(f[1], int)), "")
    message = report.get("message")
    if isinstance(message, str) and message in messages:
        return status, f"{what} raised {kind}{place}: {message}"
    return status, (f"{what} raised {kind}{place} (the message is not shown: the other "
                    "blanks hold the solution's code in this test)")


def _compare(key, value, expected, tol, numeric, files=None):
    if value is None:
        return "failed", f"{key}: not returned"
    if expected is None:
        return "error", f"{key}: the solution gives no reference value"
    if value.shape != expected.shape:
        mine = f" {value.shape}" if files is None else ""
        return "failed", f"{key} has the wrong shape{mine}; expected {expected.shape}"
    if not np.all(np.isfinite(value)):
        return "failed", f"{key} holds non-finite values"
    if expected.dtype == np.float32 and value.dtype != np.float32:
        return "failed", f"{key} has dtype {value.dtype}; expected float32, the inputs' dtype"
    err = rel_error(value.astype(np.float64), expected.astype(np.float64)) if value.size else 0.0
    if err > tol:
        return "failed", (f"{key} differs from the solution: "
                          f"max rel error {err:.1e} (limit {tol:.0e})")
    verdict = numeric.get("verdict") if numeric is not None else None
    verdict = verdict if verdict in VERDICTS else "fail"
    if numeric is not None and (numeric.get("passed") is not True or verdict == "fail"):
        hint = numeric.get("hint") if files is None and numeric.get("hint") else ""
        return "failed", (f"{key} matches the solution but not the numeric gradient: "
                          f"{verdict}, rel error {_number(numeric.get('max_rel_error'))}"
                          + (f"; hint: {str(hint)[:300]}" if hint else ""))
    note = f"; numeric check {verdict}" if numeric is not None else ""
    return "passed", f"{key} matches the solution (max rel error {err:.1e}, limit {tol:.0e}){note}"


def _number(value):
    return f"{value:.1e}" if isinstance(value, (int, float)) else "?"
