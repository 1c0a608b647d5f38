"""Hidden grading tests (never released): edge cases of the students' blanks."""

import numpy as np

import layers


def test_relu_backward_is_zero_at_the_kink():
    _, cache = layers.relu_forward(np.array([0.0, 1.0, -1.0]))
    dx = layers.relu_backward(np.array([5.0, 5.0, 5.0]), cache)
    assert np.array_equal(dx, [0.0, 5.0, 0.0])


def test_softmax_loss_is_finite_at_1e4():
    loss, dx = layers.softmax_loss(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]]), np.array([0, 2]))
    assert np.isfinite(loss)
    assert np.all(np.isfinite(dx))
    assert np.isclose(loss, 5e3)


def test_batchnorm_backward_keeps_float32(rng):
    x = rng.standard_normal((6, 4)).astype(np.float32)
    gamma, beta = np.ones(4, np.float32), np.zeros(4, np.float32)
    out, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    grads = layers.batchnorm_backward(np.ones_like(out), cache)
    assert [g.dtype for g in grads] == [np.float32] * 3


def test_dropout_backward_scales_by_one_over_p():
    x = np.ones((50, 40))
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": 0.25, "seed": 1})
    dx = layers.dropout_backward(np.ones_like(x), cache)
    assert np.array_equal(dx, out)
    assert set(np.unique(dx)) <= {0.0, 4.0}
