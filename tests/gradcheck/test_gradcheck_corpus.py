"""gradcheck over a corpus of student-style files (tests/gradcheck/corpus), in one run.

manifest.json says, per file, the exit code and the verdict of each check, and the
words a hint, a warning or an import error must hold: correct files exit 0 (no false
failure), every backward bug, latent configuration bug and wrong forward fails, stubs
are not attempted, NumPy 2 removals name their replacement, hostile files become
verdicts.
"""

import json
from pathlib import Path

import pytest

from gradcheck.cli import main

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())["files"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(exit code, {file name: {"exit_code", "error", "checks": {"layer gradient": record}}})"""
    report = tmp_path_factory.mktemp("corpus") / "report.json"
    code = main([str(CORPUS), "--timeout", "3", "--jobs", "2", "--json", str(report)])
    data = json.loads(report.read_text())
    files = {Path(f["file"]).name: {**f, "checks": {}} for f in data["files"]}
    for c in data["checks"]:
        files[Path(c["file"]).name]["checks"][f"{c['target']} {c['gradient']}"] = c
    return code, files


def test_the_manifest_lists_every_corpus_file():
    assert set(MANIFEST) == {p.name for p in CORPUS.glob("*.py")}


def test_the_run_exits_with_the_worst_files_code(corpus):
    code, files = corpus
    assert code == 2                                  # some files do not import
    assert "helpers_only.py" not in files             # nothing to check: left out of a folder


def test_the_closing_line_counts_the_files_not_checked(capsys):
    assert main([str(CORPUS / "syntax_error.py"), str(CORPUS / "relu_ge.py")]) == 2
    assert capsys.readouterr().out.rstrip().endswith("2 passed, 0 failed, 1 file not checked")


@pytest.mark.parametrize("name", [n for n, e in MANIFEST.items() if e["exit"] is not None])
def test_each_file_gets_its_verdicts(corpus, name):
    expected, got = MANIFEST[name], corpus[1][name]
    assert got["exit_code"] == expected["exit"], got
    for check, verdict in expected.get("checks", {}).items():
        assert got["checks"][check]["verdict"] == verdict, got["checks"][check]
    for check, words in expected.get("hints", {}).items():
        assert words in got["checks"][check]["hint"], got["checks"][check]["hint"]
    for check, words in expected.get("warnings", {}).items():
        assert any(words in w for w in got["checks"][check]["warnings"])
    if "error" in expected:
        assert expected["error"] in got["error"]
    if expected["kind"] == "correct":
        assert all(c["verdict"] in ("pass", "kink") for c in got["checks"].values())
