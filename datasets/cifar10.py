"""CIFAR-10 (A. Krizhevsky, 2009): 50,000 + 10,000 colour images of 32 x 32 in
10 classes, from either version the authors publish:

- "python version" (cifar-10-batches-py): data_batch_1 .. data_batch_5 and
  test_batch, each a pickled dict with b"data" (n, 3072) uint8, rows of
  1024 red, 1024 green, 1024 blue values, and b"labels" (n ints 0..9). The
  pickles are read by an unpickler that accepts only the numpy globals an
  array needs and refuses anything else, before it can run;
- "binary version" (cifar-10-batches-bin): data_batch_1.bin .. test_batch.bin,
  records of 3073 bytes: 1 label byte, then the 3072 pixel bytes.

load_CIFAR10 and get_CIFAR10_data follow the CS231n assignments: float images,
(N, 32, 32, 3) from the loader, (N, 3, 32, 32) in the dict, values 0..255
minus the mean train image.
"""

import importlib
import os
import pickle
from pathlib import Path

import numpy as np

from ._common import (
    DataFormatError,
    DataNotFoundError,
    check_float_dtype,
    check_split_sizes,
    to_float_dict,
)

ENV_VAR = "HANDGRAD_CIFAR10"
DEFAULT_ROOT = Path(__file__).resolve().parent / "cifar-10-batches-py"   # as in CS231n
BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
RECORD = 1 + 3 * 32 * 32                                 # label byte + pixels
HOW_TO_GET = (
    "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (or "
    "cifar-10-binary.tar.gz), unpack it with `tar xzf`, and pass the folder "
    f"cifar-10-batches-py (or -bin) as root (--data-dir) or set ${ENV_VAR}"
)


def _latin1_encode(text, encoding):
    """_codecs.encode as protocol-2 pickles of bytes use it, latin-1 only."""
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is refused")
    return text.encode("latin1")


class _NdarrayName:
    """What the name numpy.ndarray resolves to: _reconstruct may be given it, nothing may call it.

    Called, numpy.ndarray(shape) would allocate whatever shape a file asks for
    (a 1 TiB array from a 40-byte pickle) before anything could check it.
    """

    def __new__(cls, *args, **kwargs):
        raise pickle.UnpicklingError("the pickle calls numpy.ndarray(...) itself; a CIFAR-10 "
                                     "batch builds its arrays with _reconstruct")


def _empty_array(reconstruct):
    """_reconstruct that makes only the empty array a pickle then fills from its bytes."""

    def _reconstruct(subtype, shape, typecode):
        if subtype is not _NdarrayName or tuple(shape) != (0,):
            raise pickle.UnpicklingError(f"_reconstruct({shape}) is refused; a pickled array "
                                         "starts empty, its state holds the values")
        return reconstruct(np.ndarray, (0,), typecode)

    return _reconstruct


def _numeric_dtype(*args):
    """np.dtype for numbers only: an object dtype would allocate before its values are read."""
    dtype = np.dtype(*args)
    if dtype.kind not in "biuf":
        raise pickle.UnpicklingError(f"dtype {dtype} is refused; a CIFAR-10 batch holds numbers")
    return dtype


def _allowed_globals():
    """The globals a pickled uint8 array needs, under numpy 1 and numpy 2 names.

    Arrays come from _reconstruct (an empty array, then __setstate__ checks that
    the bytes given fill the shape claimed) or _frombuffer (a view of bytes that
    were read already), so a batch never allocates more than the file holds.
    """
    core = "numpy._core" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core"
    reconstruct = _empty_array(importlib.import_module(f"{core}.multiarray")._reconstruct)
    frombuffer = importlib.import_module(f"{core}.numeric")._frombuffer
    allowed = {("numpy", "ndarray"): _NdarrayName, ("numpy", "dtype"): _numeric_dtype,
               ("_codecs", "encode"): _latin1_encode}
    for spelling in ("numpy.core", "numpy._core"):
        allowed[(f"{spelling}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{spelling}.numeric", "_frombuffer")] = frombuffer
    return allowed


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of _allowed_globals."""

    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")        # Python 2 pickles of numpy arrays
        self.path = path
        self.allowed = _allowed_globals()

    def find_class(self, module, name):
        if (module, name) not in self.allowed:
            raise DataFormatError(
                f"load_CIFAR10: {self.path} refers to the global {module}.{name}, which a "
                "CIFAR-10 batch never needs; refused (the file is not a CIFAR-10 batch "
                "and was not unpickled)"
            )
        return self.allowed[(module, name)]


def _read_pickled_batch(path):
    """One python-version batch -> uint8 (n, 3072) and int64 labels (n,)."""
    try:
        with open(path, "rb") as f:
            batch = _ArrayOnlyUnpickler(f, path).load()
    except DataFormatError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, OverflowError) as err:
        raise DataFormatError(f"load_CIFAR10: {path} is not a readable pickle: {err}") from err
    if not isinstance(batch, dict):
        raise DataFormatError(
            f"load_CIFAR10: {path} holds a {type(batch).__name__}; expected a dict with "
            "b'data' and b'labels'"
        )
    batch = {key.decode("latin1") if isinstance(key, bytes) else key: v for key, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise DataFormatError(
            f"load_CIFAR10: {path} has keys {sorted(batch)}; expected b'data' and b'labels'"
        )
    data = batch["data"]
    is_pixels = isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
    if not is_pixels or data.shape[1] != RECORD - 1:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data)
        raise DataFormatError(
            f"load_CIFAR10: {path} has data {found}; expected uint8 of shape (n, 3072)"
        )
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise DataFormatError(f"load_CIFAR10: {path} has non-integer labels: {err}") from err
    return data, _check_labels(path, labels, len(data))


def _read_binary_batch(path):
    """One binary-version batch -> uint8 (n, 3072) and int64 labels (n,)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise DataFormatError(
            f"load_CIFAR10: {path} has {raw.size} bytes; expected a positive multiple of "
            f"{RECORD} (1 label byte + 3072 pixel bytes per image): truncated file?"
        )
    records = raw.reshape(-1, RECORD)
    return records[:, 1:], _check_labels(path, records[:, 0].astype(np.int64), len(records))


def _check_labels(path, labels, n):
    if labels.shape != (n,):
        raise DataFormatError(
            f"load_CIFAR10: {path} has labels of shape {labels.shape} for {n} images; "
            f"expected ({n},)"
        )
    if n and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(
            f"load_CIFAR10: {path} has labels in [{labels.min()}, {labels.max()}]; "
            "expected 0..9"
        )
    return labels


def _find_batches(root, origin=""):
    """Return (folder, reader, suffix) for the python or binary version under root."""
    root = Path(root)
    for folder in (root, root / "cifar-10-batches-py", root / "cifar-10-batches-bin"):
        if (folder / BATCHES[0]).is_file():
            return folder, _read_pickled_batch, ""
        if (folder / f"{BATCHES[0]}.bin").is_file():
            return folder, _read_binary_batch, ".bin"
    raise DataNotFoundError(
        f"CIFAR-10 not found: {root}{origin} holds neither data_batch_1 (python version) nor "
        f"data_batch_1.bin (binary version); {HOW_TO_GET}"
    )


def _load_uint8(root, origin=""):
    """Xtr, Ytr, Xte, Yte with images as uint8 (N, 32, 32, 3)."""
    folder, read, suffix = _find_batches(root, origin)
    parts = []
    for names in (BATCHES, [TEST_BATCH]):
        paths = [folder / f"{name}{suffix}" for name in names]
        for path in paths:
            if not path.is_file():
                raise DataNotFoundError(f"CIFAR-10 incomplete: {path} is missing; {HOW_TO_GET}")
        batches = [read(path) for path in paths]
        X = np.concatenate([data for data, _ in batches])                # (N, 3072)
        y = np.concatenate([labels for _, labels in batches])
        parts += [X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y]    # (N, 32, 32, 3)
    return tuple(parts)


def load_CIFAR10(root, dtype=np.float64):
    """Load all of CIFAR-10 from root (python or binary version, found by file name).

    Returns a tuple of:
    - Xtr: images of shape (50000, 32, 32, 3), values 0..255 as dtype; Ytr: int64 (50000,)
    - Xte: images of shape (10000, 32, 32, 3); Yte: int64 (10000,)
    """
    dtype = check_float_dtype("load_CIFAR10", dtype)
    Xtr, Ytr, Xte, Yte = _load_uint8(root)
    return np.array(Xtr, dtype=dtype, order="C"), Ytr, np.array(Xte, dtype=dtype, order="C"), Yte


def default_root():
    """${HANDGRAD_CIFAR10} when set, else datasets/cifar-10-batches-py in this package.

    Returns (root, origin), origin saying where root came from for error messages.
    """
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]), f" (from ${ENV_VAR})"
    return DEFAULT_ROOT, f" (the default; ${ENV_VAR} is not set)"


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, root=None, dtype=np.float64):
    """CIFAR-10 split as in CS231n, images channels first.

    The first num_training training images train, the next num_validation
    validate, the first num_test test images test; with subtract_mean the mean
    train image is subtracted (values stay on the 0..255 scale, as in CS231n).
    root=None reads default_root().

    Returns a dict with X_train, X_val, X_test of shape (N, 3, 32, 32) and
    y_train, y_val, y_test of shape (N,).
    """
    func = "get_CIFAR10_data"
    dtype = check_float_dtype(func, dtype)
    Xtr, Ytr, Xte, Yte = _load_uint8(*default_root()) if root is None else _load_uint8(root)
    num_training, num_validation = check_split_sizes(
        func, len(Ytr), False, num_training=num_training, num_validation=num_validation
    )
    (num_test,) = check_split_sizes(func, len(Yte), False, num_test=num_test)
    train, val = slice(0, num_training), slice(num_training, num_training + num_validation)
    parts = {
        "train": (Xtr[train].transpose(0, 3, 1, 2), Ytr[train]),   # (N, 3, 32, 32) views
        "val": (Xtr[val].transpose(0, 3, 1, 2), Ytr[val]),
        "test": (Xte[:num_test].transpose(0, 3, 1, 2), Yte[:num_test]),
    }
    return to_float_dict(parts, 1, dtype, subtract_mean)
