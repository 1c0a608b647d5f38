"""Attention: scaled dot-product attention and multi-head self- and cross-attention.

Shapes: N sequences, T query positions, S key/value positions, E features,
h heads of d = E / h features each. A mask is boolean, True where query t may
attend to key s (PyTorch's scaled_dot_product_attention convention; note that
torch.nn.MultiheadAttention's attn_mask means the opposite). Masks broadcast:
causal_mask(T) is (T, T), padding_mask(lengths, S) is (N, 1, S).

Scaled dot-product attention (any leading axes, e.g. (N, h)):
    scores = q k^T / sqrt(d)              (T, S)
    p = softmax(scores where mask, else -inf) over s     (masked: p = 0 exactly)
    out = p v                             (T, dv)
The mask goes in before the softmax: zeroing p after it would leave rows that
no longer sum to 1.
"""

import math

import numpy as np

from ._checks import (
    as_array,
    as_dout,
    as_float,
    check_min_ndim,
    check_ndim,
    check_positive_int,
    check_shape,
)
from .temporal import temporal_affine_backward, temporal_affine_forward


def causal_mask(T):
    """(T, T) booleans, True on and below the diagonal: position t sees positions s <= t."""
    return np.tri(check_positive_int("causal_mask", "T", T), dtype=bool)


def padding_mask(lengths, S):
    """(N, 1, S) booleans, True for the first lengths[n] keys of sequence n."""
    lengths = as_array("padding_mask", "lengths", lengths)
    check_ndim("padding_mask", "lengths", lengths, "N")
    return (np.arange(S) < lengths[:, None])[:, None, :]


def _check_mask(func, mask, shape):
    """mask as booleans broadcast to shape (..., T, S); every query must see some key."""
    mask = as_array(func, "mask", mask)
    try:
        mask = np.broadcast_to(mask != 0, shape)
    except ValueError as err:
        raise ValueError(
            f"{func}: mask has shape {mask.shape}; expected a shape that broadcasts to "
            f"{shape} (..., T, S)") from err
    blind = ~mask.any(axis=-1)
    if blind.any():
        where = tuple(int(i) for i in np.argwhere(blind)[0])
        raise ValueError(
            f"{func}: mask hides every key from query {where} (of {shape[:-1]}); "
            "a softmax over nothing is undefined")
    return mask


def _transposed(a):
    """a with its last two axes swapped, in contiguous memory (numpy's stacked matmul is
    several times slower on a strided view)."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


def attention_forward(q, k, v, mask=None):
    """Scaled dot-product attention: out = softmax(q k^T / sqrt(d), masked) v.

    Inputs:
    - q: queries of shape (..., T, d)
    - k: keys of shape (..., S, d)
    - v: values of shape (..., S, dv)
    - mask: optional booleans broadcastable to (..., T, S), True where t may attend to s

    Returns a tuple of:
    - out: of shape (..., T, dv)
    - cache: (q, k, v, p), p the attention weights (..., T, S)
    """
    func = "attention_forward"
    q = as_float(func, "q", q)
    k = as_float(func, "k", k, like=q)
    v = as_float(func, "v", v, like=q)
    for name, arr in (("q", q), ("k", k), ("v", v)):
        check_min_ndim(func, name, arr, 2, "(..., positions, features)")
    if k.shape[-1] != q.shape[-1] or k.shape[:-2] != q.shape[:-2] \
            or v.shape[:-1] != k.shape[:-1]:
        raise ValueError(
            f"{func}: q {q.shape}, k {k.shape}, v {v.shape}; expected (..., T, d), "
            "(..., S, d), (..., S, dv) with the same leading axes")
    scores = q @ _transposed(k) / math.sqrt(q.shape[-1])          # (..., T, S)
    if mask is not None:
        mask = _check_mask(func, mask, scores.shape)
        scores = np.where(mask, scores, -np.inf)                   # exp(-inf) = 0: no weight
    scores = scores - scores.max(axis=-1, keepdims=True)           # exp of <= 0 stays finite
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    return p @ v, (q, k, v, p)


def attention_backward(dout, cache):
    """Backward pass of out = p v, p = softmax(q k^T / sqrt(d)).

    dv = p^T dout;  dp = dout v^T;
    dscores = p * (dp - sum_s(dp * p))        (softmax; masked entries have p = 0, so 0)
    dq = dscores k / sqrt(d);  dk = dscores^T q / sqrt(d)

    Inputs:
    - dout: upstream gradient, of shape (..., T, dv)
    - cache: (q, k, v, p) from attention_forward

    Returns a tuple of:
    - dq (..., T, d), dk (..., S, d), dv (..., S, dv)
    """
    q, k, v, p = cache
    dout = as_dout("attention_backward", dout, p.shape[:-1] + v.shape[-1:], like=q)
    # BEGIN SOLUTION attention_backward
    # HINT: out = p v is a matrix product; the softmax's backward is p * (dp - row sum of dp * p);
    # HINT: scores = q k^T / sqrt(d) is one more matrix product, scaled
    dv = _transposed(p) @ dout                                    # dv = p^T dout
    dp = dout @ _transposed(v)                                    # dp = dout v^T
    dscores = p * (dp - (dp * p).sum(axis=-1, keepdims=True))     # through the softmax
    dscores /= math.sqrt(q.shape[-1])                               # the 1 / sqrt(d) scale
    dq = dscores @ k                                              # dq = dscores k
    dk = _transposed(dscores) @ q                                 # dk = dscores^T q
    # END SOLUTION
    return dq, dk, dv


def _split_heads(x, h):
    """(N, T, E) -> (N, h, T, E / h)."""
    N, T, E = x.shape
    return np.ascontiguousarray(x.reshape(N, T, h, E // h).transpose(0, 2, 1, 3))


def _merge_heads(x):
    """(N, h, T, d) -> (N, T, h * d), the inverse of _split_heads."""
    N, h, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, h * d)


def _weights(func, name, w, b, rows, E, like):
    """W<name> (rows, E) and b<name> (E,) as float arrays, checked before any product."""
    w, b = as_float(func, f"W{name}", w, like=like), as_float(func, f"b{name}", b, like=like)
    check_shape(func, f"W{name}", w, (rows, E), because=f"(inputs of {rows} features, E = {E})")
    check_shape(func, f"b{name}", b, (E,), because=f"(E = {E})")
    return w, b


def _inputs(func, x, context, num_heads, weights):
    """Validate x (N, T, E), context (N, S, Ec), num_heads and the four projections."""
    x, context = as_float(func, "x", x), as_float(func, "context", context, like=x)
    check_ndim(func, "x", x, "NTE")
    check_ndim(func, "context", context, "NSE")
    h = check_positive_int(func, "num_heads", num_heads)
    E, Ec = x.shape[2], context.shape[2]
    if E % h or len(context) != len(x):
        raise ValueError(
            f"{func}: x {x.shape}, context {context.shape}, num_heads {h}; expected the same N "
            f"and num_heads dividing E = {E}")
    rows = {"q": E, "k": Ec, "v": Ec, "o": E}
    pairs = [_weights(func, name, weights[2 * i], weights[2 * i + 1], rows[name], E, x)
             for i, name in enumerate("qkvo")]
    return x, context, h, [a for pair in pairs for a in pair]


def _fused_affine(x, ws, bs):
    """x [w1 w2 ...] + [b1 b2 ...] as one matrix product (BLAS likes few large calls),
    split back into one output per weight; returns (outputs, cache)."""
    out, cache = temporal_affine_forward(x, np.concatenate(ws, axis=1), np.concatenate(bs))
    return np.split(out, len(ws), axis=2), cache


def _fused_affine_backward(douts, cache):
    """Backward of _fused_affine: dx, the list of dw, the list of db."""
    dx, dw, db = temporal_affine_backward(np.concatenate(douts, axis=2), cache)
    return dx, np.split(dw, len(douts), axis=1), np.split(db, len(douts))


def _attend(q, k, v, Wo, bo, h, mask):
    """Split q (N, T, E), k and v (N, S, E) into h heads, attend, merge, project with Wo."""
    heads, attn_cache = attention_forward(*(_split_heads(a, h) for a in (q, k, v)), mask)
    out, o_cache = temporal_affine_forward(_merge_heads(heads), Wo, bo)
    return out, (attn_cache, o_cache, h)


def _attend_backward(dout, cache):
    """Backward of _attend: dq, dk, dv (merged back to (N, ., E)), dWo, dbo."""
    attn_cache, o_cache, h = cache
    dheads, dWo, dbo = temporal_affine_backward(dout, o_cache)
    dq, dk, dv = attention_backward(_split_heads(dheads, h), attn_cache)
    return _merge_heads(dq), _merge_heads(dk), _merge_heads(dv), dWo, dbo


def multihead_attention_forward(x, context, Wq, bq, Wk, bk, Wv, bv, Wo, bo, num_heads,
                                mask=None):
    """Multi-head attention of x over context (cross-attention).

    q = x Wq + bq, k = context Wk + bk, v = context Wv + bv, each split into
    num_heads heads of d = E / num_heads features; each head attends on its own
    (attention_forward), the heads are concatenated and projected: out = heads Wo + bo.

    Inputs:
    - x: queries' inputs of shape (N, T, E)
    - context: keys' and values' inputs of shape (N, S, Ec)
    - Wq (E, E), Wk (Ec, E), Wv (Ec, E), Wo (E, E); bq, bk, bv, bo (E,)
    - num_heads: h, a divisor of E
    - mask: optional booleans broadcastable to (N, T, S), shared by the heads

    Returns a tuple of:
    - out: of shape (N, T, E)
    - cache: the projections' caches and the attention's
    """
    func = "multihead_attention_forward"
    x, context, h, (Wq, bq, Wk, bk, Wv, bv, Wo, bo) = _inputs(
        func, x, context, num_heads, (Wq, bq, Wk, bk, Wv, bv, Wo, bo))
    if mask is not None:
        mask = _check_mask(func, mask, (len(x), x.shape[1], context.shape[1]))[:, None]
    q, q_cache = temporal_affine_forward(x, Wq, bq)                   # (N, T, E)
    (k, v), kv_cache = _fused_affine(context, [Wk, Wv], [bk, bv])     # (N, S, E) each
    out, attend_cache = _attend(q, k, v, Wo, bo, h, mask)
    return out, (q_cache, kv_cache, attend_cache)


def multihead_attention_backward(dout, cache):
    """Backward pass of multihead_attention_forward: the forward's steps in reverse.

    Inputs:
    - dout: upstream gradient, of shape (N, T, E)
    - cache: from multihead_attention_forward

    Returns a tuple of:
    - dx (N, T, E), dcontext (N, S, Ec) (the sum of its key and value paths),
      dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo
    """
    q_cache, kv_cache, attend_cache = cache
    dq, dk, dv, dWo, dbo = _attend_backward(dout, attend_cache)
    dx, dWq, dbq = temporal_affine_backward(dq, q_cache)
    dcontext, (dWk, dWv), (dbk, dbv) = _fused_affine_backward([dk, dv], kv_cache)
    return dx, dcontext, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo


def self_attention_forward(x, Wq, bq, Wk, bk, Wv, bv, Wo, bo, num_heads, mask=None):
    """Multi-head self-attention: multihead attention of x over itself.

    The three projections of x are one matrix product x [Wq Wk Wv].

    Inputs: as multihead_attention_forward without context (Wk, Wv are (E, E)).
    Returns a tuple of out (N, T, E) and cache.
    """
    func = "self_attention_forward"
    x, _, h, (Wq, bq, Wk, bk, Wv, bv, Wo, bo) = _inputs(
        func, x, x, num_heads, (Wq, bq, Wk, bk, Wv, bv, Wo, bo))
    if mask is not None:
        mask = _check_mask(func, mask, (len(x), x.shape[1], x.shape[1]))[:, None]
    (q, k, v), qkv_cache = _fused_affine(x, [Wq, Wk, Wv], [bq, bk, bv])
    out, attend_cache = _attend(q, k, v, Wo, bo, h, mask)
    return out, (qkv_cache, attend_cache)


def self_attention_backward(dout, cache):
    """Backward pass of self-attention: x feeds queries, keys and values, so dx adds all three
    (one product [dq dk dv] [Wq Wk Wv]^T).

    Returns a tuple of dx (N, T, E), dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo.
    """
    qkv_cache, attend_cache = cache
    dq, dk, dv, dWo, dbo = _attend_backward(dout, attend_cache)
    dx, (dWq, dWk, dWv), (dbq, dbk, dbv) = _fused_affine_backward([dq, dk, dv], qkv_cache)
    return dx, dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo
