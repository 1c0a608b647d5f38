"""TwoLayerNet and FullyConnectedNet: course values, gradients, regularization, modes, dtypes."""

import numpy as np
import pytest

from gradcheck import eval_numerical_gradient
from models import FullyConnectedNet, TwoLayerNet

# The fully connected nets of every flavour, at gradient-check sizes (D=15, C=10).
FLAVOURS = {
    "two_layer": lambda reg: TwoLayerNet(15, 20, 10, weight_scale=5e-2, reg=reg),
    "fc": lambda reg: FullyConnectedNet([20, 30], input_dim=15, reg=reg, weight_scale=5e-2,
                                        dtype=np.float64),
    "fc_batchnorm": lambda reg: FullyConnectedNet([20, 30], input_dim=15, reg=reg,
                                                  weight_scale=5e-2, dtype=np.float64,
                                                  normalization="batchnorm"),
    "fc_layernorm": lambda reg: FullyConnectedNet([20, 30], input_dim=15, reg=reg,
                                                  weight_scale=5e-2, dtype=np.float64,
                                                  normalization="layernorm"),
    "fc_dropout": lambda reg: FullyConnectedNet([20, 30], input_dim=15, reg=reg,
                                                weight_scale=5e-2, dtype=np.float64,
                                                dropout_keep_ratio=0.5, seed=123),
    "fc_no_hidden": lambda reg: FullyConnectedNet([], input_dim=15, reg=reg, weight_scale=5e-2,
                                                  dtype=np.float64),
}


def course_data():
    """The course notebooks' check data: np.random.seed(231), then X (2, 15), y (2,)."""
    np.random.seed(231)
    X = np.random.randn(2, 15)
    y = np.random.randint(10, size=(2,))
    return X, y


def small_data(rng, N=10, D=15, C=10):
    """A batch of N = 10: batchnorm is well conditioned."""
    return rng.standard_normal((N, D)), rng.integers(C, size=N)


# ---- course values -------------------------------------------------------------------------


def test_two_layer_net_initialization_matches_course():
    np.random.seed(231)
    std = 1e-3
    model = TwoLayerNet(input_dim=5, hidden_dim=50, num_classes=7, weight_scale=std)
    assert abs(model.params["W1"].std() - std) < std / 10
    assert abs(model.params["W2"].std() - std) < std / 10
    assert np.all(model.params["b1"] == 0)
    assert np.all(model.params["b2"] == 0)
    assert model.params["W1"].shape == (5, 50)
    assert model.params["W2"].shape == (50, 7)


def test_two_layer_net_linspace_scores_and_losses_match_course():
    N, D, H, C = 3, 5, 50, 7
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    correct_scores = np.asarray([
        [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
        [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
        [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319],
    ])
    assert np.abs(model.loss(X) - correct_scores).sum() < 1e-6
    y = np.asarray([0, 5, 1])
    assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-10
    model.reg = 1.0
    assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-10


@pytest.mark.parametrize(
    ("normalization", "expected"),
    [(None, (2.3004790897684924, 7.052114776533016)),
     ("batchnorm", (2.2611955101340957, 6.996533220108303))],
)
def test_fully_connected_net_initial_losses_match_course(normalization, expected):
    X, y = course_data()
    for reg, loss in zip([0, 3.14], expected, strict=True):
        model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64,
                                  normalization=normalization)
        assert model.loss(X, y)[0] == pytest.approx(loss, rel=1e-12)


def test_fully_connected_net_dropout_losses_match_course():
    X, y = course_data()
    expected = [2.3004790897684924, 2.302371489704412, 2.3042759220785896]
    for keep, loss in zip([1, 0.75, 0.5], expected, strict=True):
        model = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2,
                                  dtype=np.float64, dropout_keep_ratio=keep, seed=123)
        assert model.loss(X, y)[0] == pytest.approx(loss, rel=1e-12)


def test_fully_connected_net_parameters_and_init():
    np.random.seed(0)
    model = FullyConnectedNet([40, 30], input_dim=20, num_classes=5, weight_scale=0.1,
                              normalization="batchnorm")
    shapes = {name: p.shape for name, p in model.params.items()}
    assert shapes == {"W1": (20, 40), "b1": (40,), "W2": (40, 30), "b2": (30,),
                      "W3": (30, 5), "b3": (5,), "gamma1": (40,), "beta1": (40,),
                      "gamma2": (30,), "beta2": (30,)}
    assert all(np.all(model.params[f"b{i}"] == 0) for i in (1, 2, 3))
    assert np.all(model.params["gamma1"] == 1)
    assert np.all(model.params["beta2"] == 0)
    assert abs(model.params["W1"].std() - 0.1) < 0.01
    assert len(model.bn_params) == 2
    assert model.bn_params[1]["running_var"].shape == (30,)


def test_weights_are_drawn_in_parameter_order_from_the_global_state():
    np.random.seed(231)
    W1 = 1e-2 * np.random.randn(6, 4)
    W2 = 1e-2 * np.random.randn(4, 3)
    np.random.seed(231)
    model = FullyConnectedNet([4], input_dim=6, num_classes=3, dtype=np.float64)
    np.testing.assert_array_equal(model.params["W1"], W1)
    np.testing.assert_array_equal(model.params["W2"], W2)
    np.random.seed(231)
    two = TwoLayerNet(6, 4, 3, weight_scale=1e-2)
    np.testing.assert_array_equal(two.params["W2"], W2)


# ---- gradients -----------------------------------------------------------------------------


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_gradients_match_numeric_gradients(flavour, reg, rng):
    # Seeded so that no ReLU input lies within 5e-4 of the kink, where a numeric
    # gradient is meaningless; h = 1e-6 moves a ReLU input by less than 3e-5.
    np.random.seed(231)
    model = FLAVOURS[flavour](reg)
    X, y = small_data(rng)
    for name in model.params:                # make biases, gamma, beta non-trivial
        if not name.startswith("W"):
            model.params[name] = model.params[name] + 0.5 * rng.standard_normal(
                model.params[name].shape)
    _, grads = model.loss(X, y)
    assert sorted(grads) == sorted(model.params)
    for name, param in model.params.items():
        assert grads[name].shape == param.shape
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param, verbose=False,
                                          h=1e-6)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_regularization_adds_half_reg_sum_of_squared_weights_only(rng):
    np.random.seed(231)
    X, y = small_data(rng)
    model = FLAVOURS["fc_batchnorm"](0.0)
    loss0, grads0 = model.loss(X, y)
    model.reg = 0.3
    loss, grads = model.loss(X, y)
    weights = [name for name in model.params if name.startswith("W")]
    expected = 0.5 * 0.3 * sum(np.sum(model.params[w] ** 2) for w in weights)
    assert loss - loss0 == pytest.approx(expected, rel=1e-10)
    for name in model.params:
        extra = 0.3 * model.params[name] if name in weights else 0.0
        np.testing.assert_allclose(grads[name], grads0[name] + extra, rtol=1e-10, atol=1e-15)


# ---- the model reads params and reg at every call -------------------------------------------


@pytest.mark.parametrize("flavour", ["two_layer", "fc", "fc_batchnorm"])
def test_params_and_reg_are_read_at_every_call(flavour, rng):
    np.random.seed(231)
    model = FLAVOURS[flavour](0.0)
    X, y = small_data(rng)
    before = model.loss(X)
    model.params["W1"] = 2 * model.params["W1"]          # replaced
    replaced = model.loss(X)
    assert not np.allclose(replaced, before)
    L = sum(name.startswith("W") for name in model.params)
    model.params[f"b{L}"][0] += 1.0                      # perturbed in place: score 0 moves by 1
    np.testing.assert_allclose(model.loss(X)[:, 0], replaced[:, 0] + 1.0, rtol=1e-12)
    loss0 = model.loss(X, y)[0]
    model.reg = 1.0                                      # set after construction
    assert model.loss(X, y)[0] > loss0


# ---- modes, inputs, dtypes -----------------------------------------------------------------


def test_test_mode_turns_dropout_off_and_is_deterministic(rng):
    np.random.seed(0)
    model = FullyConnectedNet([20, 30], input_dim=15, dropout_keep_ratio=0.5, dtype=np.float64)
    X, _ = small_data(rng)
    scores = model.loss(X)
    np.testing.assert_array_equal(scores, model.loss(X))
    plain = FullyConnectedNet([20, 30], input_dim=15, dtype=np.float64)
    plain.params = model.params
    np.testing.assert_allclose(scores, plain.loss(X), rtol=1e-12)


def test_dropout_without_seed_draws_a_new_mask_each_training_call(rng):
    np.random.seed(0)
    model = FullyConnectedNet([50], input_dim=15, dropout_keep_ratio=0.5, dtype=np.float64)
    X, y = small_data(rng)
    assert model.loss(X, y)[0] != model.loss(X, y)[0]


def test_batchnorm_updates_running_stats_in_training_and_uses_them_in_test(rng):
    np.random.seed(0)
    model = FLAVOURS["fc_batchnorm"](0.0)
    X, y = small_data(rng)
    model.loss(X, y)
    mean = model.bn_params[0]["running_mean"].copy()
    assert np.any(mean != 0)
    scores = model.loss(X)
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], mean)  # test: no update
    np.testing.assert_array_equal(scores, model.loss(X))
    model.bn_params[0]["running_mean"] = mean + 1.0
    assert not np.allclose(model.loss(X), scores)


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_loss_does_not_modify_its_inputs(flavour, rng):
    np.random.seed(0)
    model = FLAVOURS[flavour](0.1)
    X, y = small_data(rng)
    X0, y0 = X.copy(), y.copy()
    params0 = {name: p.copy() for name, p in model.params.items()}
    model.loss(X, y)
    model.loss(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, params0[name])


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_float32_model_stays_float32(normalization, rng):
    np.random.seed(0)
    model = FullyConnectedNet([20, 30], input_dim=15, normalization=normalization,
                              dropout_keep_ratio=0.8, reg=0.1)
    X, y = small_data(rng)                        # float64 data into a float32 model
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.loss(X).dtype == np.float32
    loss, grads = model.loss(X, y)
    assert np.asarray(loss).dtype == np.float32
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    for bn_param in model.bn_params:
        assert all(v.dtype == np.float32 for v in bn_param.values() if isinstance(v, np.ndarray))


def test_two_layer_net_dtype_and_image_shaped_inputs(rng):
    np.random.seed(0)
    model = TwoLayerNet(input_dim=3 * 4 * 4, hidden_dim=10, num_classes=3, dtype=np.float32)
    X = rng.standard_normal((5, 3, 4, 4))
    loss, grads = model.loss(X, rng.integers(3, size=5))
    assert model.loss(X).shape == (5, 3)
    assert np.asarray(loss).dtype == np.float32
    assert grads["W1"].dtype == np.float32
    assert grads["W1"].shape == (48, 10)


def test_integer_inputs_are_accepted(rng):
    np.random.seed(0)
    model = TwoLayerNet(input_dim=4, hidden_dim=6, num_classes=3)
    X = rng.integers(0, 16, size=(5, 4))
    assert model.loss(X).dtype == np.float64


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"normalization": "groupnorm"}, "normalization is 'groupnorm'"),
     ({"dropout_keep_ratio": 0}, r"dropout_keep_ratio is 0; expected a keep probability"),
     ({"dropout_keep_ratio": 1.5}, "dropout_keep_ratio is 1.5"),
     ({"hidden_dims": [10, 0]}, r"hidden_dims is \[10, 0\]; expected integers >= 1")],
)
def test_fully_connected_net_rejects_bad_settings(kwargs, match):
    kwargs = {"hidden_dims": [10], "input_dim": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        FullyConnectedNet(**kwargs)


def test_wrong_input_size_names_the_shapes(rng):
    model = TwoLayerNet(input_dim=4, hidden_dim=6, num_classes=3)
    with pytest.raises(ValueError, match=r"x of shape \(2, 5\)"):
        model.loss(rng.standard_normal((2, 5)))


def test_labels_out_of_range_are_rejected(rng):
    model = FullyConnectedNet([6], input_dim=4, num_classes=3)
    with pytest.raises(ValueError, match="y has labels in"):
        model.loss(rng.standard_normal((2, 4)), np.array([0, 3]))


def test_the_2019_keyword_dropout_is_the_keep_ratio_with_a_deprecation_warning(rng):
    np.random.seed(0)
    new = FullyConnectedNet([6], input_dim=4, num_classes=3, dropout_keep_ratio=0.5, seed=1)
    np.random.seed(0)
    with pytest.warns(DeprecationWarning, match="dropout= is the old name of dropout_keep_ratio"):
        old = FullyConnectedNet([6], input_dim=4, num_classes=3, dropout=0.5, seed=1)
    assert old.dropout_param == new.dropout_param == {"mode": "train", "p": 0.5, "seed": 1}
    X, y = rng.standard_normal((5, 4)), rng.integers(3, size=5)
    assert old.loss(X, y)[0] == new.loss(X, y)[0]
    with pytest.raises(TypeError, match="got both dropout and dropout_keep_ratio"):
        FullyConnectedNet([6], input_dim=4, dropout=0.5, dropout_keep_ratio=0.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"hidden_dim": 0}, ValueError, r"TwoLayerNet: hidden_dim is 0; expected an integer >= 1"),
     ({"num_classes": 0}, ValueError, r"TwoLayerNet: num_classes is 0; expected an integer"),
     ({"input_dim": 2.5}, ValueError, r"TwoLayerNet: input_dim is 2.5"),
     ({"weight_scale": float("nan")}, ValueError,
      r"TwoLayerNet: weight_scale is nan; expected a finite number >= 0"),
     ({"weight_scale": -1.0}, ValueError, r"TwoLayerNet: weight_scale is -1.0"),
     ({"reg": float("inf")}, ValueError, r"TwoLayerNet: reg is inf"),
     ({"dtype": np.int64}, TypeError, r"TwoLayerNet: dtype is int64; expected a floating type"),
     ({"dtype": "fp32"}, TypeError, r"TwoLayerNet: dtype 'fp32' is not a numpy dtype")],
)
def test_two_layer_net_rejects_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TwoLayerNet(**{"input_dim": 4, **kwargs})


def test_fully_connected_net_rejects_bad_sizes_scale_and_dtype():
    with pytest.raises(ValueError, match=r"FullyConnectedNet: num_classes is 0"):
        FullyConnectedNet([6], input_dim=4, num_classes=0)
    with pytest.raises(ValueError, match=r"FullyConnectedNet: weight_scale is inf"):
        FullyConnectedNet([6], input_dim=4, weight_scale=float("inf"))
    with pytest.raises(TypeError, match=r"FullyConnectedNet: dtype is int32"):
        FullyConnectedNet([6], input_dim=4, dtype=np.int32)
