"""Known mistakes of the sequence layers, recognised by their fingerprints.

A pitfall is a wrong version of a layer's forward output or of one of its
gradients, computed from the library's own layers: the embedding backward that
assigns instead of adding (a repeated word keeps one gradient), backpropagation
through time without the carried gradient, the LSTM with PyTorch's gate order,
the temporal softmax divided by N*T, the attention mask applied after the
softmax. When a checked layer's output or gradient equals the wrong version (and
not the right one), the check says which mistake it is.
"""

from dataclasses import dataclass

import numpy as np

from .check import gradient_slots
from .report import GradientCheck


@dataclass(frozen=True)
class Pitfall:
    """what: "forward" or a gradient name ("dW"); wrong(inputs, dout) -> the wrong value."""

    what: str
    message: str
    wrong: object


def name_pitfalls(lc, forward, backward, reference, inputs, pitfalls, seed):
    """Set the hint of every result of lc whose value matches one of the pitfalls.

    forward, backward: the checked pair; reference: the library's (forward, backward);
    inputs: the recipe's inputs (float64 for a precise match).
    """
    try:
        out, grads, dout = _run(forward, backward, inputs, seed)
    except Exception:                        # a crash is reported by the check itself
        return
    right_out = _run(*reference, inputs, seed)[0]
    names = [g for _, g in gradient_slots(forward, inputs)]
    for pitfall in pitfalls:
        wrong = np.asarray(pitfall.wrong(inputs, dout))
        if pitfall.what == "forward":
            if _close(out, wrong) and not _close(out, right_out):
                lc.results.insert(0, GradientCheck("forward", "fail", hint=pitfall.message))
            continue
        k = names.index(pitfall.what)
        matching = [r for r in lc.results if r.name == pitfall.what and r.verdict == "fail"]
        if matching and _close(grads[k], wrong):
            matching[0].hint = pitfall.message


def _run(forward, backward, inputs, seed):
    """(out, grads, dout) of one pass on copies of inputs; grads None for a loss."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in inputs]
    out, cache = forward(*args)
    if backward is None:                     # a loss: (loss, dx)
        return np.asarray(out), (cache,), None
    dout = np.random.default_rng((seed, 3)).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    return np.asarray(out), grads if isinstance(grads, tuple) else (grads,), dout


def _close(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def _layers():
    import layers
    return layers


def embedding_assigned(inputs, dout):
    """dW[x] = dout: a word seen twice keeps only its last gradient."""
    x, W = inputs
    dW = np.zeros_like(W, dtype=np.float64)
    dW[x] = dout
    return dW


def _step_caches(kind, x, h0, Wx, Wh, b):
    """The step caches of the library's recurrent layer kind over the sequence x."""
    step_forward = getattr(_layers(), f"{kind}_step_forward")
    state, caches = (h0, np.zeros_like(h0)) if kind == "lstm" else (h0,), []
    for t in range(x.shape[1]):
        *state, cache = step_forward(x[:, t], *state, Wx, Wh, b)
        caches.append(cache)
    return caches


def _without_carry(kind, index, carry_h=False, carry_c=True):
    """Gradient number index of a recurrent backward that drops a carried gradient."""
    def wrong(inputs, dout):
        L = _layers()
        step_backward = getattr(L, f"{kind}_step_backward")
        caches = _step_caches(kind, *inputs)
        dxs, dws = [], []
        dh, dc = np.zeros_like(inputs[1]), np.zeros_like(inputs[1])
        for t in reversed(range(len(caches))):
            dnext_h = dout[:, t] + (dh if carry_h else 0)
            if kind == "lstm":
                dx, dh, dc, *dw = step_backward(dnext_h, dc if carry_c else 0 * dc, caches[t])
            else:
                dx, dh, *dw = step_backward(dnext_h, caches[t])
            dxs.insert(0, dx)
            dws.append(dw)
        return [np.stack(dxs, axis=1), dh, *map(sum, zip(*dws, strict=True))][index]
    return wrong


def lstm_torch_gate_order(inputs, dout):
    """The LSTM forward with gate order i, f, g, o (PyTorch's) where the contract has i, f, o, g."""
    x, h0, Wx, Wh, b = inputs

    def swap(w):                             # a student's o block is read where g belongs
        blocks = np.split(w, 4, axis=-1)
        return np.concatenate([blocks[i] for i in (0, 1, 3, 2)], axis=-1)

    return _layers().lstm_forward(x, h0, swap(Wx), swap(Wh), swap(b))[0]


def softmax_over_NT(inputs, dout):
    """temporal_softmax_loss divided by N * T instead of N: the loss, or its dx."""
    x = inputs[0]
    return _layers().temporal_softmax_loss(*inputs)[0] / x.shape[1]


def softmax_dx_over_NT(inputs, dout):
    x = inputs[0]
    return _layers().temporal_softmax_loss(*inputs)[1] / x.shape[1]


def mask_after_softmax(inputs, dout):
    """Attention whose mask zeroes the weights after the softmax (rows no longer sum to 1)."""
    q, k, v, mask = inputs
    _, (_, _, _, p) = _layers().attention_forward(q, k, v)
    return (p * np.broadcast_to(mask, p.shape)) @ v


NO_CARRY = ("the gradient carried back from step t+1 is missing: each step's upstream gradient "
            "is dh[:, t] plus what the step after it passes back (dprev_h)")
NO_CARRY_C = "the cell state's carried gradient dprev_c is missing: pass it to the step before"
RECURRENT_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def _carry_pitfalls(kind, cases):
    return tuple(Pitfall(g, message, _without_carry(kind, i, carry_h, carry_c))
                 for carry_h, carry_c, message in cases for i, g in enumerate(RECURRENT_GRADS))


PITFALLS = {
    "word_embedding": (Pitfall("dW", "repeated words lost their gradients: dW[x] = dout (or += "
                               "with fancy indexing) keeps one per word; use np.add.at",
                               embedding_assigned),),
    "rnn": _carry_pitfalls("rnn", [(False, True, NO_CARRY)]),
    "gru": _carry_pitfalls("gru", [(False, True, NO_CARRY)]),
    "lstm": (
        *_carry_pitfalls("lstm", [(False, True, NO_CARRY), (True, False, NO_CARRY_C),
                                  (False, False, f"{NO_CARRY}; so is the cell state's")]),
        Pitfall("forward", "the forward uses gate order i, f, g, o (PyTorch's); the contract's "
                "order along the 4H axis is i, f, o, g", lstm_torch_gate_order)),
    "temporal_softmax_loss": (
        Pitfall("forward", "the loss is divided by N * T; the contract divides by N only "
                "(summed over time steps)", softmax_over_NT),
        Pitfall("dx", "dx is divided by N * T; the contract divides by N only",
                softmax_dx_over_NT)),
    "attention_padding": (Pitfall("forward", "the mask is applied after the softmax (weights of "
                                  "a row no longer sum to 1): set masked scores to -inf before it",
                                  mask_after_softmax),),
}
