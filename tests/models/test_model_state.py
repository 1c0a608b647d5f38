"""Model state: state_dict / load_state_dict and .npz save / load (atomic, validated, no pickle)."""

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

import models.base
from models import (
    CaptioningRNN,
    FullyConnectedNet,
    ThreeLayerConvNet,
    TwoLayerNet,
    load_model,
)


def trained_batchnorm_net(rng, dtype=np.float64):
    """A batchnorm net after one training call: its running statistics are not zeros."""
    np.random.seed(0)
    model = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                              dtype=dtype)
    model.loss(rng.standard_normal((8, 4)), rng.integers(3, size=8))
    return model


def test_state_dict_holds_params_and_running_statistics(rng):
    model = trained_batchnorm_net(rng)
    state = model.state_dict()
    running = {f"bn_params.{i}.{key}" for i in (0, 1) for key in ("running_mean", "running_var")}
    assert set(state) == set(model.params) | running
    np.testing.assert_array_equal(state["bn_params.1.running_var"],
                                  model.bn_params[1]["running_var"])
    np.testing.assert_array_equal(state["W2"], model.params["W2"])


def test_state_dict_is_a_snapshot(rng):
    model = trained_batchnorm_net(rng)
    state = model.state_dict()
    state["W1"][...] = 0
    state["bn_params.0.running_mean"][...] = 0
    assert np.any(model.params["W1"] != 0)
    assert np.any(model.bn_params[0]["running_mean"] != 0)


def test_load_state_dict_restores_predictions_exactly(rng):
    model = trained_batchnorm_net(rng)
    X = rng.standard_normal((5, 4))
    scores = model.loss(X)
    other = trained_batchnorm_net(np.random.default_rng(1))
    assert not np.array_equal(other.loss(X), scores)
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.loss(X), scores)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip(tmp_path, rng, dtype):
    model = trained_batchnorm_net(rng, dtype=dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    fresh = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                              dtype=dtype)
    assert fresh.load(path) is fresh
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value, err_msg=key)
    assert {p.dtype for p in fresh.params.values()} == {np.dtype(dtype)}
    X = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(fresh.loss(X), model.loss(X))


def test_saved_file_is_a_plain_npz_that_loads_without_pickle(tmp_path, rng):
    np.random.seed(0)
    model = TwoLayerNet(4, 6, 3)
    path = tmp_path / "two.npz"
    model.save(str(path))
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W1", "W2", "b1", "b2", "model.json"]
        np.testing.assert_array_equal(archive["W1"], model.params["W1"])
        assert json.loads(str(archive["model.json"])) == {
            "class": "TwoLayerNet", "args": {"input_dim": 4, "hidden_dim": 6, "num_classes": 3,
                                             "weight_scale": 1e-3, "reg": 0.0, "dtype": "float64"}}
    assert [p.name for p in tmp_path.iterdir()] == ["two.npz"]     # no temporary file left


def test_load_casts_to_the_models_dtype(tmp_path):
    np.random.seed(0)
    TwoLayerNet(4, 6, 3).save(tmp_path / "f64.npz")
    model = TwoLayerNet(4, 6, 3, dtype=np.float32)
    model.load(tmp_path / "f64.npz")
    assert model.params["W1"].dtype == np.float32


def test_load_rejects_mismatched_shapes_and_names_file_key_and_shapes(tmp_path):
    np.random.seed(0)
    path = tmp_path / "h6.npz"
    TwoLayerNet(4, 6, 3).save(path)
    model = TwoLayerNet(4, 7, 3)
    W1 = model.params["W1"]
    match = (r"TwoLayerNet.load_state_dict: file '.*h6.npz' key 'W1' has shape \(4, 6\); "
             r"the model's 'W1' has shape \(4, 7\)")
    with pytest.raises(ValueError, match=match):
        model.load(path)
    assert model.params["W1"] is W1                       # untouched


def test_load_rejects_missing_and_unexpected_keys(tmp_path, rng):
    np.random.seed(0)
    path = tmp_path / "plain.npz"
    FullyConnectedNet([6, 5], input_dim=4, num_classes=3).save(path)
    model = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm")
    with pytest.raises(ValueError, match=r"missing keys \['gamma1', .*'bn_params.0.running_mean'"):
        model.load(path)
    np.savez(tmp_path / "extra.npz", **model.state_dict(), surprise=np.zeros(2))
    with pytest.raises(ValueError, match=r"unexpected keys \['surprise'\]"):
        model.load(tmp_path / "extra.npz")


def write_npz_with(W1):
    """A writer of an otherwise valid TwoLayerNet(4, 6, 3) archive whose W1 is replaced."""
    def writer(path):
        state = {"W1": W1, "b1": np.zeros(6), "W2": np.zeros((6, 3)), "b2": np.zeros(3)}
        with open(path, "wb") as f:
            np.savez(f, **state)
    return writer


def write_npy(path):
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))


@pytest.mark.parametrize(
    ("writer", "match"),
    [(lambda p: p.write_bytes(b"not an archive at all"), r"cannot read .* as an \.npz archive"),
     (write_npy, r"cannot read .*: it holds a single array \(an \.npy file\)"),
     (write_npz_with(np.array([{"a": 1}] * 24, dtype=object).reshape(4, 6)),
      r"cannot read .*: member 'W1.npy' holds Python objects \(dtype object\)"),
     (write_npz_with(np.full((4, 6), "text")), "key 'W1' has dtype <U4; expected numbers"),
     (write_npz_with(np.full((4, 6), np.nan)), r"key 'W1' of shape \(4, 6\) has NaN")],
    ids=["garbage", "npy", "pickled_object", "strings", "nan"],
)
def test_load_rejects_bad_files(tmp_path, writer, match):
    path = tmp_path / "bad.npz"
    writer(path)
    np.random.seed(0)
    model = TwoLayerNet(4, 6, 3)
    before = model.state_dict()
    with pytest.raises(ValueError, match=match):
        model.load(path)
    for key, value in before.items():
        np.testing.assert_array_equal(model.params[key], value)


def test_load_rejects_a_truncated_file(tmp_path):
    np.random.seed(0)
    model = TwoLayerNet(40, 60, 3)
    path = tmp_path / "torn.npz"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cannot read '.*torn\.npz' as an \.npz archive"):
        model.load(path)


def test_load_of_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        TwoLayerNet(4, 6, 3).load(tmp_path / "nowhere.npz")


def test_save_never_overwrites_a_file_that_is_not_an_npz(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("precious")
    with pytest.raises(FileExistsError, match=r"not an \.npz archive; refusing to overwrite"):
        TwoLayerNet(4, 6, 3).save(path)
    assert path.read_text() == "precious"
    with pytest.raises(IsADirectoryError, match="is a folder"):
        TwoLayerNet(4, 6, 3).save(tmp_path)


def test_save_replaces_an_older_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    np.random.seed(0)
    TwoLayerNet(4, 6, 3).save(path)
    np.random.seed(1)
    newer = TwoLayerNet(4, 6, 3)
    newer.save(path)
    assert zipfile.is_zipfile(path)
    with np.load(path) as archive:
        np.testing.assert_array_equal(archive["W1"], newer.params["W1"])


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    np.random.seed(0)
    old = TwoLayerNet(4, 6, 3)
    old.save(path)
    before = path.read_bytes()

    def torn_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(models.base.np, "savez", torn_savez)
    with pytest.raises(KeyboardInterrupt):
        TwoLayerNet(4, 6, 3).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_saved_file_permissions_follow_the_umask(tmp_path):
    path = tmp_path / "m.npz"
    TwoLayerNet(4, 6, 3).save(path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_save_writes_exactly_the_path_it_is_given(tmp_path, rng):
    model = trained_batchnorm_net(rng)
    model.save(tmp_path / "best_two_layer_net.npy")       # the course's file name
    assert [p.name for p in tmp_path.iterdir()] == ["best_two_layer_net.npy"]
    fresh = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                              dtype=np.float64)
    fresh.load(tmp_path / "best_two_layer_net.npy")
    X = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(fresh.loss(X), model.loss(X))


@pytest.mark.parametrize(
    "build",
    [lambda: TwoLayerNet(4, 6, 3, weight_scale=0.1, reg=0.5, dtype=np.float32),
     lambda: FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                               dropout_keep_ratio=0.5, dtype=np.float64, seed=3),
     lambda: ThreeLayerConvNet(input_dim=(1, 6, 6), num_filters=2, filter_size=3,
                               hidden_dim=5, num_classes=3, dtype=np.float64),
     lambda: CaptioningRNN({"<NULL>": 0, "<START>": 1, "<END>": 2, "cat": 3}, input_dim=4,
                           wordvec_dim=3, hidden_dim=5, cell_type="lstm", dtype=np.float64)],
    ids=["two_layer", "fc", "convnet", "captioning_lstm"],
)
def test_load_model_rebuilds_the_model_from_its_file_alone(tmp_path, rng, build):
    np.random.seed(0)
    model = build()
    if hasattr(model, "bn_params"):
        model.loss(rng.standard_normal((8, 4)), rng.integers(3, size=8))  # running stats
    model.save(tmp_path / "model.npz")
    random_state = np.random.get_state()[1].copy()
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(np.random.get_state()[1], random_state)   # untouched
    assert type(loaded) is type(model)
    assert loaded.init_args == model.init_args
    assert loaded.reg == model.reg
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], value, err_msg=key)
        assert loaded.state_dict()[key].dtype == value.dtype
    if isinstance(model, CaptioningRNN):
        features = rng.standard_normal((2, 4))
        np.testing.assert_array_equal(loaded.sample(features, 5), model.sample(features, 5))
        return
    shape = model.input_dim if isinstance(model, ThreeLayerConvNet) else (4,)
    X = rng.standard_normal((2, *shape))
    np.testing.assert_array_equal(loaded.loss(X), model.loss(X))
    same = type(model).load(tmp_path / "model.npz")       # on the class: the same in one call
    np.testing.assert_array_equal(same.loss(X), model.loss(X))


def test_load_model_from_a_folder_and_its_errors(tmp_path):
    np.random.seed(0)
    TwoLayerNet(4, 6, 3).save(tmp_path / "model.npz")
    assert isinstance(load_model(tmp_path), TwoLayerNet)
    with pytest.raises(ValueError, match=r"holds a 'TwoLayerNet'; expected FullyConnectedNet"):
        FullyConnectedNet.load(tmp_path / "model.npz")
    np.savez(tmp_path / "plain.npz", W1=np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"plain.npz' holds no constructor arguments"):
        load_model(tmp_path / "plain.npz")


def test_load_refuses_a_member_whose_header_claims_more_than_it_holds(tmp_path):
    np.random.seed(0)
    TwoLayerNet(4, 6, 3).save(tmp_path / "model.npz")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (2**40,)})
    with zipfile.ZipFile(tmp_path / "model.npz") as real, \
            zipfile.ZipFile(tmp_path / "lying.npz", "w") as lying:
        for name in real.namelist():
            forged = header.getvalue() + bytes(192) if name == "W1.npy" else real.read(name)
            lying.writestr(name, forged, compress_type=zipfile.ZIP_DEFLATED)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"member 'W1.npy' claims shape \(1099511627776,\) "
                                             r"of float64 \(8796093022208 bytes\) but holds 192"):
            load_model(tmp_path / "lying.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24
