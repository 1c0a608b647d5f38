"""No input class is judged only by hidden tests: the course's conventions are visible.

A ReLU backward with `x >= 0`, a max-pool backward that feeds every tied maximum, an SVM
that counts margins of exactly 0: each must lose visible points, before the due date.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import layers
from handgrad.coursework import checks, child, grader, inputs, spec

COURSE = spec.load(Path(__file__).resolve().parents[2])
KINKS = ("kink", "ties", "margin 0")  # where another subgradient is a plausible mistake
CONVENTIONS = {t.name: t for t in COURSE.tests if t.case in KINKS and not t.hidden}


def test_every_hidden_case_is_judged_by_a_visible_test_of_its_blank():
    visible = {(t.blank, t.case) for t in COURSE.tests if not t.hidden}
    hidden = [t for t in COURSE.tests if t.hidden]
    assert hidden
    assert [t.name for t in hidden if not t.case] == []
    assert [t.name for t in hidden if (t.blank, t.case) not in visible] == []


def test_the_kinks_of_relu_max_pool_and_the_hinge_are_visible():
    assert {t.blank: t.case for t in CONVENTIONS.values()} == {
        "relu_backward": "kink", "max_pool_backward_naive": "ties", "svm_loss": "margin 0"}


def relu_backward_at_zero_too(dout, cache):
    return dout * (cache >= 0)


def max_pool_backward_to_every_tie(dout, cache):
    x, param = cache
    PH, PW, S = param["pool_height"], param["pool_width"], param["stride"]
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * S:i * S + PH, j * S:j * S + PW]
        dx[n, c, i * S:i * S + PH, j * S:j * S + PW] += dout[n, c, i, j] * (window == window.max())
    return dx


def svm_loss_with_zero_margins_active(x, y):
    loss, _ = layers.svm_loss(x, y)
    rows = np.arange(len(x))
    margins = x - x[rows, y][:, None] + 1
    active = (margins >= 0).astype(float)
    active[rows, y] = 0
    active[rows, y] -= active.sum(axis=1)
    return loss, active / len(x)


OTHER_SUBGRADIENT = {"relu_backward": ("backward", relu_backward_at_zero_too),
                     "max_pool_backward_naive": ("backward", max_pool_backward_to_every_tie),
                     "svm_loss": ("function", svm_loss_with_zero_margins_active)}


def _run(test):
    """(outputs, report) of the test's functions, run in this process (trusted code only)."""
    entry, arrays = grader.job_entry(0, test)
    return child.evaluate(entry, lambda: child.arguments(entry, arrays), numeric=True)


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_another_subgradient_fails_the_visible_test(name):
    test = CONVENTIONS[name]
    key, wrong = OTHER_SUBGRADIENT[test.blank]
    args = inputs.build(test.inputs, test.seed)
    assert np.any(args[0] == 0) or test.blank != "relu_backward"
    expected, _ = _run(test)
    assert {k: v[0] for k, v in checks.judge(test, expected, *_run(test)).items()} == \
        dict.fromkeys(test.points, "passed")
    student = dataclasses.replace(test, target={**test.target, key: f"{__name__}:{wrong.__name__}"})
    verdicts = checks.judge(student, expected, *_run(student))
    assert verdicts["dx"][0] == "failed"
    assert "dx differs from the solution" in verdicts["dx"][1]
