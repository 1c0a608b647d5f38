"""The lecture's gates (add, multiply, max) and the affine-relu sandwich."""

import numpy as np
import pytest

from layers import (
    add_backward,
    add_forward,
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    max_backward,
    max_forward,
    multiply_backward,
    multiply_forward,
    relu_backward,
    relu_forward,
)


def test_lecture_example_f_equals_x_plus_y_times_z_exactly():
    q, add_cache = add_forward(-2.0, 5.0)          # q = x + y = 3
    f, mul_cache = multiply_forward(q, -4.0)       # f = q z = -12
    dq, dz = multiply_backward(1.0, mul_cache)
    dx, dy = add_backward(dq, add_cache)
    assert (f, dx, dy, dz) == (-12.0, -4.0, -4.0, 3.0)


def test_add_distributes_the_gradient(rng):
    x, y, dout = rng.normal(size=(3, 2, 4))
    out, cache = add_forward(x, y)
    dx, dy = add_backward(dout, cache)
    np.testing.assert_array_equal(out, x + y)
    np.testing.assert_array_equal(dx, dout)
    np.testing.assert_array_equal(dy, dout)
    assert dx is not dy
    assert dx is not dout


def test_multiply_switches_the_inputs(rng):
    x, y, dout = rng.normal(size=(3, 5))
    _, cache = multiply_forward(x, y)
    dx, dy = multiply_backward(dout, cache)
    np.testing.assert_array_equal(dx, dout * y)
    np.testing.assert_array_equal(dy, dout * x)


def test_max_routes_the_gradient_to_the_larger_input_and_to_x_on_a_tie():
    out, cache = max_forward([1.0, 5.0, 2.0], [3.0, 4.0, 2.0])
    dx, dy = max_backward(np.array([10.0, 20.0, 30.0]), cache)
    np.testing.assert_array_equal(out, [3.0, 5.0, 2.0])
    np.testing.assert_array_equal(dx, [0.0, 20.0, 30.0])
    np.testing.assert_array_equal(dy, [10.0, 0.0, 0.0])


@pytest.mark.parametrize("forward", [add_forward, multiply_forward, max_forward])
def test_gates_reject_inputs_of_different_shapes(forward):
    name = forward.__name__
    message = rf"{name}: x has shape \(2, 3\) but y has shape \(3,\); they must be equal"
    with pytest.raises(ValueError, match=message):
        forward(np.zeros((2, 3)), np.zeros(3))


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (add_forward, add_backward),
        (multiply_forward, multiply_backward),
        (max_forward, max_backward),
    ],
)
def test_gate_backward_rejects_dout_of_the_wrong_shape(forward, backward):
    _, cache = forward(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"{backward.__name__}: dout has shape \(3,\)"):
        backward(np.zeros(3), cache)


def test_gates_keep_float32_and_take_the_float_dtype_of_the_other_input():
    x = np.ones(3, dtype=np.float32)
    for forward in (add_forward, multiply_forward, max_forward):
        out, _ = forward(x, np.array([1, 2, 3]))
        assert out.dtype == np.float32


def test_affine_relu_is_affine_then_relu(rng):
    x, w, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    out, cache = affine_relu_forward(x, w, b)
    a, fc_cache = affine_forward(x, w, b)
    expected, relu_cache = relu_forward(a)
    np.testing.assert_array_equal(out, expected)
    grads = affine_relu_backward(dout, cache)
    expected_grads = affine_backward(relu_backward(dout, relu_cache), fc_cache)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_array_equal(got, want)


def test_affine_relu_backward_can_skip_dx(rng):
    _, cache = affine_relu_forward(rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), np.zeros(4))
    dx, dw, db = affine_relu_backward(rng.normal(size=(2, 4)), cache, need_dx=False)
    assert dx is None
    assert (dw.shape, db.shape) == ((3, 4), (4,))
