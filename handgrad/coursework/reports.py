"""Grading results: Gradescope's results.json, JUnit XML, and the terminal summary.

All three state one tally (points and counts of the visible tests, of those shown after
the due date, and of all of them); a part is always named, never left to guess.

An Entry is one scored line. Gradescope knows only "passed" and "failed"; the
finer outcome (passed, failed, not attempted, error, timed out) is kept in the
entry's output and in extra_data.outcome, and drives the JUnit element.
"""

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

OUTCOMES = ("passed", "failed", "not attempted", "error", "timed out")


@dataclass
class Entry:
    name: str
    blank: str
    outcome: str
    score: float
    max_score: float
    output: str
    hidden: bool


def counts(entries):
    return {o: sum(e.outcome == o for e in entries) for o in OUTCOMES}


def closing_line(entries):
    """'N passed, N failed' (and what the failures were)."""
    c = counts(entries)
    failed = len(entries) - c["passed"]
    detail = ", ".join(f"{c[o]} {o}" for o in OUTCOMES[2:] if c[o])
    return f"{c['passed']} passed, {failed} failed" + (f" ({detail})" if detail else "")


def parts(entries):
    """{part: its entries} for the visible tests, those shown after the due date, and all."""
    return {"visible": [e for e in entries if not e.hidden],
            "after_due_date": [e for e in entries if e.hidden], "total": list(entries)}


def tally(entries):
    """Points and counts of each part: the one set of numbers every report states."""
    out = {}
    for part, chosen in parts(entries).items():
        c = counts(chosen)
        out[part] = {"score": sum(e.score for e in chosen),
                     "max_score": sum(e.max_score for e in chosen), "tests": len(chosen),
                     "passed": c["passed"], "failed": len(chosen) - c["passed"], "outcomes": c}
    return out


def _part_line(label, chosen):
    points = f"{sum(e.score for e in chosen):g} of {sum(e.max_score for e in chosen):g} points"
    return f"{label}: {closing_line(chosen)}; {points}."


def summary(entries, note=""):
    """The visible top-level text: what was scored now and what shows after the due date."""
    split = parts(entries)
    lines = [note] if note else []
    lines.append(_part_line("Visible tests", split["visible"]))
    later = split["after_due_date"]
    if later:
        points = sum(e.max_score for e in later)
        lines.append(f"{len(later)} more tests ({points:g} points) are graded now and shown "
                     "after the due date; passing the visible tests does not mean passing these.")
    return "\n".join(lines)


def terminal(entries, note="", where=""):
    """The grader's closing text: the visible part as results.json states it, the part
    shown after the due date, then the total (results.json's score, junit.xml's counts)."""
    split = parts(entries)
    lines = [summary(entries, note)]
    if split["after_due_date"]:
        lines.append(_part_line("After the due date", split["after_due_date"]))
    best = sum(e.max_score for e in entries)
    lines.append(f"score {sum(e.score for e in entries):g} / {best:g}"
                 + (" (visible and after the due date)" if split["after_due_date"] else "")
                 + (f"; results in {where}" if where else ""))
    lines.append(closing_line(entries))
    return "\n".join(lines)


def _test_json(e):
    return {
        "name": e.name,
        "score": e.score,
        "max_score": e.max_score,
        "status": "passed" if e.outcome == "passed" else "failed",
        "output": f"[{e.outcome}] {e.output}".strip(),
        "visibility": "after_due_date" if e.hidden else "visible",
        "extra_data": {"outcome": e.outcome, "blank": e.blank},
    }


def results_json(entries, note="", seconds=None):
    """Gradescope's results.json as a string (sorted keys, stable)."""
    data = {
        "score": sum(e.score for e in entries),
        "output": summary(entries, note),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [_test_json(e) for e in entries],
        "extra_data": tally(entries),
    }
    if seconds is not None:
        data["execution_time"] = round(seconds, 1)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def junit_xml(entries, suite="handgrad"):
    """JUnit XML: failed and not attempted are <failure>, error and timed out are <error>.

    The suite's properties hold the tally: {visible,after_due_date,total}_{score,max_score,
    passed,failed}, the numbers results.json and the terminal state.
    """
    c = counts(entries)
    root = ET.Element("testsuites")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(entries)),
                         failures=str(c["failed"] + c["not attempted"]),
                         errors=str(c["error"] + c["timed out"]))
    for e in entries:
        case = ET.SubElement(node, "testcase", classname=e.blank or suite, name=e.name)
        ET.SubElement(case, "properties")
        if e.outcome != "passed":
            tag = "failure" if e.outcome in ("failed", "not attempted") else "error"
            problem = ET.SubElement(case, tag, type=e.outcome, message=e.output.split("\n")[0])
            problem.text = e.output
        ET.SubElement(case.find("properties"), "property", name="score", value=f"{e.score:g}")
    totals = ET.Element("properties")
    for part, numbers in tally(entries).items():
        for key in ("score", "max_score", "passed", "failed"):
            ET.SubElement(totals, "property", name=f"{part}_{key}", value=f"{numbers[key]:g}")
    node.insert(0, totals)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def table(entries):
    """One aligned line per entry for the terminal."""
    width = max((len(e.name) for e in entries), default=10)
    return "\n".join(
        f"{e.name:<{width}}  {e.outcome:<13} {e.score:g}/{e.max_score:g}"
        + ("  (after due date)" if e.hidden else "")
        for e in entries
    )
