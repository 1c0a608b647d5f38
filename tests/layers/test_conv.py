"""Convolution: course values, naive against fast, numeric gradients, dtypes, errors.

The contract table (test_layer_contract.py) runs the shared checks on the conv
recipes; this file covers what is particular to convolution: every stride and
padding, non-square inputs and filters, 1x1 filters, windows that do not tile
the input, both ways the fast backward computes dx, and batch chunking.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layers
import layers.conv
from gradcheck import check_layer

# (x shape, w shape, stride, pad): C >= F with stride 1 takes the flipped-filter dx,
# the others the scatter-back; "drops" marks windows that do not tile the input.
CONFIGS = {
    "square s1 p1 C<F": ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
    "square s1 p1 C>=F": ((2, 4, 6, 6), (3, 4, 3, 3), 1, 1),
    "non-square s2 p1": ((2, 3, 7, 5), (4, 3, 3, 2), 2, 1),
    "s2 p0 drops": ((3, 2, 8, 9), (2, 2, 3, 3), 2, 0),
    "s2 p3 C>=F": ((2, 3, 5, 6), (2, 3, 2, 3), 2, 3),
    "1x1 s1 p0": ((2, 5, 4, 3), (3, 5, 1, 1), 1, 0),
    "1x1 s1 p3 crops": ((2, 5, 4, 3), (3, 5, 1, 1), 1, 3),
    "s1 p3 7x7 C>=F": ((1, 4, 5, 5), (2, 4, 7, 7), 1, 3),
    "s3 p1 drops": ((2, 2, 10, 8), (3, 2, 4, 3), 3, 1),
    "filter = padded input": ((2, 2, 3, 4), (2, 2, 5, 6), 1, 1),
}


def _inputs(rng, config, dtype=np.float64):
    x_shape, w_shape, stride, pad = config
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    b = rng.normal(size=w_shape[0]).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}


def _both(x, w, b, conv_param, dout_rng):
    """(out, grads) of the naive and of the fast pair on one random dout."""
    results = []
    for kind in ("naive", "fast"):
        out, cache = getattr(layers, f"conv_forward_{kind}")(x, w, b, conv_param)
        dout = np.random.default_rng(dout_rng).normal(size=out.shape).astype(out.dtype)
        results.append((out, getattr(layers, f"conv_backward_{kind}")(dout, cache)))
    return results


def test_conv_forward_naive_reproduces_the_course_values():
    x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
    x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
    w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
    b = np.linspace(-0.1, 0.2, num=3)
    correct_out = np.array(
        [[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
          [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
          [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
         [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
          [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
          [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]]
    )
    for forward in (layers.conv_forward_naive, layers.conv_forward_fast):
        out, _ = forward(x, w, b, {"stride": 2, "pad": 1})
        np.testing.assert_allclose(out, correct_out, rtol=1e-7, atol=1e-8)


def test_conv_on_a_hand_computed_case():
    # One 2x2 filter of ones over a 3x3 image 0..8, stride 1, no padding: window sums.
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    out, cache = layers.conv_forward_fast(x, np.ones((1, 1, 2, 2)), [0.5], {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(out, [[[[8.5, 12.5], [20.5, 24.5]]]])
    dx, dw, db = layers.conv_backward_fast(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx, [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])   # windows per pixel
    np.testing.assert_array_equal(dw, [[[[8, 12], [20, 24]]]])
    np.testing.assert_array_equal(db, [4])


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_conv_fast_matches_naive(rng, config):
    x, w, b, conv_param = _inputs(rng, config)
    (out, grads), (out_fast, grads_fast) = _both(x, w, b, conv_param, 1)
    x_shape, (F, _, HH, WW), stride, pad = config
    N, _, H, W = x_shape
    assert out.shape == (N, F, 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride)
    np.testing.assert_allclose(out_fast, out, rtol=1e-10, atol=1e-12)
    for name, g, g_fast, a in zip(("dx", "dw", "db"), grads, grads_fast, (x, w, b), strict=True):
        assert g.shape == g_fast.shape == a.shape, name
        np.testing.assert_allclose(g_fast, g, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize(
    "config", [CONFIGS[k] for k in ("square s1 p1 C>=F", "s2 p3 C>=F", "1x1 s1 p3 crops")]
)
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_conv_gradients_match_numeric(rng, config, kind):
    x_shape, w_shape, stride, pad = config
    tiny = ((1, *x_shape[1:]), w_shape, stride, pad)
    result = check_layer(
        getattr(layers, f"conv_forward_{kind}"), getattr(layers, f"conv_backward_{kind}"),
        *_inputs(rng, tiny), seed=3,
    )
    assert result.passed, str(result)


def test_conv_fast_chunks_the_batch_with_the_same_values(rng, monkeypatch):
    x, w, b, conv_param = _inputs(rng, CONFIGS["square s1 p1 C>=F"])
    x = np.concatenate([x, x[:1] * 2, -x])            # N = 5: chunks of 2, 2 and 1 image
    (out, grads), _ = _both(x, w, b, conv_param, 2)
    image_bytes = 4 * 3 * 3 * 6 * 6 * x.itemsize     # the column matrix of one image
    monkeypatch.setattr(layers.conv, "_CHUNK_BYTES", 2 * image_bytes)
    assert layers.conv._chunks(len(x), image_bytes) == ([slice(0, 2), slice(2, 4), slice(4, 5)], 2)
    _, (out_fast, grads_fast) = _both(x, w, b, conv_param, 2)
    np.testing.assert_allclose(out_fast, out, rtol=1e-10, atol=1e-12)
    for g, g_fast in zip(grads, grads_fast, strict=True):
        np.testing.assert_allclose(g_fast, g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("config", [CONFIGS["square s1 p1 C>=F"], CONFIGS["non-square s2 p1"]])
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_conv_keeps_float32(rng, config, kind):
    x, w, b, conv_param = _inputs(rng, config)
    (out64, grads64), _ = _both(x, w, b, conv_param, 4)
    forward, backward = (getattr(layers, f"conv_{d}_{kind}") for d in ("forward", "backward"))
    out, cache = forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32),
                         conv_param)
    dout = np.random.default_rng(4).normal(size=out.shape).astype(np.float32)
    grads = backward(dout, cache)
    assert out.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 3
    np.testing.assert_allclose(out, out64, rtol=1e-4, atol=1e-4)
    for g, g64 in zip(grads, grads64, strict=True):
        np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-4)


def test_conv_fast_handles_an_empty_batch(rng):
    _, w, b, conv_param = _inputs(rng, CONFIGS["non-square s2 p1"])
    out, cache = layers.conv_forward_fast(np.zeros((0, 3, 7, 5)), w, b, conv_param)
    dx, dw, db = layers.conv_backward_fast(np.zeros(out.shape), cache)
    assert out.shape == (0, 4, 4, 3)
    assert dx.shape == (0, 3, 7, 5)
    np.testing.assert_array_equal(dw, np.zeros(w.shape))
    np.testing.assert_array_equal(db, np.zeros(len(w)))


def test_conv_backward_fast_can_skip_dx(rng):
    x, w, b, conv_param = _inputs(rng, CONFIGS["square s1 p1 C>=F"])
    out, cache = layers.conv_forward_fast(x, w, b, conv_param)
    dout = rng.normal(size=out.shape)
    _, dw, db = layers.conv_backward_fast(dout, cache)
    dx, dw_only, db_only = layers.conv_backward_fast(dout, cache, need_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dw_only, dw)
    np.testing.assert_array_equal(db_only, db)


def test_conv_accepts_lists_and_integer_arrays():
    x = np.arange(2 * 1 * 3 * 3).reshape(2, 1, 3, 3)
    out, _ = layers.conv_forward_fast(x.tolist(), np.ones((1, 1, 2, 2), dtype=int), [0],
                                      {"stride": 1, "pad": 0, "extra": "ignored"})
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[0, 0], [[8, 12], [20, 24]])


BAD_INPUTS = [
    ({"x": np.zeros((2, 3, 4))}, r"conv_forward_\w+: x has shape \(2, 3, 4\); expected 4"),
    ({"w": np.zeros((2, 4, 3, 3))},
     r"w has shape \(2, 4, 3, 3\); expected \(F, 3, HH, WW\) because x of shape \(2, 3, 5, 5\)"),
    ({"b": np.zeros(3)}, r"b has shape \(3,\); expected \(2,\)"),
    ({"conv_param": {"stride": 0, "pad": 1}}, r"conv_param\['stride'\] is 0; expected an integer"),
    ({"conv_param": {"pad": 1}}, r"conv_param\['stride'\] is None"),
    ({"conv_param": {"stride": 1, "pad": -1}},
     r"conv_param\['pad'\] is -1; expected an integer >= 0"),
    ({"conv_param": {"stride": 1, "pad": 1.5}}, r"conv_param\['pad'\] is 1.5"),
    ({"w": np.zeros((2, 3, 8, 3))},
     r"8x3 window is larger than x of shape \(2, 3, 5, 5\) padded by 1 on each side \(7x7\)"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS)
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_conv_rejects_bad_input_with_a_clear_message(change, message, kind):
    args = {"x": np.zeros((2, 3, 5, 5)), "w": np.zeros((2, 3, 3, 3)), "b": np.zeros(2),
            "conv_param": {"stride": 1, "pad": 1}}
    args.update(change)
    with pytest.raises(ValueError, match=message):
        getattr(layers, f"conv_forward_{kind}")(**args)


@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_conv_backward_rejects_dout_of_the_wrong_shape(kind):
    _, cache = getattr(layers, f"conv_forward_{kind}")(
        np.zeros((2, 3, 5, 5)), np.zeros((2, 3, 3, 3)), np.zeros(2), {"stride": 2, "pad": 0})
    with pytest.raises(ValueError, match=r"dout has shape \(2, 2, 3, 3\); expected \(2, 2, 2, 2\)"):
        getattr(layers, f"conv_backward_{kind}")(np.zeros((2, 2, 3, 3)), cache)


def test_conv_rejects_a_non_numeric_x():
    with pytest.raises(TypeError, match="conv_forward_fast: x must be a numeric array"):
        layers.conv_forward_fast(np.array([["a"]]), np.zeros((1, 1, 1, 1)), [0],
                                 {"stride": 1, "pad": 0})


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(1, 3), C=st.integers(1, 4),
       F=st.integers(1, 4), H=st.integers(1, 7), W=st.integers(1, 7), HH=st.integers(1, 4),
       WW=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 3))
def test_conv_fast_matches_naive_on_any_shape(seed, N, C, F, H, W, HH, WW, stride, pad):
    HH, WW = min(HH, H + 2 * pad), min(WW, W + 2 * pad)
    x, w, b, conv_param = _inputs(np.random.default_rng(seed), ((N, C, H, W), (F, C, HH, WW),
                                                                stride, pad))
    (out, grads), (out_fast, grads_fast) = _both(x, w, b, conv_param, seed)
    np.testing.assert_allclose(out_fast, out, rtol=1e-10, atol=1e-12)
    for g, g_fast in zip(grads, grads_fast, strict=True):
        np.testing.assert_allclose(g_fast, g, rtol=1e-10, atol=1e-12)
