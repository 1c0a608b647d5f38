"""Reports of a gradcheck run: JSON, JUnit XML, plain-language explanations.

JSON schema:
    {"checks": [{"file" ("" for the library), "target", "gradient", "verdict",
                 "max_rel_error", "max_abs_error", "tolerance", "checked", "failed", "kinks",
                 "inconclusive", "hint", "config", "notes", "warnings",
                 "sweep": [[step, rel_error], ...] (with --sweep, else []),
                 "worst": [{"index", "value", "analytic", "numeric", "rel_error", "status",
                            "left", "right"}]}],
     "files": [{"file", "exit_code", "error", "seconds"}],
     "summary": {"passed", "failed", "inconclusive", "kink", "not_attempted", "timeout"}}
"""

import json
from xml.sax.saxutils import escape, quoteattr

from .isolation import IMPORT_TIMEOUT
from .report import summarize


def checks_of(layer_checks):
    for lc in layer_checks:
        for r in lc.results:
            yield lc, r


def to_json(layer_checks, files=()):
    """files: (file, exit code, error, wall seconds) per file checked."""
    checks = [{"file": lc.file, "target": lc.name, "gradient": r.name, "verdict": r.verdict,
               "max_rel_error": r.max_rel_error, "max_abs_error": r.max_abs_error,
               "tolerance": r.tolerance, "checked": r.checked, "failed": r.failed,
               "kinks": r.kinks, "inconclusive": r.inconclusive, "hint": r.hint,
               "config": r.config, "notes": r.notes, "warnings": r.warnings,
               "sweep": [list(row) for row in r.sweep], "worst": r.worst}
              for lc, r in checks_of(layer_checks)]
    return json.dumps({"checks": checks,
                       "files": [{"file": f, "exit_code": c, "error": e, "seconds": round(t, 3)}
                                 for f, c, e, t in files],
                       "summary": summarize(layer_checks)}, indent=2)


SHORT = {"pass": "pass", "kink": "kink", "inconclusive": "inconcl", "fail": "FAIL",
         "not_attempted": "N/A", "timeout": "TIMEOUT"}


def table(files):
    """A file x layer table of each layer's worst verdict, and each file's exit code.

    files: (file, exit code, error, [LayerCheck], seconds) per file.
    """
    layers = list(dict.fromkeys(lc.name for file in files for lc in file[3]))
    width = max([4, *(len(f) for f, *_ in files)])
    cols = [max(len(n), 7) for n in layers]
    lines = [f"{'file':<{width}}  exit  " + "  ".join(f"{n:<{c}}" for n, c in zip(layers, cols,
                                                                                strict=True))]
    for f, code, error, checks, _ in files:
        verdict = {lc.name: SHORT[lc.verdict] for lc in checks}
        cells = "  ".join(f"{verdict.get(n, '-'):<{c}}" for n, c in zip(layers, cols, strict=True))
        failed = "TIMEOUT at import" if IMPORT_TIMEOUT in error else "does not import"
        lines.append(f"{f:<{width}}  {code:<4}  " + (failed if error and not checks else cells))
    return "\n".join(line.rstrip() for line in lines)


def to_junit(layer_checks):
    """One testcase per check; fail and not_attempted are failures, the rest pass."""
    cases = []
    for lc, r in checks_of(layer_checks):
        target = lc.label
        body = ""
        if r.verdict in ("fail", "not_attempted", "timeout"):
            message = f"{r.verdict}: rel {r.max_rel_error:.1e} (limit {r.tolerance:.0e}) {r.hint}"
            body = f"<failure message={quoteattr(message)}>{escape(json.dumps(r.worst))}</failure>"
        cases.append(f'  <testcase classname="gradcheck.{escape(target)}" '
                     f'name={quoteattr(r.name)}>{body}</testcase>')
    counts = summarize(layer_checks)
    failures = counts["failed"] + counts["not_attempted"] + counts["timeout"]
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="gradcheck" '
            f'tests="{len(cases)}" failures="{failures}">\n' + "\n".join(cases)
            + "\n</testsuite>\n")


def explain(target, r):
    """A paragraph for a failure or a kink, in plain language."""
    if r.verdict == "not_attempted":
        return f"{target} {r.name}: not written yet ({r.hint}): fill in the blank."
    if not r.worst:
        return f"{target} {r.name}: {r.hint}."
    w = next((w for w in r.worst if w["status"] == "kink"), r.worst[0])
    if w["status"] == "kink" or (r.verdict == "fail" and "kink" in r.hint):
        return explain_kink(target, r, w)
    text = (f"{target} {r.name}: {r.failed} of {r.checked} checked entries disagree with the "
            f"numeric gradient by more than the relative tolerance {r.tolerance:.0e}. At "
            f"index {w['index']} (input value {w['value']:.4g}) your backward gives "
            f"{w['analytic']:.6g} but nudging the input changes the output as a gradient of "
            f"{w['numeric']:.6g} would.")
    if r.hint:
        text += f" Likely cause: {r.hint}."
    return text


def explain_kink(target, r, w):
    """Why a value at a kink is (or, under a convention, is not) accepted."""
    text = (f"{target} {r.name}: at index {w['index']} (input value {w['value']:.4g}) the "
            "layer has a kink (ReLU at 0, a max tie, a hinge at 0): nudging the input up "
            f"changes the output as a slope of {w['right']:.6g}, nudging it down as "
            f"{w['left']:.6g}. The centered difference {w['numeric']:.6g} is their mean, not a "
            f"gradient, so it is no evidence of a factor. Your value is {w['analytic']:.6g}")
    if r.verdict == "fail":
        return text + f": {r.hint}."
    return text + (": a valid subgradient (anything between the two slopes is right unless "
                   "a convention is asked for with --convention).")
