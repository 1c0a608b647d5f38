"""Affine layer: the course's printed values, shapes, dtypes and error messages."""

import numpy as np
import pytest

from layers import affine_backward, affine_forward


def test_affine_forward_matches_course_values():
    input_shape, output_dim = (4, 5, 6), 3
    D = int(np.prod(input_shape))
    x = np.linspace(-0.1, 0.5, num=2 * D).reshape(2, *input_shape)
    w = np.linspace(-0.2, 0.3, num=D * output_dim).reshape(D, output_dim)
    b = np.linspace(-0.3, 0.1, num=output_dim)
    out, _ = affine_forward(x, w, b)
    expected = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    np.testing.assert_allclose(out, expected, rtol=1e-7)


def test_affine_backward_shapes_follow_the_inputs(rng):
    x, w, b = rng.normal(size=(3, 2, 5)), rng.normal(size=(10, 4)), rng.normal(size=4)
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(rng.normal(size=(3, 4)), cache)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)


def test_affine_backward_known_values():
    x = np.linspace(-0.5, 0.5, num=15).reshape(3, 5)
    w = np.linspace(-0.2, 0.3, num=20).reshape(5, 4)
    dout = np.linspace(-1, 1, num=12).reshape(3, 4)
    dx, dw, db = affine_backward(dout, affine_forward(x, w, np.linspace(-0.1, 0.1, num=4))[1])
    np.testing.assert_allclose(dx, [
        [0.4909090909, 0.1846889952, -0.1215311005, -0.4277511962, -0.7339712919],
        [0.023923445, 0.023923445, 0.023923445, 0.023923445, 0.023923445],
        [-0.443062201, -0.1368421053, 0.1693779904, 0.4755980861, 0.7818181818]], rtol=1e-8)
    np.testing.assert_allclose(dw, [
        [0.6363636364, 0.5584415584, 0.4805194805, 0.4025974026],
        [0.5779220779, 0.538961039, 0.5, 0.461038961],
        [0.5194805195, 0.5194805195, 0.5194805195, 0.5194805195],
        [0.461038961, 0.5, 0.538961039, 0.5779220779],
        [0.4025974026, 0.4805194805, 0.5584415584, 0.6363636364]], rtol=1e-8)
    np.testing.assert_allclose(db, [-0.8181818182, -0.2727272727, 0.2727272727, 0.8181818182],
                               rtol=1e-8)


def test_affine_accepts_lists_and_integer_weights():
    out, _ = affine_forward([[1.0, 2.0]], [[1, 0], [0, 1]], [0, 1])
    np.testing.assert_array_equal(out, [[1.0, 3.0]])


def test_affine_rejects_w_that_does_not_match_the_flattened_x(rng):
    message = r"affine_forward: w has shape \(5, 3\); expected \(6, M\)"
    with pytest.raises(ValueError, match=message):
        affine_forward(rng.normal(size=(2, 3, 2)), rng.normal(size=(5, 3)), np.zeros(3))


def test_affine_rejects_b_of_the_wrong_length(rng):
    with pytest.raises(ValueError, match=r"affine_forward: b has shape \(4,\); expected \(3,\)"):
        affine_forward(rng.normal(size=(2, 5)), rng.normal(size=(5, 3)), np.zeros(4))


def test_affine_rejects_a_one_dimensional_x(rng):
    with pytest.raises(ValueError, match=r"affine_forward: x has shape \(5,\)"):
        affine_forward(rng.normal(size=5), rng.normal(size=(5, 3)), np.zeros(3))


def test_affine_backward_rejects_dout_of_the_wrong_shape(rng):
    _, cache = affine_forward(rng.normal(size=(2, 5)), rng.normal(size=(5, 3)), np.zeros(3))
    message = r"affine_backward: dout has shape \(3, 2\); expected \(2, 3\)"
    with pytest.raises(ValueError, match=message):
        affine_backward(np.ones((3, 2)), cache)
