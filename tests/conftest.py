"""Fixtures shared by the whole test suite, and unfilled blanks reported as skipped.

In a student's copy a blank that is not written yet raises
NotImplementedError("<id> in <file>"): its tests are then skipped with the reason
"not attempted: implement <id> in <file>", not failed: also when the raise
surfaces as another error (a failed assertion on a gradcheck result that met
the blank, an error raised while handling it). A failure with no such blank
behind it, or whose blank's file no longer holds the raise, still fails the test.
"""

import numpy as np
import pytest

from handgrad.coursework.markers import blank_behind, not_attempted, still_blank


@pytest.fixture
def rng():
    """A generator from a fixed seed: every test sees the same numbers on every run."""
    return np.random.default_rng(231)


def _skip_unattempted(item):
    """The body of a hook wrapper: an unfilled blank's NotImplementedError becomes a skip.

    Only while the blank's file still holds the release's raise: in the solution, and
    once the student has written the blank, every failure is a failure.
    """
    try:
        return (yield)
    except (Exception, pytest.fail.Exception) as err:
        found = blank_behind(err)
        if found is None or not still_blank(item.config.rootpath, *found):
            raise
        pytest.skip(not_attempted(err))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _skip_unattempted(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _skip_unattempted(item))
