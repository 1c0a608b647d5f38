"""Vanilla RNN, word embedding, temporal affine and temporal softmax: known values and errors.

Numeric gradients, shapes, dtypes and side effects are in the contract table
(test_layer_contract.py); the course's fixed-input values are checked here.
"""

import numpy as np
import pytest

import layers
from gradcheck import eval_numerical_gradient, rel_error


def test_rnn_step_forward_matches_the_course_values():
    N, D, H = 3, 10, 4
    x = np.linspace(-0.4, 0.7, num=N * D).reshape(N, D)
    prev_h = np.linspace(-0.2, 0.5, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.1, 0.9, num=D * H).reshape(D, H)
    Wh = np.linspace(-0.3, 0.7, num=H * H).reshape(H, H)
    b = np.linspace(-0.2, 0.4, num=H)
    next_h, _ = layers.rnn_step_forward(x, prev_h, Wx, Wh, b)
    expected = np.asarray([
        [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
        [0.66854692, 0.79562378, 0.87755553, 0.92795967],
        [0.97934501, 0.99144213, 0.99646691, 0.99854353]])
    assert rel_error(expected, next_h) < 1e-7


def test_rnn_forward_matches_the_course_values():
    N, T, D, H = 2, 3, 4, 5
    x = np.linspace(-0.1, 0.3, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-0.3, 0.1, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.4, num=D * H).reshape(D, H)
    Wh = np.linspace(-0.4, 0.1, num=H * H).reshape(H, H)
    b = np.linspace(-0.7, 0.1, num=H)
    h, _ = layers.rnn_forward(x, h0, Wx, Wh, b)
    expected = np.asarray([
        [[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
         [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
         [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
        [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
         [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
         [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]])
    assert rel_error(expected, h) < 1e-7


def test_word_embedding_forward_matches_the_course_values():
    x = np.asarray([[0, 3, 1, 2], [2, 1, 0, 3]])
    W = np.linspace(0, 1, num=5 * 3).reshape(5, 3)
    out, _ = layers.word_embedding_forward(x, W)
    np.testing.assert_allclose(out, W[x])
    np.testing.assert_allclose(out[0, 1], [0.64285714, 0.71428571, 0.78571429], rtol=1e-7)


def test_word_embedding_backward_adds_up_repeated_words():
    x = np.array([[1, 1, 1], [0, 1, 2]])
    W = np.zeros((4, 2))
    _, cache = layers.word_embedding_forward(x, W)
    dout = np.arange(12.0).reshape(2, 3, 2)
    dW = layers.word_embedding_backward(dout, cache)
    np.testing.assert_array_equal(dW[1], dout[0].sum(axis=0) + dout[1, 1])
    np.testing.assert_array_equal(dW[3], [0, 0])     # a word never seen gets nothing


def test_temporal_softmax_loss_is_summed_over_steps_and_divided_by_N(rng):
    x = 1e-3 * rng.standard_normal((200, 10, 10))
    y = rng.integers(10, size=(200, 10))
    full, _ = layers.temporal_softmax_loss(x, y, np.ones((200, 10), dtype=bool))
    assert full == pytest.approx(10 * np.log(10), rel=1e-3)      # ten steps of log(V) each
    one_step, _ = layers.temporal_softmax_loss(x[:, :1], y[:, :1], np.ones((200, 1), bool))
    assert one_step == pytest.approx(np.log(10), rel=1e-3)


def test_temporal_softmax_loss_ignores_masked_steps(rng):
    x, y = rng.standard_normal((3, 4, 5)), rng.integers(5, size=(3, 4))
    mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    loss, dx = layers.temporal_softmax_loss(x, y, mask)
    x2 = x.copy()
    x2[~mask] = 1e3 * rng.standard_normal(((~mask).sum(), 5))      # whatever sits there
    loss2, dx2 = layers.temporal_softmax_loss(x2, y, mask)
    assert loss == pytest.approx(loss2)
    assert np.all(dx[~mask] == 0)
    assert np.all(dx2[~mask] == 0)
    num = eval_numerical_gradient(lambda x: layers.temporal_softmax_loss(x, y, mask)[0], x,
                                  verbose=False)
    assert rel_error(dx, num) < 1e-7


def test_temporal_softmax_loss_is_stable_for_large_scores():
    x = np.array([[[1e4, 0.0, -1e4]]])
    loss, dx = layers.temporal_softmax_loss(x, np.array([[1]]), np.array([[True]]))
    assert loss == pytest.approx(1e4)
    assert np.all(np.isfinite(dx))


def test_float32_stays_float32_through_a_sequence(rng):
    args = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (2, 5), (4, 5),
                                                                 (5, 5), (5,))]
    h, cache = layers.rnn_forward(*args)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layers.rnn_backward(np.ones_like(h), cache))


@pytest.mark.parametrize(("args", "match"), [
    (((2, 3), (2, 5), (4, 5), (5, 5), (5,)), r"rnn_forward: x has shape \(2, 3\); expected 3"),
    (((2, 3, 4), (3, 5), (4, 5), (5, 5), (5,)), r"h0 has shape \(3, 5\); expected \(2, 5\)"),
    (((2, 3, 4), (2, 5), (3, 5), (5, 5), (5,)), r"Wx has shape \(3, 5\); expected \(4, 5\)"),
    (((2, 3, 4), (2, 5), (4, 5), (5, 4), (5,)), r"Wh has shape \(5, 4\); expected \(5, 5\)"),
    (((2, 3, 4), (2, 5), (4, 5), (5, 5), (4,)), r"b has shape \(4,\); expected \(5,\)"),
    (((2, 0, 4), (2, 5), (4, 5), (5, 5), (5,)), r"at least one time step"),
])
def test_rnn_forward_names_the_bad_argument(args, match):
    with pytest.raises(ValueError, match=match):
        layers.rnn_forward(*[np.zeros(s) for s in args])


def test_embedding_and_loss_reject_bad_indices():
    W = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"x has indices in \[0, 5\]; expected \[0, 5\)"):
        layers.word_embedding_forward(np.array([[0, 5]]), W)
    with pytest.raises(ValueError, match="x must hold integer indices, got dtype float64"):
        layers.word_embedding_forward(np.array([[0.0, 1.0]]), W)
    with pytest.raises(ValueError, match=r"mask has shape \(1, 3\); expected \(1, 2\)"):
        layers.temporal_softmax_loss(np.zeros((1, 2, 3)), np.zeros((1, 2), int), np.ones((1, 3)))
