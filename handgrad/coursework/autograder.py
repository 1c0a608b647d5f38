"""The Gradescope autograder bundle: a zip that grades each upload with `handgrad grade`.

Gradescope unpacks the zip into /autograder/source, runs setup.sh there once
(as root, when it builds the image), then for every upload runs
/autograder/run_autograder with the files in /autograder/submission and reads
/autograder/results/results.json. The bundle holds:

    setup.sh          apt installs Python and bubblewrap; a venv with requirements.txt
    run_autograder    handgrad grade SUBMISSION --single --solution course --out results
    requirements.txt  the grader's third-party packages, versions pinned to this machine's
    grader/           the grader's own source (handgrad, gradcheck)
    course/           the solution: coursework.toml, its packages, public and hidden tests

run_autograder reads two variables so that it can run outside Gradescope
(the tests do): HANDGRAD_AUTOGRADER_ROOT (default /autograder) and
HANDGRAD_PYTHON (default the venv setup.sh made).
"""

import io
import zipfile
from importlib import metadata
from pathlib import Path

from . import classroom
from .runner import GRADER_ROOT

# What the grader and the course's tests import; tomli only below Python 3.11.
PINNED = ("numpy", "scipy", "matplotlib", "tqdm", "PyYAML", "pytest", "hypothesis")
TOMLI = 'tomli==2.0.1; python_version < "3.11"'
GRADER_PACKAGES = ("handgrad", "gradcheck")

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source when it builds the image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet --upgrade pip
/autograder/venv/bin/pip install --quiet -r /autograder/source/requirements.txt
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every upload: grade /autograder/submission into /autograder/results.
set -uo pipefail
ROOT="${HANDGRAD_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${HANDGRAD_PYTHON:-$ROOT/venv/bin/python}"
SOURCE="$ROOT/source"
mkdir -p "$ROOT/results"
cd "$SOURCE/course"
PYTHONPATH="$SOURCE/grader" "$PYTHON" -m handgrad grade "$ROOT/submission" --single \\
    --solution "$SOURCE/course" --out "$ROOT/results"
# A score below full marks is not a failure of the autograder: results.json says it all.
test -s "$ROOT/results/results.json"
"""


def requirements():
    """requirements.txt: each package the grader needs at this machine's version."""
    lines = []
    for name in PINNED:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError as err:
            raise ValueError(f"{name} is not installed here, so its version cannot be "
                             "pinned: install the grader's dependencies first") from err
    return "\n".join([*lines, TOMLI]) + "\n"


def _add_tree(archive, root, prefix, rels):
    for rel in rels:
        archive.write(Path(root) / rel, f"{prefix}/{rel}")


def _script(archive, name, text):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # an executable regular file
    archive.writestr(info, text)


def bundle(course, skip=()):
    """The autograder zip as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _script(archive, "setup.sh", SETUP)
        _script(archive, "run_autograder", RUN)
        archive.writestr("requirements.txt", requirements())
        for package in GRADER_PACKAGES:
            folder = Path(GRADER_ROOT) / package
            _add_tree(archive, folder, f"grader/{package}", classroom.tree_files(folder))
        _add_tree(archive, course.root, "course", classroom.course_files(course, skip))
    return buffer.getvalue()
