"""solver.optim: known values from the course notebooks, defaults, dtype, no input modified."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import optim

N, D = 4, 5


def linspace(lo, hi):
    return np.linspace(lo, hi, num=N * D).reshape(N, D)


def rel_error(x, y):
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def test_sgd_momentum_known_values():
    config = {"learning_rate": 1e-3, "velocity": linspace(0.6, 0.9)}
    next_w, _ = optim.sgd_momentum(linspace(-0.4, 0.6), linspace(-0.6, 0.4), config=config)
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    assert rel_error(next_w, expected_next_w) < 1e-8
    assert rel_error(config["velocity"], expected_velocity) < 1e-8


def test_rmsprop_known_values():
    config = {"learning_rate": 1e-2, "cache": linspace(0.6, 0.9)}
    next_w, _ = optim.rmsprop(linspace(-0.4, 0.6), linspace(-0.6, 0.4), config=config)
    expected_next_w = np.asarray([
        [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
        [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
        [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
        [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]])
    expected_cache = np.asarray([
        [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
        [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
        [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
        [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]])
    assert rel_error(next_w, expected_next_w) < 1e-7
    assert rel_error(config["cache"], expected_cache) < 1e-7


def test_adam_known_values():
    config = {"learning_rate": 1e-2, "m": linspace(0.6, 0.9), "v": linspace(0.7, 0.5), "t": 5}
    next_w, _ = optim.adam(linspace(-0.4, 0.6), linspace(-0.6, 0.4), config=config)
    expected_next_w = np.asarray([
        [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
        [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
        [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
        [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
    expected_v = np.asarray([
        [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
        [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
        [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
        [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]])
    expected_m = np.asarray([
        [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
        [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
        [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
        [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]])
    assert rel_error(next_w, expected_next_w) < 1e-6
    assert rel_error(config["v"], expected_v) < 1e-8
    assert rel_error(config["m"], expected_m) < 1e-8
    assert config["t"] == 6


def test_sgd_known_values():
    next_w, config = optim.sgd(linspace(-0.4, 0.6), linspace(-0.6, 0.4))
    np.testing.assert_allclose(next_w, linspace(-0.4, 0.6) - 1e-2 * linspace(-0.6, 0.4))
    assert config == {"learning_rate": 1e-2}


@pytest.mark.parametrize(
    ("rule", "defaults", "state"),
    [
        ("sgd", {"learning_rate": 1e-2}, []),
        ("sgd_momentum", {"learning_rate": 1e-2, "momentum": 0.9}, ["velocity"]),
        ("rmsprop", {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}, ["cache"]),
        ("adam", {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
         ["m", "v"]),
    ],
)
def test_defaults_and_state_keys(rule, defaults, state):
    w = np.ones((2, 3))
    _, config = getattr(optim, rule)(w, np.ones_like(w))
    for key, value in defaults.items():
        assert config[key] == value
    for key in state:
        assert config[key].shape == w.shape
    if rule == "adam":
        assert config["t"] == 1


def test_adam_first_step_is_learning_rate_times_sign():
    # With t incremented before the bias correction, m_hat = dw and v_hat = dw**2 at t = 1.
    dw = np.array([3.0, -0.5, 1e-3])
    next_w, _ = optim.adam(np.zeros(3), dw)
    np.testing.assert_allclose(next_w, -1e-3 * np.sign(dw), rtol=1e-4)


@settings(max_examples=20, deadline=None)
@given(rule=st.sampled_from(sorted(optim.UPDATE_RULES)), seed=st.integers(0, 2**31 - 1),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_dtype_kept_and_inputs_untouched(rule, seed, shape):
    gen = np.random.default_rng(seed)
    for dtype in (np.float32, np.float64):
        w = gen.standard_normal(shape).astype(dtype)
        dw = gen.standard_normal(shape)               # float64 gradient on purpose
        w0, dw0 = w.copy(), dw.copy()
        config = {}
        for _ in range(3):                           # state carried between steps
            next_w, config = optim.UPDATE_RULES[rule](w, dw, config)
        assert next_w.dtype == dtype
        assert all(v.dtype == dtype for v in config.values() if isinstance(v, np.ndarray))
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(dw, dw0)


def test_state_arrays_given_by_caller_are_not_modified():
    v = linspace(0.6, 0.9)
    v0 = v.copy()
    optim.sgd_momentum(linspace(-0.4, 0.6), linspace(-0.6, 0.4), {"velocity": v})
    np.testing.assert_array_equal(v, v0)


def test_momentum_accumulates_over_steps():
    config = {"learning_rate": 0.1, "momentum": 0.5}
    w = np.zeros(1)
    for _ in range(3):
        w, config = optim.sgd_momentum(w, np.ones(1), config)
    # v: -0.1, -0.15, -0.175 -> w = -0.425
    np.testing.assert_allclose(w, [-0.425])


@pytest.mark.parametrize("rule", sorted(optim.UPDATE_RULES))
def test_shape_mismatch_names_rule_and_shapes(rule):
    message = rf"{rule}: w has shape \(2, 3\) but dw has shape \(3, 2\)"
    with pytest.raises(ValueError, match=message):
        optim.UPDATE_RULES[rule](np.zeros((2, 3)), np.zeros((3, 2)))


def test_config_must_be_a_dict():
    with pytest.raises(TypeError, match="adam: config must be a dict or None, got list"):
        optim.adam(np.zeros(2), np.zeros(2), [0.1])


def test_lists_are_accepted():
    next_w, _ = optim.sgd([1.0, 2.0], [1.0, 1.0], {"learning_rate": 0.5})
    np.testing.assert_allclose(next_w, [0.5, 1.5])


@pytest.mark.parametrize(
    ("rule", "config", "error", "message"),
    [
        (optim.sgd, {"learning_rate": "1e-2"}, TypeError, r"sgd: learning_rate is '1e-2'"),
        (optim.sgd, {"learning_rate": -1e-2}, ValueError,
         r"sgd: learning_rate is -0.01; expected a finite number >= 0"),
        (optim.sgd, {"learning_rate": float("inf")}, ValueError, r"sgd: learning_rate is inf"),
        (optim.sgd_momentum, {"momentum": 1.0}, ValueError,
         r"sgd_momentum: momentum is 1.0; expected a number in \[0, 1\)"),
        (optim.rmsprop, {"decay_rate": -0.1}, ValueError, r"rmsprop: decay_rate is -0.1"),
        (optim.adam, {"beta1": 1}, ValueError, r"adam: beta1 is 1; expected a number in \[0, 1\)"),
        (optim.adam, {"beta2": float("nan")}, ValueError, r"adam: beta2 is nan"),
        (optim.adam, {"epsilon": 0}, ValueError,
         r"adam: epsilon is 0; expected a finite number > 0"),
    ],
)
def test_hyperparameters_out_of_range_are_rejected_by_name(rule, config, error, message):
    with pytest.raises(error, match=message):
        rule(np.ones(3), np.ones(3), config)
