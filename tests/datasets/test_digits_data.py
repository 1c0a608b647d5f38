"""The embedded digits: raw loader, the split dict, and corrupt CSV files."""

import gzip

import numpy as np
import pytest

from datasets import DataFormatError, DataNotFoundError, get_digits_data, load_digits


def test_load_digits_raw_shapes_and_ranges():
    X, y = load_digits()
    assert X.shape == (1797, 8, 8)
    assert X.dtype == np.uint8
    assert y.shape == (1797,)
    assert X.min() == 0
    assert X.max() == 16
    assert set(np.unique(y)) == set(range(10))


def test_get_digits_data_layout():
    data = get_digits_data()
    sizes = {"train": 1197, "val": 300, "test": 300}
    for name, N in sizes.items():
        assert data[f"X_{name}"].shape == (N, 1, 8, 8)
        assert data[f"X_{name}"].dtype == np.float64
        assert data[f"y_{name}"].shape == (N,)
        assert data[f"y_{name}"].dtype == np.int64
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-12)


def test_get_digits_data_pixels_scaled_to_unit_range_without_mean():
    data = get_digits_data(subtract_mean=False)
    X, _ = load_digits()
    all_pixels = np.concatenate([data[f"X_{n}"].ravel() for n in ("train", "val", "test")])
    assert all_pixels.min() == 0.0
    assert all_pixels.max() == 1.0
    np.testing.assert_array_equal(np.sort(all_pixels), np.sort(X.ravel() / 16))


def test_get_digits_data_splits_are_disjoint_and_cover_everything():
    data = get_digits_data(subtract_mean=False)
    X, _ = load_digits()
    rows = {row.tobytes() for row in (X.reshape(len(X), -1) / 16)}
    seen = [data[f"X_{n}"].reshape(len(data[f"X_{n}"]), -1) for n in ("train", "val", "test")]
    assert sum(len(s) for s in seen) == 1797
    assert {row.tobytes() for s in seen for row in s} == rows


def test_get_digits_data_float32_and_seeds():
    a = get_digits_data(dtype=np.float32, seed=1)
    b = get_digits_data(dtype=np.float32, seed=1)
    c = get_digits_data(dtype=np.float32, seed=2)
    assert a["X_train"].dtype == np.float32
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["y_train"], c["y_train"])


def test_get_digits_data_every_class_in_every_split():
    data = get_digits_data(num_validation=100, num_test=50)
    for name in ("train", "val", "test"):
        assert np.all(np.bincount(data[f"y_{name}"], minlength=10) > 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_validation": -1}, "get_digits_data: num_validation is -1"),
        ({"num_test": 2.5}, "get_digits_data: num_test is 2.5"),
        ({"num_validation": 1000, "num_test": 797}, "leaves no training samples"),
        ({"dtype": np.int32}, "get_digits_data: dtype is int32"),
    ],
)
def test_get_digits_data_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        get_digits_data(**kwargs)


def _write_csv(path, rows):
    with gzip.open(path, "wt") as f:
        f.write("\n".join(",".join(str(v) for v in row) for row in rows) + "\n")


def test_load_digits_reads_a_given_file(tmp_path):
    path = tmp_path / "d.csv.gz"
    _write_csv(path, [[3] * 64 + [7], [16] * 64 + [0]])
    X, y = load_digits(path)
    assert X.shape == (2, 8, 8)
    np.testing.assert_array_equal(y, [7, 0])


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([[1] * 63 + [7]], r"shape \(1, 64\); expected \(N, 65\)"),
        ([[17] * 64 + [7]], r"pixel values in \[17, 17\]"),
        ([[1] * 64 + [10]], r"labels in \[10, 10\]"),
        ([["x"] * 65], "is not a digits CSV"),
    ],
)
def test_load_digits_rejects_corrupt_files(tmp_path, rows, match):
    path = tmp_path / "bad.csv.gz"
    _write_csv(path, rows)
    with pytest.raises(DataFormatError, match=match) as info:
        load_digits(path)
    assert str(path) in str(info.value)


def test_load_digits_truncated_gzip(tmp_path):
    path = tmp_path / "cut.csv.gz"
    _write_csv(path, [[1] * 64 + [3]] * 50)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataFormatError, match=r"cut\.csv\.gz"):
        load_digits(path)


def test_load_digits_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_digits(tmp_path / "nope.csv.gz")
