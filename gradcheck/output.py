"""Reports of a gradcheck run: JSON, JUnit XML, plain-language explanations.

JSON schema:
    {"checks": [{"target", "gradient", "verdict", "max_rel_error", "max_abs_error",
                 "tolerance", "checked", "failed", "kinks", "inconclusive", "hint",
                 "notes", "sweep": [[step, rel_error], ...] (with --sweep, else []),
                 "worst": [{"index", "value", "analytic", "numeric", "rel_error", "status"}]}],
     "summary": {"passed", "failed", "inconclusive", "kink", "not_attempted"}}
"""

import json
from xml.sax.saxutils import escape, quoteattr

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
               "notes": r.notes, "sweep": [list(row) for row in r.sweep], "worst": r.worst}
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
