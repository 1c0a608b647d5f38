"""ThreeLayerConvNet: shapes, initialization, gradients, regularization, dtypes, errors."""

import numpy as np
import pytest

from gradcheck import eval_numerical_gradient
from models import ThreeLayerConvNet


def tiny_net(reg=0.0, filter_size=3, input_dim=(2, 6, 5), dtype=np.float64):
    np.random.seed(231)
    return ThreeLayerConvNet(input_dim=input_dim, num_filters=3, filter_size=filter_size,
                             hidden_dim=7, num_classes=4, weight_scale=0.3, reg=reg, dtype=dtype)


def test_parameter_shapes_and_initialization():
    np.random.seed(231)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, filter_size=5,
                              hidden_dim=20, num_classes=10, weight_scale=1e-2)
    shapes = {name: p.shape for name, p in model.params.items()}
    assert shapes == {"W1": (8, 3, 5, 5), "b1": (8,), "W2": (8 * 8 * 8, 20), "b2": (20,),
                      "W3": (20, 10), "b3": (10,)}
    assert all(np.all(model.params[f"b{i}"] == 0) for i in (1, 2, 3))
    assert abs(model.params["W2"].std() - 1e-2) < 1e-3
    assert {p.dtype for p in model.params.values()} == {np.dtype(np.float32)}


def test_weights_are_drawn_in_parameter_order_from_the_global_state():
    np.random.seed(231)
    W1 = 0.3 * np.random.randn(3, 2, 3, 3)
    W2 = 0.3 * np.random.randn(3 * 3 * 2, 7)
    model = tiny_net()
    np.testing.assert_array_equal(model.params["W1"], W1)
    np.testing.assert_array_equal(model.params["W2"], W2)


def test_initial_loss_is_log_of_the_number_of_classes(rng):
    np.random.seed(231)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=10)
    X = rng.standard_normal((20, 3, 8, 8))
    loss, _ = model.loss(X, rng.integers(10, size=20))
    assert loss == pytest.approx(np.log(10), rel=1e-4)
    model.reg = 0.5
    assert model.loss(X, rng.integers(10, size=20))[0] > loss


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("filter_size", [3, 2])
def test_gradients_match_numeric_gradients(reg, filter_size, rng):
    model = tiny_net(reg, filter_size)
    X = rng.standard_normal((3, 2, 6, 5))
    y = rng.integers(4, size=3)
    for name in ("b1", "b2", "b3"):
        model.params[name] = 0.3 * rng.standard_normal(model.params[name].shape)
    _, grads = model.loss(X, y)
    assert sorted(grads) == sorted(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param, verbose=False,
                                          h=1e-6)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_regularization_is_on_weights_only(rng):
    model = tiny_net()
    X, y = rng.standard_normal((3, 2, 6, 5)), rng.integers(4, size=3)
    loss0, grads0 = model.loss(X, y)
    model.reg = 0.25
    loss, grads = model.loss(X, y)
    expected = 0.125 * sum(np.sum(model.params[w] ** 2) for w in ("W1", "W2", "W3"))
    assert loss - loss0 == pytest.approx(expected, rel=1e-10)
    for name, g in grads.items():
        extra = 0.25 * model.params[name] if name.startswith("W") else 0.0
        np.testing.assert_allclose(g, grads0[name] + extra, rtol=1e-10, atol=1e-15)


def test_float32_model_stays_float32(rng):
    model = tiny_net(reg=0.1, dtype=np.float32)
    X = rng.standard_normal((3, 2, 6, 5))                 # float64 images
    scores = model.loss(X)
    loss, grads = model.loss(X, rng.integers(4, size=3))
    assert scores.dtype == np.float32
    assert scores.shape == (3, 4)
    assert np.asarray(loss).dtype == np.float32
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_params_are_read_at_every_call(rng):
    model = tiny_net()
    X = rng.standard_normal((3, 2, 6, 5))
    scores = model.loss(X)
    model.params["b3"] = model.params["b3"] + 1.0
    np.testing.assert_allclose(model.loss(X), scores + 1.0, rtol=1e-12)


def test_wrong_image_shape_is_rejected_with_the_expected_shape(rng):
    model = tiny_net()
    with pytest.raises(ValueError, match=r"X has shape \(3, 2, 5, 5\); expected \(N, 2, 6, 5\)"):
        model.loss(rng.standard_normal((3, 2, 5, 5)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"input_dim": (3, 32)}, r"input_dim is \(3, 32\); expected \(C, H, W\)"),
     ({"input_dim": (1, 1, 8)}, "too small for a 3x3 conv followed by a 2x2 max pool"),
     ({"filter_size": 0}, "filter_size is 0; expected an integer >= 1")],
)
def test_bad_settings_are_rejected(kwargs, match):
    kwargs = {"input_dim": (1, 8, 8), "filter_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        ThreeLayerConvNet(**kwargs)


def test_save_load_round_trip(tmp_path, rng):
    model = tiny_net(dtype=np.float32)
    path = tmp_path / "cnn.npz"
    model.save(path)
    np.random.seed(0)
    other = ThreeLayerConvNet(input_dim=(2, 6, 5), num_filters=3, filter_size=3, hidden_dim=7,
                              num_classes=4)
    other.load(path)
    X = rng.standard_normal((2, 2, 6, 5))
    np.testing.assert_array_equal(other.loss(X), model.loss(X))
