"""Coursework: solution markers, the student release, and the grader.

- markers: find '# BEGIN SOLUTION id' / '# END SOLUTION' with the tokenizer, cut, splice
- notebooks: the same in notebook cells, Markdown answers, outputs stripped
- spec: coursework.toml (blanks, points, graded tests)
- build, verify: the release in memory, proof before writing, verification after
- sandbox: the door; the only module that starts a submission's code (child.py inside)
- grader, checks, reports: reference outputs, judging in the grader's process, results.json
- isolate: one tree per blank, the solution's code in every other blank
- runner, worker: the instructor's own trees in child processes (release proof, verification)
- forbid, reach: what a blank's code may not reach, checked in its source and disabled in
  its tree; answers: the release's functions that would compute a blank's answer
- classroom, batch, gradebook, similarity: a whole class (who handed in what, one task per
  submission locally or on Dask, resumable; gradebook.csv and summary; alike pairs)
- autograder: the Gradescope bundle
"""

import importlib.util
import os
from pathlib import Path

from .runner import GRADER_ROOT
from .spec import SPEC_NAME

# Reading and running notebooks: `handgrad release` (and `grade --splice`) need these, the
# library and its other commands do not, so they are not installed with it.
NOTEBOOK_MODULES = ("nbformat", "nbclient", "ipykernel")


def missing_modules(command, modules, why):
    """'' when every module imports, else one line saying exactly what to install."""
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        missing += [] if found else [name]
    if not missing:
        return ""
    return f"{command} needs {', '.join(missing)} ({why}): pip install {' '.join(missing)}"


def find_solution(start=None):
    """The course root: the nearest folder from start upward with coursework.toml,
    else the repository that holds this package."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SPEC_NAME).is_file():
            return folder
    return Path(GRADER_ROOT)
