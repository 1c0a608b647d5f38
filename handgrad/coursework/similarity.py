"""Which submissions wrote unusually alike code inside the blanks (`grade --similarity`).

A fill-in-the-blank release makes every submission share most of its lines,
so only the code inside each blank's guards is compared: one document per
submission, the blanks' code one after another. Fingerprints come from
copydetect (k-gram winnowing over Pygments tokens, names and comments
filtered out, as MOSS does). Three kinds of passages never count:

- the release's own text in the guards (hints, the NotImplementedError line),
- the solution's code (a short blank solved right looks the same everywhere),
- passages found in more than a fifth of the class (at least 5 submissions):
  the common way to write a line, not a copy.

A pair is flagged when at least `threshold` of one document's remaining
fingerprinted code is found in the other, and the shared code is at least
`min_overlap` filtered characters long. similarity.html shows the flagged
pairs side by side with the shared code marked; similarity.csv lists them.
"""

import csv
import html
import io
import tempfile
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from . import build, grader, isolate, markers

K, WINDOW = 25, 6  # copydetect's defaults: noise threshold 25, guarantee threshold 30


@dataclass
class Pair:
    a: str
    b: str
    share_a: float  # of a's fingerprinted code found in b
    share_b: float
    overlap: int  # filtered characters in common
    marked_a: str = ""  # a's document as HTML, shared code in <mark>
    marked_b: str = ""


def _python_blanks(course):
    return {bid: info["file"] for bid, info in course.blanks.items()
            if info["file"].endswith(".py")}


def document(course, tree):
    """The code inside each Python blank's guards of one tree, blank after blank."""
    blanks, parts = _python_blanks(course), []
    for rel in sorted(set(blanks.values())):
        path = Path(tree) / rel
        if not path.is_file():
            continue
        found = markers.answers(path.read_text(encoding="utf-8", errors="replace"), rel)
        parts += [f"# {bid}\n{''.join(found[bid])}" for bid, where in blanks.items()
                  if where == rel and bid in found]
    return "\n".join(parts)


def base_document(course):
    """What never counts: the release's text in the guards and the solution's code."""
    release = build.build(course)
    parts = []
    for rel, bodies in isolate.solution_blocks(course).items():
        guards = markers.answers(release.files[rel].decode("utf-8"), rel)
        parts += ["".join(body) for body in guards.values()]
        parts += ["".join(body) for body in bodies.values()]
    return "\n".join(parts)


def read_documents(course, subs):
    """{key: blank code} of each submission (zips unpacked with the grader's checks)."""
    docs = {}
    for sub in subs:
        with tempfile.TemporaryDirectory(prefix="handgrad-similarity-") as tmp:
            try:
                tree = grader.unpack(sub.path, Path(tmp) / "tree")
            except (grader.SubmissionError, OSError, ValueError):
                continue  # unreadable: graded 0 with its reason, nothing to compare
            docs[sub.key] = document(course, tree)
    return docs


def _fingerprint(name, text, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{name}.py", K, WINDOW, boilerplate=boilerplate,
                           fp=io.StringIO(text))


def pairs(docs, base, threshold=0.5, min_overlap=60):
    """The flagged pairs of documents, most alike first."""
    import numpy as np
    from copydetect import compare_files

    boilerplate = np.array(sorted(_fingerprint("base", base, None).hashes), dtype=np.int64)
    prints = {key: _fingerprint(key, text, boilerplate) for key, text in docs.items()}
    seen = Counter(h for fp in prints.values() for h in fp.hashes)
    common = [h for h, n in seen.items() if n > max(5, len(docs) / 5)]
    if common:
        boilerplate = np.union1d(boilerplate, np.array(common, dtype=np.int64))
        prints = {key: _fingerprint(key, text, boilerplate) for key, text in docs.items()}
    flagged = []
    for a, b in combinations(sorted(prints), 2):
        overlap, (share_a, share_b), slices = compare_files(prints[a], prints[b])
        if overlap >= min_overlap and max(share_a, share_b) >= threshold:
            flagged.append(Pair(a, b, float(share_a), float(share_b), int(overlap),
                                _marked(docs[a], slices[0]), _marked(docs[b], slices[1])))
    return sorted(flagged, key=lambda p: (-max(p.share_a, p.share_b), p.a, p.b))


def _marked(text, slices):
    from copydetect.utils import highlight_overlap

    marked, _ = highlight_overlap(text, slices, "<mark>", "</mark>", escape_html=True)
    return marked


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title><style>
body {{ font-family: sans-serif; margin: 2em; }}
table.pair {{ width: 100%; table-layout: fixed; border-collapse: collapse; margin-bottom: 2em; }}
table.pair td {{ vertical-align: top; border: 1px solid #ccc; padding: 0.5em; }}
pre {{ white-space: pre-wrap; font-size: 0.85em; }}
mark {{ background: #ffd27f; }}
</style></head><body>
<h1>{title}</h1>
<p>{about}</p>
{body}
</body></html>
"""


def html_report(found, title):
    about = ("Code inside the blanks only; the release's guard text, the solution's code and "
             "passages common to the class do not count. Shared code is marked.")
    blocks = [f"<h2>{html.escape(p.a)} and {html.escape(p.b)}: {p.share_a:.0%} / "
              f"{p.share_b:.0%} in common ({p.overlap} characters)</h2>\n"
              f'<table class="pair"><tr><th>{html.escape(p.a)}</th><th>{html.escape(p.b)}'
              f"</th></tr><tr><td><pre>{p.marked_a}</pre></td><td><pre>{p.marked_b}</pre>"
              "</td></tr></table>" for p in found]
    body = "\n".join(blocks) or "<p>No pair is unusually alike.</p>"
    return PAGE.format(title=html.escape(title), about=html.escape(about), body=body)


def report(course, subs, out, threshold=0.5):
    """Compare the class; write similarity.html and similarity.csv under out; the pairs."""
    found = pairs(read_documents(course, subs), base_document(course), threshold)
    Path(out, "similarity.html").write_text(
        html_report(found, f"{course.name}: similar submissions"), encoding="utf-8")
    with open(Path(out, "similarity.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "share_a", "share_b", "overlap"])
        writer.writerows([p.a, p.b, f"{p.share_a:.3f}", f"{p.share_b:.3f}", p.overlap]
                         for p in found)
    return found
