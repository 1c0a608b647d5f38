"""Attention: known values, the mask (causal, padding) and its place before the softmax, errors."""

import numpy as np
import pytest

import layers


def test_attention_of_one_key_returns_its_value(rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 1, 4)), \
        rng.standard_normal((2, 1, 5))
    out, _ = layers.attention_forward(q, k, v)
    np.testing.assert_allclose(out, np.repeat(v, 3, axis=1))


def test_attention_matches_the_formula_by_hand():
    q = np.array([[[1.0, 0.0]]])
    k = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    v = np.array([[[10.0], [20.0]]])
    out, (_, _, _, p) = layers.attention_forward(q, k, v)
    w = np.exp(1 / np.sqrt(2)) / (np.exp(1 / np.sqrt(2)) + 1)   # softmax of [1/sqrt(2), 0]
    np.testing.assert_allclose(p[0, 0], [w, 1 - w])
    np.testing.assert_allclose(out[0, 0, 0], 10 * w + 20 * (1 - w))


def test_causal_mask_hides_the_future(rng):
    x = rng.standard_normal((1, 4, 3))
    out, (_, _, _, p) = layers.attention_forward(x, x, x, layers.causal_mask(4))
    assert np.all(np.triu(p[0], 1) == 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1)
    changed = x.copy()
    changed[0, 3] += 10                                  # the last step cannot move the others
    out2, _ = layers.attention_forward(changed, changed, changed, layers.causal_mask(4))
    np.testing.assert_allclose(out2[0, :3], out[0, :3])


def test_padding_mask_ignores_padded_keys(rng):
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    mask = layers.padding_mask([3, 2], 3)
    out, _ = layers.attention_forward(q, k, v, mask)
    short, _ = layers.attention_forward(q[1:], k[1:, :2], v[1:, :2])
    np.testing.assert_allclose(out[1:], short)


def test_masked_scores_get_no_gradient(rng):
    q, k, v = (rng.standard_normal((1, 3, 2)) for _ in range(3))
    out, cache = layers.attention_forward(q[:, :2], k, v, layers.causal_mask(3)[:2])
    _, dk, dv = layers.attention_backward(rng.standard_normal(out.shape), cache)
    assert np.all(dk[0, 2] == 0)
    assert np.all(dv[0, 2] == 0)
    assert np.all(dk[0, :2] != 0)
    assert np.all(dv[0, :2] != 0)


def test_attention_is_stable_for_large_scores():
    q = np.array([[[1e4, 0.0]]])
    k = np.array([[[1e4, 0.0], [-1e4, 0.0]]])
    out, cache = layers.attention_forward(q, k, np.array([[[1.0], [2.0]]]))
    assert out[0, 0, 0] == 1.0
    assert all(np.all(np.isfinite(g)) for g in layers.attention_backward(np.ones((1, 1, 1)),
                                                                         cache))


def test_multihead_with_one_head_and_identity_projections_is_plain_attention(rng):
    x, ctx = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    eye, zero = np.eye(4), np.zeros(4)
    out, _ = layers.multihead_attention_forward(x, ctx, eye, zero, eye, zero, eye, zero, eye,
                                                zero, 1)
    np.testing.assert_allclose(out, layers.attention_forward(x, ctx, ctx)[0])


def test_self_attention_is_multihead_attention_of_x_over_itself(rng):
    x = rng.standard_normal((2, 3, 4))
    weights = [rng.standard_normal(s) for s in [(4, 4), (4,)] * 4]
    out, cache = layers.self_attention_forward(x, *weights, 2, layers.causal_mask(3))
    cross, cross_cache = layers.multihead_attention_forward(x, x, *weights, 2,
                                                            layers.causal_mask(3))
    np.testing.assert_array_equal(out, cross)
    dout = rng.standard_normal(out.shape)
    dx, *dparams = layers.self_attention_backward(dout, cache)
    dx_q, dx_kv, *cross_dparams = layers.multihead_attention_backward(dout, cross_cache)
    np.testing.assert_allclose(dx, dx_q + dx_kv)
    for a, b in zip(dparams, cross_dparams, strict=True):
        np.testing.assert_array_equal(a, b)


def test_attention_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"q \(1, 2, 3\), k \(1, 2, 4\), v \(1, 2, 3\)"):
        layers.attention_forward(np.zeros((1, 2, 3)), np.zeros((1, 2, 4)), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"mask has shape \(3, 3\); expected a shape that "
                                         r"broadcasts to \(1, 2, 2\)"):
        layers.attention_forward(*[np.zeros((1, 2, 3))] * 3, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match=r"mask hides every key from query \(0, 1\)"):
        layers.attention_forward(*[np.zeros((1, 2, 3))] * 3, np.array([[1, 1], [0, 0]], bool))
    x = np.zeros((2, 3, 6))
    w = [np.zeros((6, 6)), np.zeros(6)] * 4
    with pytest.raises(ValueError, match=r"num_heads 4; expected the same N and num_heads "
                                         r"dividing E = 6"):
        layers.multihead_attention_forward(x, x, *w, 4)
