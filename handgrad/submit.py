"""handgrad submit: pack your copy of the course into a zip for the grader.

Run it anywhere inside your copy (the folder with release-manifest.json). The zip
holds exactly the files of the release, as you edited them: never .venv, runs/,
data or caches. It lists the blanks you have not attempted yet and runs the
public tests before you hand it in.
"""

import argparse
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from handgrad.coursework import markers
from handgrad.coursework.build import MANIFEST

MAX_FILE_MB = 10
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same files give the same zip


class SubmitError(Exception):
    """Nothing written: one line on stderr, exit status 2."""


def parse(argv):
    p = argparse.ArgumentParser(prog="handgrad submit", description=__doc__.split("\n")[0])
    p.add_argument("--out", metavar="PATH",
                   help="the zip to write (default: submission.zip in your copy's folder)")
    p.add_argument("--force", action="store_true", help="replace an existing zip at PATH")
    p.add_argument("--no-tests", action="store_true", help="do not run the public tests")
    return p.parse_args(argv)


def find_root(start):
    """The nearest folder from start upward that holds release-manifest.json."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    raise SubmitError(f"no {MANIFEST} in {here} or above: run handgrad submit inside your "
                      "copy of the course")


def handed_in(root, manifest):
    """The relpaths to pack (the release's files that exist, and the manifest); the missing."""
    listed = sorted(manifest["files"])
    missing = [rel for rel in listed if not (root / rel).is_file()]
    return [*[rel for rel in listed if rel not in missing], MANIFEST], missing


def check_sizes(root, rels):
    for rel in rels:
        size = (root / rel).stat().st_size
        if size > MAX_FILE_MB * 2**20:
            hint = (" clear its outputs (Jupyter: Edit > Clear All Outputs), save it,"
                    if rel.endswith(".ipynb") else "")
            raise SubmitError(f"{rel} is {size / 2**20:.1f} MB, over the {MAX_FILE_MB} MB "
                              f"limit for one file;{hint or ' shrink it'} and run handgrad "
                              "submit again (nothing was written)")


def _region_sources(root, blank):
    """The sources that may hold a blank's guarded region: the file, or a notebook's cells."""
    path = root / blank["file"]
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    if not blank["file"].endswith(".ipynb"):
        return [text]
    try:
        cells = json.loads(text).get("cells", [])
    except ValueError:
        return []
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c.get("cell_type") == "code"]


def unattempted(root, manifest):
    """[(blank, why)] of the blanks still raising NotImplementedError or without guards."""
    found = []
    for blank in manifest["blanks"]:
        bodies = [block.body for source in _region_sources(root, blank)
                  for block in markers.guards(source, blank["file"]) if block.id == blank["id"]]
        if not bodies:
            found.append((blank, "its BEGIN/END YOUR CODE lines are gone: restore them"))
        elif any(line.strip().startswith("raise NotImplementedError(") for line in bodies[0]):
            found.append((blank, "still raises NotImplementedError"))
    return found


def write_zip(root, rels, out):
    """Write the zip atomically (a partial zip never stands at out)."""
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in rels:
            info = zipfile.ZipInfo(rel, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (root / rel).read_bytes())
    os.replace(tmp, out)


def public_tests(root, manifest):
    """Run the public tests in the copy; return pytest's summary line and its FAILED lines."""
    paths = [p for p in manifest.get("public_tests", ["tests"]) if (root / p).exists()]
    if not paths:
        return "none in this copy", []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
                           *paths], cwd=root, env=env, capture_output=True, text=True,
                          check=False)
    lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or ["no output"]
    return lines[-1], [line for line in lines if line.startswith(("FAILED ", "ERROR "))]


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        return _submit(args)
    except SubmitError as err:
        print(f"handgrad submit: {err}", file=sys.stderr)
        return 2


def _submit(args):
    root = find_root(os.getcwd())
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    out = Path(args.out).resolve() if args.out else root / "submission.zip"
    if out.exists() and not args.force:
        raise SubmitError(f"{out} exists; pass --force to replace it, or --out another path")
    rels, missing = handed_in(root, manifest)
    check_sizes(root, rels)
    write_zip(root, rels, out)
    print(f"wrote {out}: {len(rels)} files, {out.stat().st_size / 2**20:.1f} MB")
    for rel in missing:
        print(f"warning: {rel} is missing from your copy, so the grader will not find it")
    todo = unattempted(root, manifest)
    print(f"not attempted yet: {len(todo)} of {len(manifest['blanks'])} blanks")
    for blank, why in todo:
        print(f"  {blank['id']} in {blank['file']}: {why}")
    if not args.no_tests:
        summary, failed = public_tests(root, manifest)
        print(f"public tests: {summary}")
        for line in failed:
            print(f"    {line}")
    return 0
