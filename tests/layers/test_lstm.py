"""LSTM and GRU: the course's LSTM values, the gate order, the carried gradients, errors."""

import numpy as np
import pytest

import layers
from gradcheck import eval_numerical_gradient_array, rel_error


def _course_lstm_step():
    N, D, H = 3, 4, 5
    return (np.linspace(-0.4, 1.2, num=N * D).reshape(N, D),
            np.linspace(-0.3, 0.7, num=N * H).reshape(N, H),
            np.linspace(-0.4, 0.9, num=N * H).reshape(N, H),
            np.linspace(-2.1, 1.3, num=4 * D * H).reshape(D, 4 * H),
            np.linspace(-0.7, 2.2, num=4 * H * H).reshape(H, 4 * H),
            np.linspace(0.3, 0.7, num=4 * H))


def test_lstm_step_forward_matches_the_course_values():
    next_h, next_c, _ = layers.lstm_step_forward(*_course_lstm_step())
    expected_h = np.asarray([
        [0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
        [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
        [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]])
    expected_c = np.asarray([
        [0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
        [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
        [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]])
    assert rel_error(expected_h, next_h) < 1e-7
    assert rel_error(expected_c, next_c) < 1e-7


def test_lstm_gate_order_is_i_f_o_g():
    """Open only the input gate (i = 1) and the candidate (g): next_c = g, next_h = o tanh(g)."""
    H = 2
    x, prev_h, prev_c = np.zeros((1, 1)), np.zeros((1, H)), np.full((1, H), 5.0)
    b = np.concatenate([[50, 50], [-50, -50], [0, 0], [0.5, -0.5]]).astype(float)
    next_h, next_c, _ = layers.lstm_step_forward(x, prev_h, prev_c, np.zeros((1, 4 * H)),
                                                 np.zeros((H, 4 * H)), b)
    np.testing.assert_allclose(next_c, np.tanh([[0.5, -0.5]]), atol=1e-12)   # f = 0 forgets
    np.testing.assert_allclose(next_h, 0.5 * np.tanh(next_c), atol=1e-12)    # o = sigmoid(0)


def test_lstm_step_backward_takes_both_upstream_gradients(rng):
    args = [rng.standard_normal(s) for s in ((4, 5), (4, 6), (4, 6), (5, 24), (6, 24), (24,))]
    next_h, next_c, cache = layers.lstm_step_forward(*args)
    dnext_h, dnext_c = rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)
    grads = layers.lstm_step_backward(dnext_h, dnext_c, cache)
    for k, (arg, grad) in enumerate(zip(args, grads[:3] + grads[3:], strict=True)):
        def f(a, k=k):
            fresh = list(args)
            fresh[k] = a
            h, c, _ = layers.lstm_step_forward(*fresh)
            return np.concatenate([h, c], axis=1)
        num = eval_numerical_gradient_array(f, arg.copy(), np.concatenate([dnext_h, dnext_c], 1))
        assert rel_error(grad, num) < 1e-7, k


def test_lstm_is_stable_for_large_preactivations():
    H = 3
    b = np.array([1e4, -1e4, 1e4] * 4, dtype=float)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        h, cache = layers.lstm_forward(np.ones((2, 4, 1)), np.zeros((2, H)),
                                       np.zeros((1, 4 * H)), np.zeros((H, 4 * H)), b)
        grads = layers.lstm_backward(np.ones_like(h), cache)
    assert np.all(np.isfinite(h))
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_gru_interpolates_between_the_old_state_and_the_candidate():
    H = 2
    prev_h = np.array([[0.3, -0.7]])
    b = np.concatenate([[0, 0], [50, 50], [0, 0]]).astype(float)   # z = 1: keep prev_h
    next_h, _ = layers.gru_step_forward(np.ones((1, 1)), prev_h, np.ones((1, 3 * H)),
                                        np.ones((H, 3 * H)), b)
    np.testing.assert_allclose(next_h, prev_h, atol=1e-12)


def test_lstm_step_forward_names_prev_c():
    args = [np.zeros(s) for s in ((2, 3), (2, 4), (2, 5), (3, 16), (4, 16), (16,))]
    with pytest.raises(ValueError, match=r"lstm_step_forward: prev_c has shape \(2, 5\); "
                                         r"expected \(2, 4\)"):
        layers.lstm_step_forward(*args)
    args[2] = np.zeros((2, 4))
    args[3] = np.zeros((3, 12))
    with pytest.raises(ValueError, match=r"Wx has shape \(3, 12\); expected \(3, 16\) .*4H = 16"):
        layers.lstm_step_forward(*args)
