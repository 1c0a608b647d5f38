"""CaptioningRNN: image features in, a caption out, word by word (the course's model).

Shapes: N images of D features, captions of T + 1 words from a vocabulary of V,
word vectors of W features, hidden states of H units.

    features --affine--> h0 (N, H)
    captions[:, :-1] --embedding--> (N, T, W) --rnn/lstm from h0--> (N, T, H)
    --temporal affine--> scores (N, T, V) --temporal softmax vs captions[:, 1:]--> loss

Steps whose target is <NULL> (padding) are masked out; there is no regularization.
"""

import numpy as np

from layers import (
    affine_backward,
    affine_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

from .base import Model, as_input

CELLS = {"rnn": (1, rnn_forward, rnn_backward), "lstm": (4, lstm_forward, lstm_backward)}


class CaptioningRNN(Model):
    """features -> affine (h0) -> embedding -> rnn/lstm -> temporal affine -> temporal softmax.

    params: W_embed (V, W), W_proj (D, H), b_proj (H,), Wx (W, gH), Wh (H, gH),
    b (gH,), W_vocab (H, V), b_vocab (V,), with g = 1 for 'rnn' and 4 for 'lstm'.
    Weights are drawn with np.random.randn in that order (W_embed / 100, the
    others / sqrt(fan in)); biases start at zero. reg is 0: the model has none.
    """

    def __init__(self, word_to_idx, input_dim=512, wordvec_dim=128, hidden_dim=128,
                 cell_type="rnn", dtype=np.float32):
        if cell_type not in CELLS:
            raise ValueError(f"CaptioningRNN: cell_type is {cell_type!r}; expected 'rnn' or 'lstm'")
        if "<NULL>" not in word_to_idx:
            raise ValueError("CaptioningRNN: word_to_idx has no '<NULL>' (the padding word)")
        self.init_args = {"word_to_idx": {str(w): int(i) for w, i in word_to_idx.items()},
                          "input_dim": input_dim, "wordvec_dim": wordvec_dim,
                          "hidden_dim": hidden_dim, "cell_type": cell_type,
                          "dtype": np.dtype(dtype)}        # save() stores them: load_model
        self.cell_type = cell_type
        self.dtype = dtype
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>")
        self._end = word_to_idx.get("<END>")
        self.reg = 0.0
        V, D, W, H = len(word_to_idx), input_dim, wordvec_dim, hidden_dim
        gH = CELLS[cell_type][0] * H
        params = {
            "W_embed": np.random.randn(V, W) / 100,
            "W_proj": np.random.randn(D, H) / np.sqrt(D),
            "b_proj": np.zeros(H),
            "Wx": np.random.randn(W, gH) / np.sqrt(W),
            "Wh": np.random.randn(H, gH) / np.sqrt(H),
            "b": np.zeros(gH),
            "W_vocab": np.random.randn(H, V) / np.sqrt(H),
            "b_vocab": np.zeros(V),
        }
        self.params = {name: p.astype(dtype) for name, p in params.items()}

    def loss(self, features, captions):
        """Training loss and gradients of one minibatch.

        - features: image features of shape (N, D)
        - captions: integer words of shape (N, T + 1); the input is captions[:, :-1],
          the target captions[:, 1:], and targets equal to <NULL> are masked out

        Returns (loss, grads), grads keyed like params.
        """
        p = self.params
        features = as_input(features, p["W_proj"])
        captions = np.asarray(captions)
        if captions.ndim != 2 or captions.shape[1] < 2:
            raise ValueError(f"CaptioningRNN.loss: captions has shape {captions.shape}; "
                             "expected (N, T + 1) with T >= 1")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self._null
        _, cell_forward, cell_backward = CELLS[self.cell_type]

        h0, h0_cache = affine_forward(features, p["W_proj"], p["b_proj"])       # (N, H)
        x, x_cache = word_embedding_forward(captions_in, p["W_embed"])          # (N, T, W)
        h, h_cache = cell_forward(x, h0, p["Wx"], p["Wh"], p["b"])              # (N, T, H)
        scores, scores_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, scores_cache)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = cell_backward(dh, h_cache)
        grads["W_embed"] = word_embedding_backward(dx, x_cache)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, h0_cache, need_dx=False)
        return loss, grads

    def sample(self, features, max_length=30):
        """Greedy captions: start from <START>, feed back the most likely word at every step.

        - features: image features of shape (N, D)
        - max_length: number of words to generate

        Returns captions of shape (N, max_length), the words after <START>.
        """
        if self._start is None:
            raise ValueError("CaptioningRNN.sample: word_to_idx has no '<START>' to begin with")
        p = self.params
        features = as_input(features, p["W_proj"])
        N = len(features)
        captions = np.full((N, max_length), self._null, dtype=np.intp)
        h = features @ p["W_proj"] + p["b_proj"]                                # h0 (N, H)
        c = np.zeros_like(h)
        word = np.full(N, self._start)
        for t in range(max_length):
            x = p["W_embed"][word]                                              # (N, W)
            if self.cell_type == "lstm":
                h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
            else:
                h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            word = np.argmax(h @ p["W_vocab"] + p["b_vocab"], axis=1)
            captions[:, t] = word
        return captions
