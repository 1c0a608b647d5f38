"""Character-level language models: a recurrent one and a small causal transformer.

Shapes: N sequences of T steps over V symbols, symbol 0 is <NULL> (padding)
and 1 is <START> (datasets.words). X (N, T) holds the inputs, y (N, T) the
symbol to predict at each step (0 where padded). loss(X) returns scores
(N, T, V); loss(X, y) the temporal softmax loss (summed over steps, divided by
N, padded steps left out) and its gradients. bits_per_char is the mean
-log2 p(y_t | x_1..x_t) over the unpadded steps.

CharRNN:          X -> embedding -> rnn/lstm/gru (h0 = 0) -> temporal affine -> scores
CharTransformer:  X -> embedding + sinusoidal positions -> L blocks -> layernorm -> affine
    each block (pre-norm, residual): x = x + self_attention(layernorm(x), causal mask)
                                      x = x + W2 relu(W1 layernorm(x) + b1) + b2
"""

import math

import numpy as np

from layers import (
    causal_mask,
    gru_backward,
    gru_forward,
    layernorm_backward,
    layernorm_forward,
    lstm_backward,
    lstm_forward,
    relu_backward,
    relu_forward,
    rnn_backward,
    rnn_forward,
    self_attention_backward,
    self_attention_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

from .base import Model

CELLS = {"rnn": (1, rnn_forward, rnn_backward), "lstm": (4, lstm_forward, lstm_backward),
         "gru": (3, gru_forward, gru_backward)}
NULL, START = 0, 1


class CharLM(Model):
    """What both language models share: loss, L2, bits per character and sampling.

    Subclasses define scores(X) -> (scores (N, T, V), cache) and
    scores_backward(dscores, cache) -> grads keyed like params.
    """

    def loss(self, X, y=None):
        """Scores (N, T, V) when y is None; else (loss, grads), grads keyed like params."""
        X = np.asarray(X)
        scores, cache = self.scores(X)
        if y is None:
            return scores
        y = np.asarray(y)
        loss, dscores = temporal_softmax_loss(scores, y, y != NULL)
        grads = self.scores_backward(dscores, cache)
        # L2 on the weight matrices (names starting with W), not on biases or gains
        for name, w in self.params.items():
            if name.startswith("W") and self.reg:
                loss += 0.5 * self.reg * np.sum(w * w)
                grads[name] += self.reg * w
        return loss, grads

    def bits_per_char(self, X, y, batch_size=500):
        """Mean -log2 p(y_t | inputs up to t) over the unpadded steps of (X, y)."""
        nats, count = 0.0, 0
        for i in range(0, len(X), batch_size):
            Xb, yb = X[i : i + batch_size], y[i : i + batch_size]
            scores = self.loss(Xb)
            nats += float(temporal_softmax_loss(scores, yb, yb != NULL)[0]) * len(Xb)
            count += int(np.sum(yb != NULL))
        return nats / count / math.log(2)

    def sample(self, num, max_length, temperature=1.0, seed=0):
        """Sample num sequences symbol by symbol, each step fed the symbols sampled so far.

        Returns (num, max_length + 1) symbol indices after <START>; a sequence
        stops at the first symbol 2 (<END>) and is padded with <NULL> after it.
        """
        rng = np.random.default_rng(seed)
        X = np.full((num, 1), START)
        done = np.zeros(num, dtype=bool)
        out = np.full((num, max_length + 1), NULL)
        for t in range(max_length + 1):
            logits = self.loss(X)[:, -1].astype(np.float64) / temperature   # (num, V)
            logits[:, [NULL, START]] = -np.inf                # never predicted
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            symbol = (p.cumsum(axis=1) > rng.random((num, 1))).argmax(axis=1)
            out[~done, t] = symbol[~done]
            done |= symbol == 2
            if done.all():
                break
            X = np.concatenate([X, symbol[:, None]], axis=1)
        return out


def _init(shape, fan_in, dtype):
    """Weights drawn from N(0, 1 / fan_in) with np.random (the course API's global state)."""
    return (np.random.randn(*shape) / np.sqrt(fan_in)).astype(dtype)


class CharRNN(CharLM):
    """embedding -> rnn/lstm/gru -> temporal affine.

    params: W_embed (V, W), Wx (W, gH), Wh (H, gH), b (gH,), W_vocab (H, V),
    b_vocab (V,), g = 1, 4 or 3 for rnn, lstm, gru. The LSTM's forget-gate
    biases start at 1 (remember by default); the other biases at 0.
    """

    def __init__(self, vocab_size, cell="lstm", wordvec_dim=32, hidden_dim=128, reg=0.0,
                 dtype=np.float32):
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell is {cell!r}; expected one of {sorted(CELLS)}")
        self.init_args = {"vocab_size": vocab_size, "cell": cell, "wordvec_dim": wordvec_dim,
                          "hidden_dim": hidden_dim, "reg": reg, "dtype": np.dtype(dtype)}
        self.cell, self.reg = cell, reg
        V, W, H = vocab_size, wordvec_dim, hidden_dim
        gH = CELLS[cell][0] * H
        self.params = {"W_embed": _init((V, W), 1, dtype), "Wx": _init((W, gH), W, dtype),
                       "Wh": _init((H, gH), H, dtype), "b": np.zeros(gH, dtype),
                       "W_vocab": _init((H, V), H, dtype), "b_vocab": np.zeros(V, dtype)}
        if cell == "lstm":
            self.params["b"][H:2 * H] = 1.0

    def scores(self, X):
        p = self.params
        _, cell_forward, _ = CELLS[self.cell]
        x, x_cache = word_embedding_forward(X, p["W_embed"])                 # (N, T, W)
        h0 = np.zeros((len(X), p["Wh"].shape[0]), p["Wh"].dtype)
        h, h_cache = cell_forward(x, h0, p["Wx"], p["Wh"], p["b"])           # (N, T, H)
        scores, s_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        return scores, (x_cache, h_cache, s_cache)

    def scores_backward(self, dscores, cache):
        x_cache, h_cache, s_cache = cache
        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, s_cache)
        dx, _, grads["Wx"], grads["Wh"], grads["b"] = CELLS[self.cell][2](dh, h_cache)
        grads["W_embed"] = word_embedding_backward(dx, x_cache)
        return grads


def positional_encoding(T, E):
    """(T, E) sinusoids: pe[t, 2i] = sin(t / 10000^(2i/E)), pe[t, 2i+1] = cos(same)."""
    angle = np.arange(T)[:, None] / 10000 ** (np.arange(0, E, 2) / E)
    pe = np.zeros((T, E))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle[:, : E // 2])
    return pe


def _layernorm(x, gamma, beta):
    """layernorm_forward over the last axis of x (N, T, E)."""
    out, cache = layernorm_forward(x.reshape(-1, x.shape[-1]), gamma, beta, {})
    return out.reshape(x.shape), cache


def _layernorm_backward(dout, cache):
    dx, dgamma, dbeta = layernorm_backward(dout.reshape(-1, dout.shape[-1]), cache)
    return dx.reshape(dout.shape), dgamma, dbeta


ATTENTION = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


class CharTransformer(CharLM):
    """A small causal transformer: pre-norm blocks of self-attention and a ReLU feed-forward.

    params: W_embed (V, E); per block l: ln1_gamma{l}, ln1_beta{l} (E,), Wq{l}, Wk{l},
    Wv{l}, Wo{l} (E, E) with biases bq{l}.. (E,), ln2_gamma{l}, ln2_beta{l}, W1{l} (E, F),
    b1{l} (F,), W2{l} (F, E), b2{l} (E,); then ln_gamma, ln_beta and W_vocab (E, V),
    b_vocab (V,). Positions are fixed sinusoids for up to max_length steps.
    """

    def __init__(self, vocab_size, max_length=17, embed_dim=64, num_heads=4, num_layers=2,
                 ffn_dim=128, reg=0.0, dtype=np.float32):
        self.init_args = {"vocab_size": vocab_size, "max_length": max_length,
                          "embed_dim": embed_dim, "num_heads": num_heads,
                          "num_layers": num_layers, "ffn_dim": ffn_dim, "reg": reg,
                          "dtype": np.dtype(dtype)}        # save() stores them: load_model
        V, E, F = vocab_size, embed_dim, ffn_dim
        self.num_heads, self.num_layers, self.reg = num_heads, num_layers, reg
        self.positions = positional_encoding(max_length, E).astype(dtype)
        p = {"W_embed": _init((V, E), 1, dtype)}
        for l in range(num_layers):
            p |= {f"ln1_gamma{l}": np.ones(E, dtype), f"ln1_beta{l}": np.zeros(E, dtype)}
            for name in ATTENTION:
                p[f"{name}{l}"] = _init((E, E), E, dtype) if name[0] == "W" else np.zeros(E, dtype)
            p |= {f"ln2_gamma{l}": np.ones(E, dtype), f"ln2_beta{l}": np.zeros(E, dtype),
                  f"W1{l}": _init((E, F), E, dtype), f"b1{l}": np.zeros(F, dtype),
                  f"W2{l}": _init((F, E), F, dtype), f"b2{l}": np.zeros(E, dtype)}
        p |= {"ln_gamma": np.ones(E, dtype), "ln_beta": np.zeros(E, dtype),
              "W_vocab": _init((E, V), E, dtype), "b_vocab": np.zeros(V, dtype)}
        self.params = p

    def scores(self, X):
        p, T = self.params, X.shape[1]
        if len(self.positions) < T:
            raise ValueError(f"CharTransformer: X has shape {X.shape}; at most "
                             f"{len(self.positions)} steps (max_length)")
        x, embed_cache = word_embedding_forward(X, p["W_embed"])
        x = x + self.positions[:T]                                          # (N, T, E)
        mask, caches = causal_mask(T), []
        for l in range(self.num_layers):
            a, ln1 = _layernorm(x, p[f"ln1_gamma{l}"], p[f"ln1_beta{l}"])
            att, att_cache = self_attention_forward(
                a, *(p[f"{name}{l}"] for name in ATTENTION), self.num_heads, mask)
            x = x + att                                                     # residual
            a, ln2 = _layernorm(x, p[f"ln2_gamma{l}"], p[f"ln2_beta{l}"])
            f, f1 = temporal_affine_forward(a, p[f"W1{l}"], p[f"b1{l}"])
            f, relu = relu_forward(f)
            f, f2 = temporal_affine_forward(f, p[f"W2{l}"], p[f"b2{l}"])
            x = x + f                                                       # residual
            caches.append((ln1, att_cache, ln2, f1, relu, f2))
        a, ln = _layernorm(x, p["ln_gamma"], p["ln_beta"])
        scores, s_cache = temporal_affine_forward(a, p["W_vocab"], p["b_vocab"])
        return scores, (embed_cache, caches, ln, s_cache)

    def scores_backward(self, dscores, cache):
        embed_cache, caches, ln, s_cache = cache
        grads = {}
        da, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, s_cache)
        dx, grads["ln_gamma"], grads["ln_beta"] = _layernorm_backward(da, ln)
        for l in reversed(range(self.num_layers)):
            ln1, att_cache, ln2, f1, relu, f2 = caches[l]
            df, grads[f"W2{l}"], grads[f"b2{l}"] = temporal_affine_backward(dx, f2)
            df = relu_backward(df, relu)
            da, grads[f"W1{l}"], grads[f"b1{l}"] = temporal_affine_backward(df, f1)
            da, grads[f"ln2_gamma{l}"], grads[f"ln2_beta{l}"] = _layernorm_backward(da, ln2)
            dx = dx + da                                   # the residual adds both paths
            da, *datt = self_attention_backward(dx, att_cache)
            grads |= {f"{name}{l}": g for name, g in zip(ATTENTION, datt, strict=True)}
            da, grads[f"ln1_gamma{l}"], grads[f"ln1_beta{l}"] = _layernorm_backward(da, ln1)
            dx = dx + da
        grads["W_embed"] = word_embedding_backward(dx, embed_cache)   # positions are fixed
        return grads
