"""Fashion-MNIST (Zalando SE, MIT licence): 60,000 + 10,000 grey 28 x 28 images
of clothes in 10 classes, read from the four IDX files, gzip or plain.

IDX layout (big-endian): two zero bytes, a type byte (0x08 = unsigned byte),
the number of dimensions d, then d uint32 sizes, then the values row-major.
Images are (N, 28, 28) with magic 0x00000803, labels (N,) with 0x00000801.
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ._common import (
    DataFormatError,
    DataNotFoundError,
    check_count,
    check_float_dtype,
    check_split_sizes,
    stratified_split,
    to_float_dict,
)

ENV_VAR = "HANDGRAD_FASHION_MNIST"
DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"       # Debian package dataset-fashion-mnist
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
HOW_TO_GET = (
    "get them with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu, installs to "
    f"{DEFAULT_ROOT}); without root, `apt-get download dataset-fashion-mnist && "
    "dpkg-deb -x dataset-fashion-mnist_*.deb DIR` and pass DIR as root (--data-dir); "
    f"or point root (--data-dir) or ${ENV_VAR} at any folder holding the four IDX files "
    + ", ".join(f"{name}[.gz]" for name in FILES.values())
)


def read_idx(path, ndim):
    """Read one IDX file of unsigned bytes (gzip when the name ends in .gz).

    Returns a uint8 array of ndim dimensions; DataFormatError when the magic
    number, the sizes or the length of the file are wrong. The size the header
    claims is checked before the values are read (against the file's length, or
    a gzip file's length field), and the values are read in bounded chunks, so
    a lying header or a file that decompresses to far more than it claims
    never makes the reader allocate more than the claim.
    """
    gz = str(path).endswith(".gz")
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            header = _idx_header(path, f, ndim)
            shape = tuple(int.from_bytes(header[i:i + 4], "big") for i in range(4, len(header), 4))
            size = math.prod(shape)                       # Python ints: no overflow
            _check_stored_length(path, gz, len(header), shape, size)
            values = _read_exactly(path, f, len(header), shape, size)
    except FileNotFoundError as err:
        raise DataNotFoundError(f"read_idx: {path} does not exist; {HOW_TO_GET}") from err
    except (OSError, EOFError, zlib.error) as err:        # truncated or corrupt gzip
        raise DataFormatError(f"read_idx: cannot read {path}: {err}") from err
    return np.frombuffer(values, dtype=np.uint8).reshape(shape)


def _idx_header(path, f, ndim):
    """The 4 + 4 * ndim header bytes, their magic number checked."""
    magic = 0x800 + ndim
    header = f.read(4 + 4 * ndim)
    found = int.from_bytes(header[:4], "big")
    if len(header) < 4 or found != magic:
        raise DataFormatError(
            f"read_idx: {path} starts with magic number 0x{found:08x}; expected "
            f"0x{magic:08x} (IDX unsigned bytes, {ndim} dimensions)"
        )
    if len(header) < 4 + 4 * ndim:
        raise DataFormatError(
            f"read_idx: {path} has {len(header)} bytes, fewer than its {4 + 4 * ndim}-byte "
            "header (truncated file)"
        )
    return header


def _check_stored_length(path, gz, header, shape, size):
    """Compare header + size with the length on disk (or gzip's length field, mod 2**32)."""
    length = os.path.getsize(path)
    if gz:
        with open(path, "rb") as raw:
            raw.seek(max(length - 4, 0))
            length = int.from_bytes(raw.read(4), "little")   # uncompressed size mod 2**32
        if length == (header + size) % 2**32:
            return
        raise DataFormatError(
            f"read_idx: {path} decompresses to {length} bytes (mod 2**32, by its gzip length "
            f"field); a header of shape {shape} needs {header} + {size} (truncated or "
            "padded file)"
        )
    if length != header + size:
        raise DataFormatError(
            f"read_idx: {path} has {length} bytes; a header of shape {shape} needs "
            f"{header} + {size} (truncated or padded file)"
        )


def _read_exactly(path, f, header, shape, size):
    """size bytes from f in chunks of at most 1 MiB, then nothing more: else DataFormatError."""
    values = bytearray()
    while len(values) < size:
        chunk = f.read(min(size - len(values), 2**20))
        if not chunk:
            break
        values += chunk
    if len(values) < size or f.read(1):
        raise DataFormatError(
            f"read_idx: {path} holds {'fewer' if len(values) < size else 'more'} values than "
            f"a header of shape {shape} claims ({header} + {size} bytes: truncated or padded "
            "file)"
        )
    return values


def find_fashion_mnist(root=None):
    """Return the folder that holds the four IDX files, or raise DataNotFoundError.

    root=None looks in ${HANDGRAD_FASHION_MNIST} when set, else in
    /usr/share/datasets/fashion-mnist. A folder where the Debian package was
    unpacked (with dpkg-deb -x) works too.
    """
    origin = ""
    if root is None:
        origin = f" (from ${ENV_VAR})" if os.environ.get(ENV_VAR) else " (the default)"
        root = os.environ.get(ENV_VAR) or DEFAULT_ROOT
    root = Path(root)
    for folder in (root, root / DEFAULT_ROOT.lstrip("/")):
        if all(_idx_path(folder, name) for name in FILES.values()):
            return folder
    missing = [f"{name}[.gz]" for name in FILES.values() if not _idx_path(root, name)]
    raise DataNotFoundError(
        f"Fashion-MNIST not found: {root}{origin} lacks {', '.join(missing)}; {HOW_TO_GET}"
    )


def _idx_path(folder, name):
    """folder/name.gz or folder/name, whichever exists (None if neither)."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def load_fashion_mnist(root=None):
    """Read Fashion-MNIST.

    Returns a tuple of:
    - Xtr: uint8 of shape (60000, 28, 28); ytr: int64 labels 0..9 of shape (60000,)
    - Xte: uint8 of shape (10000, 28, 28); yte: int64 of shape (10000,)
    """
    folder = find_fashion_mnist(root)
    Xtr, ytr = _load_pair(folder, "train")
    Xte, yte = _load_pair(folder, "test")
    return Xtr, ytr, Xte, yte


def _load_pair(folder, split):
    """Images and labels of one split, checked against each other."""
    images_path = _idx_path(folder, FILES[f"{split}_images"])
    labels_path = _idx_path(folder, FILES[f"{split}_labels"])
    X, y = read_idx(images_path, 3), read_idx(labels_path, 1)
    if X.shape[1:] != (28, 28):
        raise DataFormatError(
            f"load_fashion_mnist: {images_path} holds images of shape {X.shape}; "
            "expected (N, 28, 28)"
        )
    if len(y) != len(X):
        raise DataFormatError(
            f"load_fashion_mnist: {labels_path} has {len(y)} labels but {images_path} "
            f"has {len(X)} images"
        )
    if len(y) and y.max() > 9:
        raise DataFormatError(
            f"load_fashion_mnist: {labels_path} has labels up to {y.max()}; expected 0..9"
        )
    return X, y.astype(np.int64)


def get_fashion_mnist_data(root=None, num_training=None, num_validation=5000, num_test=None,
                           seed=0, dtype=np.float64, subtract_mean=True):
    """Fashion-MNIST as a seeded, stratified train/val/test dict for the Solver.

    The validation images are drawn from the 60,000 training images, every
    class in proportion; num_training=None keeps all the others, an integer
    a stratified subset of them. The test images come from the 10,000 test
    images (num_test=None: all of them, else a stratified subset). Pixels are
    scaled to [0, 1]; with subtract_mean the mean train image is subtracted.

    Returns a dict with X_train, X_val, X_test of shape (N, 1, 28, 28) and the
    given dtype, and int64 labels y_train, y_val, y_test of shape (N,).
    """
    func = "get_fashion_mnist_data"
    dtype = check_float_dtype(func, dtype)
    Xtr, ytr, Xte, yte = load_fashion_mnist(root)
    rng = np.random.default_rng(seed)
    if num_training is None:
        (num_validation,) = check_split_sizes(func, len(ytr), num_validation=num_validation)
        val, train = stratified_split(ytr, [num_validation], rng)
    else:
        check_count(func, "num_training", num_training, minimum=1)
        sizes = check_split_sizes(
            func, len(ytr), False, num_validation=num_validation, num_training=num_training
        )
        val, train, _ = stratified_split(ytr, sizes, rng)
    if num_test is None:
        test = np.arange(len(yte))
    else:
        (num_test,) = check_split_sizes(func, len(yte), False, num_test=num_test)
        test, _ = stratified_split(yte, [num_test], rng)
    parts = {
        "train": (Xtr[train, None], ytr[train]),            # (N, 1, 28, 28) uint8
        "val": (Xtr[val, None], ytr[val]),
        "test": (Xte[test, None], yte[test]),
    }
    del Xtr, Xte                                         # free the uint8 originals first
    return to_float_dict(parts, 255, dtype, subtract_mean)
