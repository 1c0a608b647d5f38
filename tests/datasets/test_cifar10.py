"""CIFAR-10: batches forged in the python (pickle) and binary versions, corrupt
and malicious ones, and the CS231n split of get_CIFAR10_data."""

import codecs
import io
import os
import pickle
import tracemalloc

import numpy as np
import pytest

from datasets import DataFormatError, DataNotFoundError, cifar10, get_CIFAR10_data, load_CIFAR10

NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def make_batches(n=4, seed=0):
    """Six batches of n images: {name: (data (n, 3072) uint8, labels list)}."""
    rng = np.random.default_rng(seed)
    return {
        name: (rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
               [int(v) for v in rng.integers(0, 10, size=n)])
        for name in NAMES
    }


def write_python(folder, batches, protocol=pickle.DEFAULT_PROTOCOL):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, labels) in batches.items():
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [b"img.png"] * len(labels)}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=protocol)


def write_binary(folder, batches):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, labels) in batches.items():
        records = np.column_stack([np.array(labels, dtype=np.uint8), data])
        (folder / f"{name}.bin").write_bytes(records.tobytes())


def expected_images(batches, names):
    data = np.concatenate([batches[name][0] for name in names])
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_load_python_version(tmp_path, protocol):
    batches = make_batches()
    write_python(tmp_path, batches, protocol)
    Xtr, Ytr, Xte, Yte = load_CIFAR10(tmp_path)
    assert Yte.shape == (4,)
    assert Xtr.shape == (20, 32, 32, 3)
    assert Xte.shape == (4, 32, 32, 3)
    assert Xtr.dtype == np.float64
    np.testing.assert_array_equal(Xtr, expected_images(batches, NAMES[:5]))
    np.testing.assert_array_equal(Xte, expected_images(batches, NAMES[5:]))
    np.testing.assert_array_equal(Ytr, np.concatenate([batches[n][1] for n in NAMES[:5]]))
    assert Ytr.dtype == np.int64


def test_pixel_layout_is_red_green_blue_planes(tmp_path):
    batches = make_batches(n=1)
    data = batches["data_batch_1"][0]
    data[0, :] = 0
    data[0, 0 * 1024 + 2 * 32 + 5] = 11                  # red at row 2, column 5
    data[0, 1 * 1024 + 0] = 22                           # green at row 0, column 0
    data[0, 2 * 1024 + 31 * 32 + 31] = 33                # blue at row 31, column 31
    write_python(tmp_path, batches)
    Xtr = load_CIFAR10(tmp_path)[0]
    assert Xtr[0, 2, 5, 0] == 11
    assert Xtr[0, 0, 0, 1] == 22
    assert Xtr[0, 31, 31, 2] == 33
    assert Xtr[0].sum() == 66


def test_binary_version_matches_python_version(tmp_path):
    batches = make_batches(seed=3)
    write_python(tmp_path / "cifar-10-batches-py", batches)
    write_binary(tmp_path / "cifar-10-batches-bin", batches)
    from_pickle = load_CIFAR10(tmp_path / "cifar-10-batches-py")
    from_binary = load_CIFAR10(tmp_path / "cifar-10-batches-bin")
    for a, b in zip(from_pickle, from_binary, strict=True):
        np.testing.assert_array_equal(a, b)


def test_root_may_be_the_folder_above_the_batches(tmp_path):
    write_binary(tmp_path / "cifar-10-batches-bin", make_batches())
    assert load_CIFAR10(tmp_path)[0].shape == (20, 32, 32, 3)


class RunsACommand:
    """Unpickling this object would run a shell command (the classic pickle attack)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    batches = make_batches()
    write_python(tmp_path, batches)
    with open(tmp_path / "data_batch_2", "wb") as f:
        pickle.dump({b"data": RunsACommand(marker), b"labels": []}, f)
    with pytest.raises(DataFormatError, match=r"data_batch_2 refers to the global \w+\.system"):
        load_CIFAR10(tmp_path)
    assert not marker.exists()


class CallsEval:
    def __reduce__(self):
        return (eval, ("1 + 1",))


class EncodesRot13:
    def __reduce__(self):
        return (codecs.encode, ("abc", "rot13"))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (CallsEval(), r"refers to the global (__builtin__|builtins)\.eval"),
        (EncodesRot13(), "encoding 'rot13' is refused"),
    ],
)
def test_other_globals_are_refused(tmp_path, payload, match):
    write_python(tmp_path, make_batches())
    (tmp_path / "test_batch").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(DataFormatError, match=match) as info:
        load_CIFAR10(tmp_path)
    assert "test_batch" in str(info.value)


def _overwrite(folder, name, batch):
    with open(folder / name, "wb") as f:
        pickle.dump(batch, f)


@pytest.mark.parametrize(
    ("batch", "match"),
    [
        ([1, 2], "holds a list; expected a dict"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, "expected b'data' and b'labels'"),
        ({b"data": np.zeros((2, 3071), np.uint8), b"labels": [0, 0]},
         r"data uint8 \(2, 3071\); expected uint8 of shape \(n, 3072\)"),
        ({b"data": np.zeros((2, 3072)), b"labels": [0, 0]}, "data float64"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, r"labels of shape \(1,\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]},
         r"labels in \[0, 10\]; expected 0\.\.9"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}, "non-integer labels"),
    ],
)
def test_corrupt_python_batches(tmp_path, batch, match):
    write_python(tmp_path, make_batches())
    _overwrite(tmp_path, "data_batch_3", batch)
    with pytest.raises(DataFormatError, match=match) as info:
        load_CIFAR10(tmp_path)
    assert "data_batch_3" in str(info.value)


def test_truncated_pickle(tmp_path):
    write_python(tmp_path, make_batches())
    path = tmp_path / "data_batch_4"
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(DataFormatError, match="data_batch_4 is not a readable pickle"):
        load_CIFAR10(tmp_path)


@pytest.mark.parametrize(
    ("cut", "match"),
    [(1, "has 12291 bytes; expected a positive multiple of 3073"), (12292, "has 0 bytes")],
)
def test_truncated_binary_batch(tmp_path, cut, match):
    write_binary(tmp_path, make_batches())
    path = tmp_path / "data_batch_5.bin"
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(DataFormatError, match=match) as info:
        load_CIFAR10(tmp_path)
    assert "data_batch_5.bin" in str(info.value)


def test_binary_label_out_of_range(tmp_path):
    batches = make_batches()
    batches["test_batch"][1][2] = 200
    write_binary(tmp_path, batches)
    with pytest.raises(DataFormatError, match=r"test_batch\.bin has labels in \[\d+, 200\]"):
        load_CIFAR10(tmp_path)


def test_missing_folder_and_missing_batch(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"cifar-10-python\.tar\.gz") as info:
        load_CIFAR10(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)
    write_python(tmp_path, make_batches())
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(DataNotFoundError, match="data_batch_4 is missing"):
        load_CIFAR10(tmp_path)


def test_get_CIFAR10_data_follows_cs231n(tmp_path):
    batches = make_batches(n=6)
    write_python(tmp_path, batches)
    Xtr, Ytr, Xte, Yte = load_CIFAR10(tmp_path)
    data = get_CIFAR10_data(num_training=20, num_validation=7, num_test=5, root=tmp_path)

    mean_image = Xtr[:20].mean(axis=0)                   # the CS231n recipe, step by step
    expect = {
        "train": (Xtr[:20] - mean_image, Ytr[:20]),
        "val": (Xtr[20:27] - mean_image, Ytr[20:27]),
        "test": (Xte[:5] - mean_image, Yte[:5]),
    }
    for name, (X, y) in expect.items():
        np.testing.assert_allclose(data[f"X_{name}"], X.transpose(0, 3, 1, 2), atol=1e-12)
        np.testing.assert_array_equal(data[f"y_{name}"], y)
        assert data[f"X_{name}"].flags.c_contiguous


def test_get_CIFAR10_data_raw_float32_and_env_root(tmp_path, monkeypatch):
    write_binary(tmp_path, make_batches())
    monkeypatch.setenv("HANDGRAD_CIFAR10", str(tmp_path))
    data = get_CIFAR10_data(num_training=10, num_validation=10, num_test=4,
                            subtract_mean=False, dtype=np.float32)
    assert data["X_train"].shape == (10, 3, 32, 32)
    assert data["X_train"].dtype == np.float32
    assert data["X_train"].max() > 1                     # the 0..255 scale is kept
    with pytest.raises(ValueError, match="= 21 is more than the 20 available"):
        get_CIFAR10_data(num_training=11, num_validation=10, num_test=4)


def test_get_CIFAR10_data_default_root_is_named_when_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("HANDGRAD_CIFAR10", raising=False)
    monkeypatch.setattr(cifar10, "DEFAULT_ROOT", tmp_path / "cifar-10-batches-py")
    with pytest.raises(DataNotFoundError, match=r"cifar-10-batches-py \(the default; "):
        get_CIFAR10_data()


def test_numpy1_spelling_of_the_array_globals_is_accepted(tmp_path):
    batches = make_batches()
    write_python(tmp_path, batches, protocol=2)
    path = tmp_path / "data_batch_1"
    old = path.read_bytes()
    assert b"numpy._core.multiarray\n_reconstruct" in old
    path.write_bytes(old.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    Xtr = load_CIFAR10(tmp_path)[0]
    np.testing.assert_array_equal(Xtr[:4], expected_images(batches, NAMES[:1]))


class ClaimsShape:
    """Pickles as numpy pickles an array (_reconstruct, then a state), with any shape claimed."""

    def __init__(self, shape, dtype=np.uint8, raw=b"\x01\x02"):
        self.state = (1, shape, np.dtype(dtype), False, raw)

    def __reduce__(self):
        return (np._core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), self.state)


def _array_pickle(shape, dtype=np.uint8, raw=b"\x01\x02"):
    return pickle.dumps(ClaimsShape(shape, dtype, raw), protocol=2)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"cnumpy\nndarray\n(I1099511627776\ntR.",
         r"the pickle calls numpy\.ndarray\(\.\.\.\) itself"),
        (b"cnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I1099511627776\ntS'b'"
         b"\ntR.", r"_reconstruct\(\(1099511627776,\)\) is refused"),
        (_array_pickle((2**20, 2**20)), "buffer size does not match array size"),
        (_array_pickle((2**40,), dtype=object, raw=[]), "dtype object is refused"),
    ],
    ids=["ndarray_called", "reconstruct_shape", "state_claims_1_TiB", "object_dtype"],
)
def test_a_pickle_claiming_a_huge_array_is_refused_before_allocating(tmp_path, payload, match):
    write_python(tmp_path, make_batches())
    (tmp_path / "test_batch").write_bytes(payload)
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=rf"test_batch is not a readable pickle: {match}"):
            load_CIFAR10(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**30          # the six small batches are read; 1 TiB never is


def test_the_array_pickle_helper_builds_a_real_array(tmp_path):
    from datasets.cifar10 import _ArrayOnlyUnpickler

    array = _ArrayOnlyUnpickler(io.BytesIO(_array_pickle((2, 2), raw=b"\x01\x02\x03\x04")),
                                "x").load()
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])
