"""What the instructor reads after grading a class: gradebook.csv, canvas.csv, summary.md/png.

gradebook.csv has one row per student (a group submission gives each member a
row with the group's points), in the columns of Gradescope's own grade export:

    Name, SID, Email, Total Score, Max Points, Status, Submission ID, <one column per blank>

Gradescope's "Import scores" matches rows by Email or SID and takes the score
column you point it to (Total Score). canvas.csv holds the same totals in the
columns of Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID,
Section, then one assignment column named after the course; Canvas matches a
row by any of its three ids, and only SIS User ID (the student id) and SIS
Login ID (the email, when known) are filled here.

Status is "graded", "failed to grade" (the grader itself broke: regrade it)
or "not graded" (no finished grading yet, e.g. after an interrupted run).
"""

import csv
import statistics
from collections import Counter
from pathlib import Path

OUTCOMES = ("passed", "wrong", "not attempted")


def blank_columns(course, records):
    """Blank ids in the course's order, those with points only."""
    scored = {t.blank or "(no blank)" for t in course.tests}
    seen = {b for r in records.values() for b in r.get("blanks", {})}
    return [b for b in course.blanks if b in scored] + sorted(seen - set(course.blanks))


def _status(record):
    if record is None:
        return "not graded"
    return "graded" if record.get("status") == "graded" else "failed to grade"


def rows(course, submissions, records):
    """(header, rows) of gradebook.csv."""
    blanks = blank_columns(course, records)
    best = sum(t.max_score for t in course.tests)
    header = ["Name", "SID", "Email", "Total Score", "Max Points", "Status", "Submission ID",
              *blanks]
    out = []
    for sub in submissions:
        record = records.get(sub.key)
        graded = _status(record) == "graded"
        points = [f"{record['blanks'][b]['score']:g}" if graded and b in record["blanks"]
                  else "" for b in blanks]
        total = f"{record['score']:g}" if graded else ""
        for person in sub.people:
            out.append([person.name, person.sid, person.email, total, f"{best:g}",
                        _status(record), sub.key, *points])
    return header, out


def write_csv(path, header, body):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)


def write_gradebooks(out, course, submissions, records):
    """gradebook.csv and canvas.csv under out."""
    header, body = rows(course, submissions, records)
    write_csv(Path(out) / "gradebook.csv", header, body)
    column = f"{course.name} (handgrad)"
    canvas = [[name, "", sid, email, "", total] for name, sid, email, total, *_ in body]
    best = sum(t.max_score for t in course.tests)
    write_csv(Path(out) / "canvas.csv",
              ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
              [["Points Possible", "", "", "", "", f"{best:g}"], *canvas])


# --- the summary ---

def shares(course, records):
    """{blank: {outcome: share of the graded class}}."""
    graded = [r for r in records.values() if _status(r) == "graded"]
    out = {}
    for blank in blank_columns(course, records):
        seen = Counter(r["blanks"][blank]["outcome"] for r in graded if blank in r["blanks"])
        out[blank] = {o: seen[o] / max(1, len(graded)) for o in OUTCOMES}
    return out


def most_common(records, field="hints", top=10):
    """[(share of the graded class, text)] of a record field's list, the most common first:
    hints (wrong values) or errors (errors and timeouts, by blank)."""
    graded = [r for r in records.values() if _status(r) == "graded"]
    seen = Counter(h for r in graded for h in r.get(field, ()))
    return [(n / len(graded), text) for text, n in seen.most_common(top)]


def summary_md(course, submissions, records, image="summary.png"):
    graded = [r for r in records.values() if _status(r) == "graded"]
    failed = sorted(k for k, r in records.items() if _status(r) == "failed to grade")
    best = sum(t.max_score for t in course.tests)
    lines = [f"# {course.name}: class summary", "",
             f"{len(submissions)} submissions: {len(graded)} graded, "
             f"{len(failed)} failed to grade, "
             f"{len(submissions) - len(graded) - len(failed)} not graded.", ""]
    if graded:
        scores = [r["score"] for r in graded]
        lines += [f"Score out of {best:g}: mean {statistics.mean(scores):.1f}, median "
                  f"{statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}, "
                  f"full marks {sum(s == best for s in scores)}.", "",
                  f"![score distribution and blanks]({image})", ""]
    lines += ["## Blanks", "", "| blank | points | passed | wrong | not attempted |",
              "|---|---:|---:|---:|---:|"]
    points = {}
    for t in course.tests:
        points[t.blank or "(no blank)"] = points.get(t.blank or "(no blank)", 0) + t.max_score
    for blank, share in shares(course, records).items():
        cells = " | ".join(f"{share[o]:.0%}" for o in OUTCOMES)
        lines.append(f"| {blank} | {points.get(blank, 0):g} | {cells} |")
    for field, title in (("hints", "Most common wrong values (with the grader's hint "
                                    "where it has one)"),
                         ("errors", "Most common errors and timeouts, by blank")):
        lines += ["", f"## {title}", ""]
        lines += [f"- {share:.0%} of the class: {text}"
                  for share, text in most_common(records, field)] or ["- none"]
    if failed:
        lines += ["", "## Failed to grade", ""]
        lines += [f"- {key}: {records[key].get('error', '')}" for key in failed]
    return "\n".join(lines) + "\n"


def summary_png(path, course, records):
    """The score histogram beside the per-blank passed / wrong / not attempted bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [r for r in records.values() if _status(r) == "graded"]
    best = sum(t.max_score for t in course.tests)
    by_blank = shares(course, records)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, max(4, 0.35 * len(by_blank) + 1)))
    left.hist([r["score"] for r in graded], bins=min(25, max(5, int(best) + 1)),
              range=(0, best), color="tab:blue")
    left.set(title=f"Scores ({len(graded)} graded)", xlabel=f"score out of {best:g}",
             ylabel="submissions")
    names = list(by_blank)[::-1]
    start = [0.0] * len(names)
    for outcome, color in zip(OUTCOMES, ("tab:green", "tab:red", "tab:gray"), strict=True):
        widths = [100 * by_blank[n][outcome] for n in names]
        right.barh(names, widths, left=start, color=color, label=outcome)
        start = [s + w for s, w in zip(start, widths, strict=True)]
    right.set(title="Blanks", xlabel="% of the graded class", xlim=(0, 100))
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_summary(out, course, submissions, records):
    (Path(out) / "summary.md").write_text(summary_md(course, submissions, records),
                                          encoding="utf-8")
    summary_png(Path(out) / "summary.png", course, records)
