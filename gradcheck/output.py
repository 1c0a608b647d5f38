"""Reports of a gradcheck run: JSON, JUnit XML, plain-language explanations, step sweeps.

JSON schema:
    {"checks": [{"target", "gradient", "verdict", "max_rel_error", "max_abs_error",
                 "tolerance", "checked", "failed", "kinks", "inconclusive", "hint",
                 "notes", "worst": [{"index", "value", "analytic", "numeric",
                                     "rel_error", "status"}]}],
     "summary": {"passed", "failed", "inconclusive", "kink", "not_attempted"}}
"""

import json
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .check import gradient_slots
from .numeric import eval_numerical_gradient_array, rel_error
from .report import summarize


def checks_of(layer_checks):
    for lc in layer_checks:
        for r in lc.results:
            yield lc.name, r


def to_json(layer_checks):
    checks = [{"target": target, "gradient": r.name, "verdict": r.verdict,
               "max_rel_error": r.max_rel_error, "max_abs_error": r.max_abs_error,
               "tolerance": r.tolerance, "checked": r.checked, "failed": r.failed,
               "kinks": r.kinks, "inconclusive": r.inconclusive, "hint": r.hint,
               "notes": r.notes, "worst": r.worst}
              for target, r in checks_of(layer_checks)]
    return json.dumps({"checks": checks, "summary": summarize(layer_checks)}, indent=2)


def to_junit(layer_checks):
    """One testcase per check; fail and not_attempted are failures, the rest pass."""
    cases = []
    for target, r in checks_of(layer_checks):
        body = ""
        if r.verdict in ("fail", "not_attempted"):
            message = f"{r.verdict}: rel {r.max_rel_error:.1e} (limit {r.tolerance:.0e}) {r.hint}"
            body = f"<failure message={quoteattr(message)}>{escape(json.dumps(r.worst))}</failure>"
        cases.append(f'  <testcase classname="gradcheck.{escape(target)}" '
                     f'name={quoteattr(r.name)}>{body}</testcase>')
    counts = summarize(layer_checks)
    failures = counts["failed"] + counts["not_attempted"]
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="gradcheck" '
            f'tests="{len(cases)}" failures="{failures}">\n' + "\n".join(cases)
            + "\n</testsuite>\n")


def explain(target, r):
    """A paragraph for a failure, in plain language."""
    if r.verdict == "not_attempted":
        return f"{target} {r.name}: the function raised NotImplementedError: fill in the blank."
    if not r.worst:
        return f"{target} {r.name}: {r.hint}."
    w = r.worst[0]
    text = (f"{target} {r.name}: {r.failed} of {r.checked} checked entries disagree with the "
            f"numeric gradient by more than the relative tolerance {r.tolerance:.0e}. At "
            f"index {w['index']} (input value {w['value']:.4g}) your backward gives "
            f"{w['analytic']:.6g} but nudging the input changes the output as a gradient of "
            f"{w['numeric']:.6g} would.")
    if r.hint:
        text += f" Likely cause: {r.hint}."
    return text


def sweep(forward, backward, inputs, seed=0, steps=tuple(10.0 ** -k for k in range(1, 13))):
    """[(gradient name, [(h, rel error)])]: a V for a right gradient, a plateau for a wrong one.

    The numeric side uses eval_numerical_gradient_array with each fixed step h.
    """
    x64 = [np.array(a, dtype=np.float64) if _floating(a) else a for a in inputs]
    out, cache = forward(*x64)
    dout = np.random.default_rng((seed, 1)).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    grads = (grads,) if isinstance(grads, np.ndarray) else grads
    rows = []
    for (i, gname), g in zip(gradient_slots(forward, x64), grads, strict=False):
        def f(v, i=i):
            return forward(*[v if j == i else a for j, a in enumerate(x64)])[0]
        rows.append((gname, [(h, rel_error(eval_numerical_gradient_array(f, x64[i], dout, h),
                                             g)) for h in steps]))
    return rows


def _floating(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"
