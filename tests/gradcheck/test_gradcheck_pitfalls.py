"""The sequence layers' known mistakes are named in the check's hint (gradcheck.pitfalls)."""

from types import SimpleNamespace

import numpy as np

import layers
from gradcheck.recipes import RECIPES


def _hints(lc):
    return {r.name: r.hint for r in lc.results if r.verdict == "fail"}


def test_embedding_that_assigns_instead_of_adding():
    def word_embedding_backward(dout, cache):
        x, W = cache
        dW = np.zeros(W.shape, W.dtype)
        dW[x] += dout                        # fancy += keeps one gradient per repeated word
        return dW

    student = SimpleNamespace(word_embedding_forward=layers.word_embedding_forward,
                              word_embedding_backward=word_embedding_backward)
    assert "np.add.at" in _hints(RECIPES["word_embedding"].check(student))["dW"]


def test_rnn_backward_without_the_carried_gradient():
    def rnn_backward(dh, caches):
        steps = [layers.rnn_step_backward(dh[:, t], c) for t, c in enumerate(caches)]
        dx = np.stack([s[0] for s in steps], axis=1)
        return (dx, steps[0][1], *(sum(s[k] for s in steps) for k in (2, 3, 4)))

    student = SimpleNamespace(rnn_forward=layers.rnn_forward, rnn_backward=rnn_backward)
    hints = _hints(RECIPES["rnn"].check(student))
    assert set(hints) == {"dx", "dh0", "dWx", "dWh", "db"}
    assert all("carried back from step t+1 is missing" in h for h in hints.values())


def test_lstm_backward_without_the_cell_state_carry():
    def lstm_backward(dh, caches):
        dprev_h, total, dxs = np.zeros_like(dh[:, 0]), None, []
        for t in reversed(range(len(caches))):
            dx, dprev_h, _, *dw = layers.lstm_step_backward(dh[:, t] + dprev_h,
                                                            np.zeros_like(dprev_h), caches[t])
            dxs.insert(0, dx)
            total = dw if total is None else [a + b for a, b in zip(total, dw, strict=True)]
        return (np.stack(dxs, axis=1), dprev_h, *total)

    def lstm_forward(x, h0, Wx, Wh, b):
        h, c, hs, caches = h0, np.zeros_like(h0), [], []
        for t in range(x.shape[1]):
            h, c, cache = layers.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
            hs.append(h)
            caches.append(cache)
        return np.stack(hs, axis=1), caches

    student = SimpleNamespace(lstm_forward=lstm_forward, lstm_backward=lstm_backward)
    hints = _hints(RECIPES["lstm"].check(student))
    assert "dprev_c is missing" in hints["dWh"]


def _swap(w):
    blocks = np.split(w, 4, axis=-1)
    return np.concatenate([blocks[i] for i in (0, 1, 3, 2)], axis=-1)


def test_lstm_with_pytorchs_gate_order_is_caught_in_the_forward():
    """Consistent forward and backward with gates i, f, g, o: right gradients, wrong layer."""
    def lstm_forward(x, h0, Wx, Wh, b):
        return layers.lstm_forward(x, h0, _swap(Wx), _swap(Wh), _swap(b))

    def lstm_backward(dh, cache):
        dx, dh0, dWx, dWh, db = layers.lstm_backward(dh, cache)
        return dx, dh0, _swap(dWx), _swap(dWh), _swap(db)

    student = SimpleNamespace(lstm_forward=lstm_forward, lstm_backward=lstm_backward)
    lc = RECIPES["lstm"].check(student)
    assert all(r.passed for r in lc.results if r.name.startswith("d"))
    assert "gate order i, f, g, o" in _hints(lc)["forward"]


def test_temporal_softmax_divided_by_N_times_T():
    def temporal_softmax_loss(x, y, mask):
        loss, dx = layers.temporal_softmax_loss(x, y, mask)
        return loss / x.shape[1], dx / x.shape[1]

    student = SimpleNamespace(temporal_softmax_loss=temporal_softmax_loss)
    assert "divided by N * T" in _hints(RECIPES["temporal_softmax_loss"].check(student))["forward"]

    def dx_only(x, y, mask):
        loss, dx = layers.temporal_softmax_loss(x, y, mask)
        return loss, dx / x.shape[1]

    student = SimpleNamespace(temporal_softmax_loss=dx_only)
    assert "dx is divided by N * T" in _hints(RECIPES["temporal_softmax_loss"].check(student))["dx"]


def test_attention_mask_after_the_softmax():
    def attention_forward(q, k, v, mask):
        _, (q, k, v, p) = layers.attention_forward(q, k, v)
        p = p * mask                         # too late: the rows no longer sum to 1
        return p @ v, (q, k, v, p)

    student = SimpleNamespace(attention_forward=attention_forward,
                              attention_backward=layers.attention_backward)
    assert "after the softmax" in _hints(RECIPES["attention_padding"].check(student))["forward"]


def test_the_library_layers_trigger_no_pitfall():
    for name in ("word_embedding", "rnn", "lstm", "gru", "temporal_softmax_loss",
                 "attention_padding"):
        assert RECIPES[name].check().passed, name
