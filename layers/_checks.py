"""Input checks shared by every layer: one line per public function.

Each check raises an error that names the function, the argument and the shapes
involved, so a mistake is reported where it is made and never surfaces later as
a numpy broadcasting accident.
"""

import numpy as np


def as_array(func, name, value):
    """Return value as a numeric ndarray (lists welcome); TypeError otherwise."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged lists and the like
        raise TypeError(f"{func}: {name} must be an array, got {type(value).__name__}") from err
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{func}: {name} must be a numeric array, got dtype {arr.dtype} "
            f"(from {type(value).__name__})"
        )
    return arr


def as_float(func, name, value, like=None):
    """Return value as a floating ndarray.

    Float arrays keep their dtype. Integer and bool arrays (and lists) become
    floats: of like's dtype when like is a float array, else float64.
    """
    arr = as_array(func, name, value)
    if arr.dtype.kind == "f":
        return arr
    if like is not None and np.asarray(like).dtype.kind == "f":
        return arr.astype(np.asarray(like).dtype)
    return arr.astype(np.float64)


def check_ndim(func, name, arr, letters):
    """Require arr.ndim == len(letters); letters name the axes, e.g. "NCHW"."""
    if arr.ndim != len(letters):
        axes = ", ".join(letters)
        raise ValueError(
            f"{func}: {name} has shape {arr.shape}; expected {len(letters)} dimensions ({axes})"
        )


def check_min_ndim(func, name, arr, ndim, expected):
    """Require arr.ndim >= ndim; expected describes the shape, e.g. "(N, d1, ..., dk)"."""
    if arr.ndim < ndim:
        raise ValueError(f"{func}: {name} has shape {arr.shape}; expected {expected}")


def check_shape(func, name, arr, shape, because=""):
    """Require arr.shape == shape exactly (no broadcasting)."""
    if arr.shape != tuple(shape):
        reason = f" {because}" if because else ""
        raise ValueError(f"{func}: {name} has shape {arr.shape}; expected {tuple(shape)}{reason}")


def check_same_shape(func, name_a, a, name_b, b):
    """Require two arrays of one shape, e.g. the two inputs of a gate."""
    if a.shape != b.shape:
        raise ValueError(
            f"{func}: {name_a} has shape {a.shape} but {name_b} has shape {b.shape}; "
            "they must be equal"
        )


def check_float_dtype(func, dtype):
    """Return np.dtype(dtype), which must be a floating type (float32, float64)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{func}: dtype {dtype!r} is not a numpy dtype") from err
    if dt.kind != "f":
        raise TypeError(f"{func}: dtype is {dt}; expected a floating type such as float32")
    return dt


class NonFiniteError(ValueError):
    """An input holds NaN or infinity where the layer cannot give them a meaning."""


def check_finite(func, name, arr):
    """Reject NaN and infinity where a layer cannot give them a meaning."""
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(
            f"{func}: {name} of shape {arr.shape} has {bad} NaN or infinite entries"
        )


def as_dout(func, dout, shape, like=None):
    """The upstream gradient of a backward: a float array of the forward output's shape."""
    dout = as_float(func, "dout", dout, like=like)
    check_shape(func, "dout", dout, shape, because="(the shape of the forward output)")
    return dout


def check_labels(func, name, y, N, C):
    """Require integer labels of shape (N,) with values in [0, C)."""
    y = as_array(func, name, y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"{func}: {name} must hold integer class labels, got dtype {y.dtype}")
        y = y.astype(np.intp)
    elif y.dtype.kind == "b":
        raise ValueError(f"{func}: {name} must hold integer class labels, got dtype bool")
    check_shape(func, name, y, (N,), because=f"(one label per row of the {N} scores)")
    if N and (y.min() < 0 or y.max() >= C):
        raise ValueError(
            f"{func}: {name} has labels in [{y.min()}, {y.max()}]; expected [0, {C}) for C = {C}"
        )
    return y.astype(np.intp, copy=False)


def check_param_dict(func, name, params):
    """Require a dict of layer settings (extra keys are allowed)."""
    if not isinstance(params, dict):
        raise TypeError(f"{func}: {name} must be a dict, got {type(params).__name__}")


def check_mode(func, name, params):
    """Return params['mode'], which must be 'train' or 'test'."""
    check_param_dict(func, name, params)
    if "mode" not in params:
        raise ValueError(f"{func}: {name} has no 'mode'; expected 'train' or 'test'")
    mode = params["mode"]
    if mode not in ("train", "test"):
        raise ValueError(f"{func}: {name}['mode'] is {mode!r}; expected 'train' or 'test'")
    return mode


def check_positive_int(func, name, value):
    """Require an integer >= 1 (strides, window sizes, group counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{func}: {name} is {value!r}; expected an integer >= 1")
    return int(value)


def check_batch(func, name, arr):
    """Require N >= 1 rows: losses and batch statistics average over N."""
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(
            f"{func}: {name} has shape {arr.shape}; expected at least one example (N >= 1)"
        )


def check_nonnegative_int(func, name, value):
    """Require an integer >= 0 (zero padding)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{func}: {name} is {value!r}; expected an integer >= 0")
    return int(value)


def check_window(func, name, arr, window, pad=0):
    """Require a (height, width) window that fits in arr's last two axes padded by pad."""
    H, W = arr.shape[-2] + 2 * pad, arr.shape[-1] + 2 * pad
    if window[0] > H or window[1] > W:
        raise ValueError(
            f"{func}: the {window[0]}x{window[1]} window is larger than {name} of shape "
            f"{arr.shape} padded by {pad} on each side ({H}x{W})"
        )
