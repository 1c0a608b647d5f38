"""Pictures of a run: the curves leave out the untrained epoch 0 and mark the best epoch;
the decision regions of a 2-D model are its predictions over the plane."""

import types

import numpy as np
import pytest

from solver.plots import plot_decision_boundary, plot_history


def history(val):
    return types.SimpleNamespace(loss_history=[2.3, 1.0, 0.5],
                                 train_acc_history=[0.1, *[v + 0.05 for v in val[1:]]],
                                 val_acc_history=val)


def test_curves_start_at_epoch_1_and_mark_the_best_epoch():
    fig = plot_history(history([0.1, 0.90, 0.96, 0.93]), "fc on digits", "adam lr 0.001")
    _, acc_ax = fig.axes
    lines = {line.get_label(): line for line in acc_ax.get_lines()}
    np.testing.assert_array_equal(lines["val"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["val"].get_ydata(), [0.90, 0.96, 0.93])
    best = lines["best val 0.960 (epoch 2)"]
    assert (list(best.get_xdata()), list(best.get_ydata())) == ([2], [0.96])
    assert acc_ax.get_ylim()[0] > 0.5                    # the chance-level start is not drawn
    assert fig.get_suptitle() == "fc on digits\nadam lr 0.001"


def test_curves_of_a_run_stopped_before_its_first_epoch_show_epoch_0():
    fig = plot_history(history([0.1]))
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}
    np.testing.assert_array_equal(lines["val"].get_xdata(), [0])


class Quadrants:
    """Predicts class 1 right of x1 = 0, class 0 left of it."""

    def loss(self, X, y=None):
        return np.column_stack([-X[:, 0], X[:, 0]])


def test_decision_regions_follow_the_models_predictions():
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-0.5, 0.5], [0.5, -0.5]])
    fig = plot_decision_boundary(Quadrants(), X, np.array([0, 1, 0, 1]), "two halves")
    ax = fig.axes[0]
    assert ax.get_title() == "two halves"
    low, high = ax.get_xlim()
    assert low < -1
    assert high > 1
    with pytest.raises(ValueError, match=r"plot_decision_boundary: X has shape \(4, 3\)"):
        plot_decision_boundary(Quadrants(), np.zeros((4, 3)), np.zeros(4))
