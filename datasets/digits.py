"""The embedded default dataset: UCI handwritten digits, 1,797 images of 8 x 8.

"Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, Bogazici
University, 1998; UCI Machine Learning Repository, dataset 80, CC BY 4.0),
shipped as package data in datasets/data/digits.csv.gz: one image a row, 64
pixels in 0..16 then the label 0..9. Nothing is downloaded.
"""

import gzip
from importlib import resources

import numpy as np

from ._common import (
    DataFormatError,
    DataNotFoundError,
    check_float_dtype,
    check_split_sizes,
    stratified_split,
    to_float_dict,
)


def _default_path():
    return resources.files("datasets").joinpath("data", "digits.csv.gz")


def load_digits(path=None):
    """Read the raw digits.

    Inputs:
    - path: a digits CSV (gzip or plain); None reads the copy shipped with the package

    Returns a tuple of:
    - X: pixel values 0..16, uint8 of shape (1797, 8, 8)
    - y: labels 0..9, int64 of shape (1797,)
    """
    if path is None:
        with resources.as_file(_default_path()) as file:
            return _read_table(file)
    return _read_table(path)


def _read_table(path):
    """Parse the CSV at path (gzip when the name ends in .gz) and check it."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except FileNotFoundError as err:
        raise DataNotFoundError(
            f"load_digits: {path} does not exist; the digits ship with handgrad as "
            "datasets/data/digits.csv.gz (reinstall the package, or pass path=None)"
        ) from err
    except (ValueError, OSError, EOFError) as err:
        raise DataFormatError(f"load_digits: {path} is not a digits CSV: {err}") from err
    return _check_table(path, table)


def _check_table(source, table):
    """Split a (N, 65) table into images and labels, checking every value's range."""
    if table.shape[1] != 65 or len(table) == 0:
        raise DataFormatError(
            f"load_digits: {source} holds a table of shape {table.shape}; "
            "expected (N, 65): 64 pixels and a label per row"
        )
    pixels, y = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16:
        raise DataFormatError(
            f"load_digits: {source} has pixel values in [{pixels.min()}, {pixels.max()}]; "
            "expected [0, 16]"
        )
    if y.min() < 0 or y.max() > 9:
        raise DataFormatError(
            f"load_digits: {source} has labels in [{y.min()}, {y.max()}]; expected [0, 9]"
        )
    return pixels.astype(np.uint8).reshape(-1, 8, 8), y


def get_digits_data(num_validation=300, num_test=300, seed=0, dtype=np.float64,
                    subtract_mean=True, path=None):
    """The digits as a seeded, stratified train/val/test split for the Solver.

    Pixels are scaled to [0, 1] (divided by 16); with subtract_mean the mean
    train image is subtracted from every split. Every class appears in every
    split in proportion to its size; the same seed gives the same split.

    Returns a dict with:
    - X_train, X_val, X_test: images of shape (N, 1, 8, 8), of the given dtype
    - y_train, y_val, y_test: int64 labels of shape (N,)
    """
    func = "get_digits_data"
    dtype = check_float_dtype(func, dtype)
    X, y = load_digits(path)
    num_validation, num_test = check_split_sizes(
        func, len(y), num_validation=num_validation, num_test=num_test
    )
    val, test, train = stratified_split(y, [num_validation, num_test], seed)
    X = X[:, None]                                       # (N, 1, 8, 8): one channel
    parts = {"train": (X[train], y[train]), "val": (X[val], y[val]), "test": (X[test], y[test])}
    return to_float_dict(parts, 16, dtype, subtract_mean)
