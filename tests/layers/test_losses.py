"""Softmax, SVM and MSE losses: hand-computed cases, course sanity values, stability, errors."""

import numpy as np
import pytest

from layers import NonFiniteError, mse_loss, softmax_loss, svm_loss

SCORES = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
LABELS = np.array([2, 0])


def test_softmax_loss_hand_computed():
    loss, dx = softmax_loss(SCORES, LABELS)
    p0 = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(loss, (-np.log(p0[2]) + np.log(3)) / 2, rtol=1e-15)
    expected = np.array([p0 - [0, 0, 1], [1 / 3 - 1, 1 / 3, 1 / 3]]) / 2
    np.testing.assert_allclose(dx, expected, rtol=1e-15)


def test_svm_loss_hand_computed():
    loss, dx = svm_loss(SCORES, LABELS)
    # row 0: margins max(0, 1 - 3 + 1) = 0 and max(0, 2 - 3 + 1) = 0; row 1: 1 and 1
    assert loss == 1.0
    np.testing.assert_array_equal(dx, [[0.0, 0.0, 0.0], [-1.0, 0.5, 0.5]])


def test_svm_margin_exactly_one_counts_as_inactive():
    loss, dx = svm_loss(np.array([[2.0, 1.0]]), [0])
    assert loss == 0.0
    np.testing.assert_array_equal(dx, [[0.0, 0.0]])


def test_losses_on_tiny_random_scores_match_the_course_sanity_values(rng):
    N, C = 200, 10
    x = 0.001 * rng.normal(size=(N, C))
    y = rng.integers(C, size=N)
    np.testing.assert_allclose(softmax_loss(x, y)[0], np.log(C), rtol=1e-3)   # ~2.3
    np.testing.assert_allclose(svm_loss(x, y)[0], C - 1, rtol=1e-2)            # ~9


def test_loss_gradients_sum_to_zero_per_row(rng):
    x, y = rng.normal(size=(6, 5)), rng.integers(5, size=6)
    for loss_fn in (softmax_loss, svm_loss):
        np.testing.assert_allclose(loss_fn(x, y)[1].sum(axis=1), 0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_loss_is_stable_at_1e4(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    loss, dx = softmax_loss(x, [1, 2])                     # warnings are errors
    assert np.isfinite(loss)
    assert dx.dtype == dtype
    np.testing.assert_allclose(loss, (2e4 + np.log(3)) / 2, rtol=1e-6)
    np.testing.assert_allclose(dx, [[0.5, -0.5, 0.0], [1 / 6, 1 / 6, -1 / 3]], rtol=1e-6)


def test_mse_loss_values_and_gradient(rng):
    x, t = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    loss, dx = mse_loss(x, t)
    np.testing.assert_allclose(loss, 0.5 * np.sum((x - t) ** 2) / 4)
    np.testing.assert_allclose(dx, (x - t) / 4)


def test_losses_keep_float32(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    for loss, dx in (softmax_loss(x, [0, 1, 3]), svm_loss(x, [0, 1, 3]), mse_loss(x, x * 0)):
        assert np.asarray(loss).dtype == np.float32
        assert dx.dtype == np.float32


def test_labels_as_lists_and_integral_floats_are_accepted():
    loss_list, _ = softmax_loss(SCORES.tolist(), [2, 0])
    loss_float, _ = softmax_loss(SCORES, np.array([2.0, 0.0]))
    assert loss_list == loss_float == softmax_loss(SCORES, LABELS)[0]


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([2, 3], r"y has labels in \[2, 3\]; expected \[0, 3\) for C = 3"),
        ([-1, 0], r"y has labels in \[-1, 0\]; expected \[0, 3\)"),
        ([0.5, 1.0], r"y must hold integer class labels, got dtype float64"),
        ([0, 1, 2], r"y has shape \(3,\); expected \(2,\)"),
    ],
)
def test_bad_labels_are_rejected_with_the_shapes(loss_fn, y, message):
    with pytest.raises(ValueError, match=rf"{loss_fn.__name__}: {message}"):
        loss_fn(SCORES, y)


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_scores_must_be_two_dimensional_and_non_empty(loss_fn):
    name = loss_fn.__name__
    with pytest.raises(ValueError, match=rf"{name}: x has shape \(3,\); expected 2 dimensions"):
        loss_fn(np.zeros(3), [0])
    with pytest.raises(ValueError, match=rf"{name}: x has shape \(0, 3\); expected at least one"):
        loss_fn(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_mse_loss_rejects_targets_of_another_shape():
    with pytest.raises(ValueError, match=r"mse_loss: t has shape \(2, 2\); expected \(2, 3\)"):
        mse_loss(np.zeros((2, 3)), np.zeros((2, 2)))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_scores_are_rejected_by_name(loss_fn, bad):
    x = np.zeros((2, 3))
    x[1, 2] = bad
    with pytest.raises(NonFiniteError, match=r"x of shape \(2, 3\) has 1 NaN or infinite"):
        loss_fn(x, [0, 1])


def test_mse_loss_rejects_nonfinite_targets():
    with pytest.raises(ValueError, match=r"mse_loss: t of shape \(2, 1\) has 1 NaN"):
        mse_loss(np.zeros((2, 1)), np.array([[0.0], [np.nan]]))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_float16_scores_of_1e4_give_the_true_finite_loss(loss_fn):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 1e4, -1e4], [1e4, 0.0, -1e4]])
    y = np.array([1, 0, 2, 2])
    loss, dx = loss_fn(x.astype(np.float16), y)          # warnings (overflow) are errors
    true_loss, true_dx = loss_fn(x, y)                    # about 2e4, fits in float16
    assert (type(loss), dx.dtype) == (np.float16, np.float16)
    assert np.isfinite(loss)
    np.testing.assert_allclose(float(loss), true_loss, rtol=1e-3)
    np.testing.assert_allclose(dx.astype(np.float64), true_dx, atol=1e-3)
