"""ReLU, sigmoid and tanh: lecture values, kinks, stability, error messages."""

import numpy as np
import pytest

from layers import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)


def test_relu_lecture_example_exactly():
    _, cache = relu_forward(np.array([1.0, -2.0, 3.0, -1.0]))
    dx = relu_backward(np.array([4.0, -1.0, 5.0, 9.0]), cache)
    np.testing.assert_array_equal(dx, [4.0, 0.0, 5.0, 0.0])


def test_relu_forward_matches_course_values():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    expected = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.04545455, 0.13636364],
            [0.22727273, 0.31818182, 0.40909091, 0.5],
        ]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-9)


def test_relu_gradient_is_zero_at_the_kink():
    _, cache = relu_forward(np.array([0.0, -0.0, 1e-300]))
    np.testing.assert_array_equal(relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_finite_and_exact_at_plus_minus_1000(dtype):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    out, cache = sigmoid_forward(x)                 # warnings are errors: no overflow
    dx = sigmoid_backward(np.ones_like(x), cache)
    assert out.dtype == dx.dtype == dtype
    assert np.all(np.isfinite(dx))
    np.testing.assert_array_equal(out[[0, 2, 4]], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(out[1], np.exp(-50.0), rtol=1e-6)


def test_sigmoid_matches_the_formula_where_it_is_safe(rng):
    x = rng.normal(scale=5, size=(4, 6))
    out, cache = sigmoid_forward(x)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(sigmoid_backward(np.ones_like(x), cache), out * (1 - out))


def test_sigmoid_and_tanh_cache_their_output(rng):
    x = rng.normal(size=(3, 2))
    for forward in (sigmoid_forward, tanh_forward):
        out, cache = forward(x)
        assert cache is out


def test_tanh_values_and_derivative(rng):
    x = rng.normal(size=(5, 3))
    out, cache = tanh_forward(x)
    np.testing.assert_allclose(out, np.tanh(x))
    np.testing.assert_allclose(tanh_backward(np.full_like(x, 2.0), cache), 2 / np.cosh(x) ** 2)
    out, _ = tanh_forward(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(out, [-1.0, 1.0])


def test_activations_accept_lists_and_integers():
    out, _ = relu_forward([[-1, 2]])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0.0, 2.0]])


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (relu_forward, relu_backward),
        (sigmoid_forward, sigmoid_backward),
        (tanh_forward, tanh_backward),
    ],
)
def test_activation_backward_rejects_dout_of_the_wrong_shape(forward, backward):
    _, cache = forward(np.zeros((2, 3)))
    name = backward.__name__
    with pytest.raises(ValueError, match=rf"{name}: dout has shape \(3, 2\); expected \(2, 3\)"):
        backward(np.zeros((3, 2)), cache)


def test_activation_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="relu_forward: x must be a numeric array"):
        relu_forward(np.array(["a", "b"]))
