"""Fashion-MNIST: IDX files forged in both forms, corrupt ones, and the real files."""

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from datasets import (
    DataFormatError,
    DataNotFoundError,
    get_fashion_mnist_data,
    load_fashion_mnist,
    read_idx,
)

REAL_ROOT = Path("/usr/share/datasets/fashion-mnist")
NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def idx_bytes(array, magic=None):
    """The IDX encoding of a uint8 array: magic, big-endian sizes, values."""
    magic = 0x800 + array.ndim if magic is None else magic
    sizes = np.array(array.shape, dtype=">u4").tobytes()
    return magic.to_bytes(4, "big") + sizes + array.astype(np.uint8).tobytes()


def write_idx(path, content):
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(content)
    else:
        Path(path).write_bytes(content)


def forge(folder, n_train=30, n_test=20, gz=True, seed=0, **override):
    """Write four small IDX files into folder; override replaces one file's bytes."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28)),
        "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28)),
        "test_labels": np.arange(n_test) % 10,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in NAMES.items():
        path = folder / (name + (".gz" if gz else ""))
        write_idx(path, override.get(key, idx_bytes(arrays[key])))
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_reads_forged_files(tmp_path, gz):
    arrays = forge(tmp_path, gz=gz)
    Xtr, ytr, Xte, yte = load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(Xtr, arrays["train_images"])
    np.testing.assert_array_equal(ytr, arrays["train_labels"])
    np.testing.assert_array_equal(Xte, arrays["test_images"])
    np.testing.assert_array_equal(yte, arrays["test_labels"])
    assert Xtr.dtype == np.uint8
    assert ytr.dtype == np.int64
    assert Xtr.flags.writeable


def test_load_fashion_mnist_root_from_env_and_unpacked_deb(tmp_path, monkeypatch):
    forge(tmp_path / "usr/share/datasets/fashion-mnist")
    assert len(load_fashion_mnist(tmp_path)[0]) == 30
    monkeypatch.setenv("HANDGRAD_FASHION_MNIST", str(tmp_path))
    assert len(load_fashion_mnist()[0]) == 30


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDGRAD_FASHION_MNIST", str(tmp_path))
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message
    assert "$HANDGRAD_FASHION_MNIST" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "dpkg-deb -x" in message
    assert "train-images-idx3-ubyte[.gz]" in message
    assert "\n" not in message


def test_one_missing_file_is_named(tmp_path):
    forge(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\];"):
        load_fashion_mnist(tmp_path)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"train_images": idx_bytes(np.zeros((3, 28, 28)), magic=0x0801)},
         r"magic number 0x00000801; expected 0x00000803"),
        ({"train_labels": idx_bytes(np.zeros((3, 28)), magic=0x0801)[:-10]},
         "truncated or padded"),
        ({"test_images": idx_bytes(np.zeros((20, 28, 28)))[:-1]}, "truncated or padded"),
        ({"test_images": idx_bytes(np.zeros((20, 28, 28))) + b"\0"}, "truncated or padded"),
        ({"test_images": b"\0\0"}, "magic number"),
        ({"test_images": idx_bytes(np.zeros((20, 28, 28)))[:9]}, "fewer than its 16-byte header"),
        ({"test_labels": idx_bytes(np.full(20, 10))}, "labels up to 10; expected 0..9"),
        ({"test_labels": idx_bytes(np.zeros(19))}, "has 19 labels but"),
        ({"train_images": idx_bytes(np.zeros((30, 27, 28)))}, r"expected \(N, 28, 28\)"),
    ],
)
def test_corrupt_files_are_refused_by_name(tmp_path, override, match):
    forge(tmp_path, gz=False, **override)
    with pytest.raises(DataFormatError, match=match) as info:
        load_fashion_mnist(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_truncated_gzip_is_refused_by_name(tmp_path):
    forge(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte\.gz decompresses to "
                                              r"\d+ bytes .*truncated or padded"):
        load_fashion_mnist(tmp_path)


def test_a_gzip_that_inflates_past_its_header_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "bomb-idx3-ubyte.gz"
    claim = idx_bytes(np.zeros((2, 28, 28)))                         # 1,584 bytes claimed
    write_idx(path, claim + bytes(50 * 2**20))                        # 50 MiB of zeros follow
    content = bytearray(path.read_bytes())
    content[-4:] = len(claim).to_bytes(4, "little")                   # a length field that lies
    path.write_bytes(bytes(content))
    assert len(content) < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=r"holds more values than a header of shape "
                                                  r"\(2, 28, 28\) claims"):
            read_idx(path, 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


@pytest.mark.parametrize("gz", [True, False])
def test_header_sizes_that_overflow_int64_are_a_format_error(tmp_path, gz):
    path = tmp_path / ("huge-idx3-ubyte" + (".gz" if gz else ""))
    write_idx(path, (0x803).to_bytes(4, "big") + bytes([255]) * 12 + bytes(100))
    with pytest.raises(DataFormatError, match=r"a header of shape \(4294967295, 4294967295, "
                                              r"4294967295\) needs 16 \+ 7922816"):
        read_idx(path, 3)


def test_read_idx_plain_file(tmp_path):
    path = tmp_path / "x-idx2-ubyte"
    write_idx(path, idx_bytes(np.arange(6).reshape(2, 3)))
    np.testing.assert_array_equal(read_idx(path, 2), [[0, 1, 2], [3, 4, 5]])
    with pytest.raises(DataNotFoundError, match="y-idx2-ubyte does not exist"):
        read_idx(tmp_path / "y-idx2-ubyte", 2)


def test_get_fashion_mnist_data_from_forged_files(tmp_path):
    arrays = forge(tmp_path, n_train=100, n_test=40)
    data = get_fashion_mnist_data(tmp_path, num_validation=20, dtype=np.float32,
                                  subtract_mean=False)
    assert data["X_train"].shape == (80, 1, 28, 28)
    assert data["X_val"].shape == (20, 1, 28, 28)
    assert data["X_test"].shape == (40, 1, 28, 28)
    assert data["X_train"].dtype == np.float32
    assert np.all(np.bincount(data["y_val"]) == 2)
    np.testing.assert_allclose(data["X_test"][:, 0], arrays["test_images"] / 255, rtol=1e-6)
    np.testing.assert_array_equal(data["y_test"], arrays["test_labels"])


def test_get_fashion_mnist_data_subsets_and_mean(tmp_path):
    forge(tmp_path, n_train=100, n_test=40)
    data = get_fashion_mnist_data(tmp_path, num_training=50, num_validation=30, num_test=20,
                                  seed=4)
    assert [len(data[f"y_{n}"]) for n in ("train", "val", "test")] == [50, 30, 20]
    assert np.all(np.bincount(data["y_train"]) == 5)
    assert np.all(np.bincount(data["y_test"]) == 2)
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-12)
    again = get_fashion_mnist_data(tmp_path, num_training=50, num_validation=30, num_test=20,
                                   seed=4)
    np.testing.assert_array_equal(data["y_train"], again["y_train"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_validation": 100}, "num_validation 100 = 100 leaves no training samples"),
        ({"num_training": 90, "num_validation": 20}, "= 110 is more than the 100 available"),
        ({"num_training": 0}, "num_training is 0"),
        ({"num_validation": 20, "num_test": 41}, "num_test 41 = 41 is more than the 40 available"),
    ],
)
def test_get_fashion_mnist_data_rejects_bad_sizes(tmp_path, kwargs, match):
    forge(tmp_path, n_train=100, n_test=40)
    with pytest.raises(ValueError, match=match):
        get_fashion_mnist_data(tmp_path, **kwargs)


real_files = pytest.mark.skipif(  # CI installs the files, so there this always runs
    not (REAL_ROOT / "train-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


@real_files
def test_real_fashion_mnist_files_and_split():
    Xtr, ytr, Xte, yte = load_fashion_mnist()
    assert Xtr.shape == (60000, 28, 28)
    assert Xte.shape == (10000, 28, 28)
    assert Xtr.dtype == np.uint8
    assert np.all(np.bincount(ytr) == 6000)
    assert np.all(np.bincount(yte) == 1000)
    assert Xtr.max() == 255
    del Xtr, Xte

    data = get_fashion_mnist_data(dtype=np.float32)
    assert data["X_train"].shape == (55000, 1, 28, 28)
    assert data["X_train"].dtype == np.float32
    assert np.all(np.bincount(data["y_val"]) == 500)
    np.testing.assert_array_equal(data["y_test"], yte)
    assert abs(data["X_train"].mean(dtype=np.float64)) < 1e-7
