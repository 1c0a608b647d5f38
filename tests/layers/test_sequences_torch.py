"""Recurrent and attention layers against PyTorch autograd in float64, with copied weights.

torch.nn.RNN/LSTM/GRU keep (gates * H, D) weights applied as x W^T; ours are
(D, gates * H) applied as x Wx, so Wx = weight_ih^T. torch's LSTM gate order is
i, f, g, o and ours i, f, o, g: the blocks are reordered when copying. Our GRU
has one bias, torch's b_ih, with torch's b_hh set to zero.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import layers  # noqa: E402  (after the importorskip on purpose)

pytestmark = pytest.mark.torch

SHAPES = [(1, 1, 3, 4), (2, 5, 3, 4), (3, 7, 2, 6)]   # (N, T, D, H): batch 1 and T = 1 included
LSTM_ORDER = [0, 1, 3, 2]                              # our block k is torch's block LSTM_ORDER[k]


def _blocks(w, order, axis):
    parts = np.split(w, len(order), axis=axis)
    return np.concatenate([parts[k] for k in order], axis=axis)


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_layers_match_torch(cell, shape, rng):
    N, T, D, H = shape
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh = rng.standard_normal((D, gates * H)), rng.standard_normal((H, gates * H))
    b = rng.standard_normal(gates * H)
    h, cache = getattr(layers, f"{cell}_forward")(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dWx, dWh, db = getattr(layers, f"{cell}_backward")(dh, cache)

    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        D, H, batch_first=True).double()
    order = LSTM_ORDER if cell == "lstm" else list(range(gates))
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(_blocks(Wx, order, 1).T))
        module.weight_hh_l0.copy_(torch.tensor(_blocks(Wh, order, 1).T))
        module.bias_ih_l0.copy_(torch.tensor(_blocks(b, order, 0)))
        module.bias_hh_l0.zero_()
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0[None], requires_grad=True)
    state = (th0, torch.zeros_like(th0)) if cell == "lstm" else th0
    out, _ = module(tx, state)
    out.backward(torch.tensor(dh))
    _close(h, out)
    _close(dx, tx.grad)
    _close(dh0, th0.grad[0])
    _close(_blocks(dWx, order, 1).T, module.weight_ih_l0.grad)
    _close(_blocks(dWh, order, 1).T, module.weight_hh_l0.grad)
    _close(_blocks(db, order, 0), module.bias_ih_l0.grad)


@pytest.mark.parametrize("mask", [None, "causal", "padding"])
@pytest.mark.parametrize(("N", "T", "S", "d"), [(1, 1, 1, 2), (2, 4, 4, 3), (3, 5, 5, 8)])
def test_attention_matches_scaled_dot_product_attention(N, T, S, d, mask, rng):
    q, k, v = rng.standard_normal((N, T, d)), rng.standard_normal((N, S, d)), \
        rng.standard_normal((N, S, d + 1))
    m = {None: None, "causal": layers.causal_mask(T),
         "padding": layers.padding_mask(rng.integers(1, S + 1, size=N), S)}[mask]
    out, cache = layers.attention_forward(q, k, v, m)
    dout = rng.standard_normal(out.shape)
    grads = layers.attention_backward(dout, cache)
    leaves = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    tm = None if m is None else torch.tensor(np.broadcast_to(m, (N, T, S)).copy())
    tout = torch.nn.functional.scaled_dot_product_attention(*leaves, attn_mask=tm)
    tout.backward(torch.tensor(dout))
    _close(out, tout)
    for grad, leaf in zip(grads, leaves, strict=True):
        _close(grad, leaf.grad)


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize(("N", "T", "S", "E", "h"), [(1, 1, 1, 4, 1), (2, 5, 3, 6, 3),
                                                     (3, 4, 6, 8, 2)])
def test_multihead_attention_matches_torch(N, T, S, E, h, cross, rng):
    S = S if cross else T
    x = rng.standard_normal((N, T, E))
    context = rng.standard_normal((N, S, E)) if cross else x
    weights = [rng.standard_normal(s) for s in [(E, E), (E,)] * 4]
    mask = layers.padding_mask(rng.integers(1, S + 1, size=N), S) if cross else \
        layers.causal_mask(T)
    args = (x, context, *weights, h, mask) if cross else (x, *weights, h, mask)
    name = "multihead_attention" if cross else "self_attention"
    out, cache = getattr(layers, f"{name}_forward")(*args)
    dout = rng.standard_normal(out.shape)
    grads = getattr(layers, f"{name}_backward")(dout, cache)

    mha = torch.nn.MultiheadAttention(E, h, batch_first=True).double()
    Wq, bq, Wk, bk, Wv, bv, Wo, bo = weights
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([Wq.T, Wk.T, Wv.T])))
        mha.in_proj_bias.copy_(torch.tensor(np.concatenate([bq, bk, bv])))
        mha.out_proj.weight.copy_(torch.tensor(Wo.T))
        mha.out_proj.bias.copy_(torch.tensor(bo))
    tx = torch.tensor(x, requires_grad=True)
    tc = torch.tensor(context, requires_grad=True) if cross else tx
    forbidden = torch.tensor(~np.broadcast_to(mask, (N, T, S)))         # torch: True = hidden
    tout, _ = mha(tx, tc, tc, attn_mask=forbidden.repeat_interleave(h, dim=0),
                  need_weights=False)
    tout.backward(torch.tensor(dout))
    _close(out, tout)
    theirs = [tx.grad] + ([tc.grad] if cross else [])
    dW, db = mha.in_proj_weight.grad, mha.in_proj_bias.grad
    theirs += [dW[:E].T, db[:E], dW[E:2 * E].T, db[E:2 * E], dW[2 * E:].T, db[2 * E:],
               mha.out_proj.weight.grad.T, mha.out_proj.bias.grad]
    assert len(grads) == len(theirs)
    for ours, t in zip(grads, theirs, strict=True):
        _close(ours, t)
