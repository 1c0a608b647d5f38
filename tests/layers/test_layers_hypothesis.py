"""Properties over shapes and seeds: hypothesis picks the shapes and the seed, numpy the values.

Drawing whole arrays with hypothesis would shrink toward zeros and ReLU kinks,
where gradients are undefined; a seeded generator gives generic values instead.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import layers

FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 9)
shapes = st.lists(sizes, min_size=1, max_size=4).map(tuple)


@FAST
@given(seed=seeds, shape=shapes, name=st.sampled_from(["relu", "sigmoid", "tanh"]))
def test_activation_gradient_is_dout_times_the_local_derivative(seed, shape, name):
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(scale=3, size=shape), rng.normal(size=shape)
    out, cache = getattr(layers, f"{name}_forward")(x)
    dx = getattr(layers, f"{name}_backward")(dout, cache)
    local = {"relu": x > 0, "sigmoid": out * (1 - out), "tanh": 1 - np.tanh(x) ** 2}[name]
    assert out.shape == dx.shape == shape
    np.testing.assert_allclose(dx, dout * local, rtol=1e-12)


@FAST
@given(seed=seeds, N=sizes, C=sizes, scale=st.sampled_from([1e-3, 1.0, 1e4]))
def test_loss_gradients_have_zero_row_sums_and_losses_are_non_negative(seed, N, C, scale):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(scale=scale, size=(N, C)), rng.integers(C, size=N)
    for loss_fn in (layers.softmax_loss, layers.svm_loss):
        loss, dx = loss_fn(x, y)
        assert np.isfinite(loss)
        assert loss >= 0
        assert dx.shape == (N, C)
        np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-12 * max(1, C))


@FAST
@given(seed=seeds, N=st.integers(2, 40), D=sizes)
def test_batchnorm_backwards_agree_and_remove_the_batch_mean(seed, N, D):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=rng.normal(size=D), scale=rng.uniform(0.5, 5, size=D), size=(N, D))
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    out, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    staged = layers.batchnorm_backward(dout, cache)
    closed = layers.batchnorm_backward_alt(dout, cache)
    for a, b in zip(staged, closed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(staged[0].sum(axis=0), 0, atol=1e-9)   # shifting x changes nothing


@FAST
@given(seed=seeds, N=sizes, D=st.integers(2, 20))
def test_layernorm_rows_have_mean_beta_under_unit_gamma(seed, N, D):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=3, scale=rng.uniform(0.5, 5), size=(N, D))
    out, cache = layers.layernorm_forward(x, np.ones(D), np.zeros(D), {})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    dx, _, _ = layers.layernorm_backward(rng.normal(size=(N, D)), cache)
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-9)


@FAST
@given(seed=seeds, shape=shapes, p=st.floats(0.05, 1.0))
def test_dropout_output_is_zero_or_x_over_p(seed, shape, p):
    x = np.random.default_rng(seed).normal(size=shape)
    out, cache = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": seed})
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / p, rtol=1e-15)
    np.testing.assert_array_equal(layers.dropout_backward(np.ones(shape), cache), kept / p)


@FAST
@given(seed=seeds, shape=st.lists(sizes, min_size=2, max_size=4).map(tuple), M=sizes)
def test_affine_relu_gradients_take_the_shapes_of_the_inputs(seed, shape, M):
    rng = np.random.default_rng(seed)
    D = int(np.prod(shape[1:]))
    x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
    out, cache = layers.affine_relu_forward(x, w, b)
    grads = layers.affine_relu_backward(rng.normal(size=out.shape), cache)
    assert [g.shape for g in grads] == [x.shape, w.shape, b.shape]


@FAST
@given(seed=seeds, shape=shapes)
def test_gates_follow_their_patterns(seed, shape):
    rng = np.random.default_rng(seed)
    x, y, dout = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
    dx_add, dy_add = layers.add_backward(dout, layers.add_forward(x, y)[1])
    dx_max, dy_max = layers.max_backward(dout, layers.max_forward(x, y)[1])
    np.testing.assert_array_equal(dx_add, dy_add)
    np.testing.assert_array_equal(dx_max + dy_max, dout)        # routed, never split or lost
    np.testing.assert_array_equal(dx_max == 0, (x < y) | (dout == 0))
