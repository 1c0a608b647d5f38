"""The 2-D spiral: the CS231n construction, its dict, and bad arguments."""

import numpy as np
import pytest

from datasets import get_spiral_data, make_spiral


def test_make_spiral_shapes_and_labels():
    X, y = make_spiral(num_per_class=50, num_classes=4)
    assert X.shape == (200, 2)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(y, np.repeat(np.arange(4), 50))
    assert y.dtype == np.int64


def test_make_spiral_without_noise_is_the_exact_spiral():
    X, y = make_spiral(num_per_class=5, num_classes=3, noise=0.0)
    r = np.tile(np.linspace(0, 1, 5), 3)
    theta = 4 * y + 4 * r
    np.testing.assert_allclose(X, np.c_[r * np.sin(theta), r * np.cos(theta)])
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), r)


def test_make_spiral_seeded():
    a, _ = make_spiral(seed=5)
    b, _ = make_spiral(seed=5)
    c, _ = make_spiral(seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_get_spiral_data_layout_and_balance():
    data = get_spiral_data(num_per_class=100, num_classes=3, dtype=np.float32)
    assert data["X_train"].shape == (180, 2)
    assert data["X_val"].shape == (60, 2)
    assert data["X_test"].shape == (60, 2)
    assert data["X_val"].dtype == np.float32
    for name in ("train", "val", "test"):
        counts = np.bincount(data[f"y_{name}"], minlength=3)
        assert counts.max() - counts.min() <= 1


def test_get_spiral_data_sizes_and_seed():
    a = get_spiral_data(num_validation=30, num_test=0, seed=1)
    b = get_spiral_data(num_validation=30, num_test=0, seed=1)
    assert len(a["y_val"]) == 30
    assert len(a["y_test"]) == 0
    assert len(a["y_train"]) == 270
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_spiral(num_per_class=0), "make_spiral: num_per_class is 0"),
        (lambda: make_spiral(num_classes=2.0), "make_spiral: num_classes is 2.0"),
        (lambda: make_spiral(noise=-1), "make_spiral: noise is -1"),
        (lambda: get_spiral_data(num_validation=150, num_test=150), "leaves no training"),
    ],
)
def test_spiral_rejects_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
