"""The count baseline of the language models: a bigram model of symbols.

Shapes as in models.charlm: X (N, T) inputs, y (N, T) targets, 0 (<NULL>) where
padded, 1 (<START>) never a target. It predicts the next symbol from the current
one alone, so a model that uses more context must beat it.
"""

import numpy as np

NULL, START = 0, 1


class BigramLM:
    """The count baseline: p(next | current) = (count + alpha) / (row total + alpha K).

    K counts the symbols that can be predicted (all but <NULL> and <START>).
    """

    def __init__(self, vocab_size, alpha=0.1):
        self.alpha = alpha
        self.counts = np.zeros((vocab_size, vocab_size))

    def fit(self, X, y):
        mask = y != NULL
        np.add.at(self.counts, (X[mask], y[mask]), 1)
        return self

    def bits_per_char(self, X, y):
        counts = self.counts + self.alpha
        counts[:, [NULL, START]] = 0
        mask = y != NULL
        rows, cols = X[mask], y[mask]
        return float(-np.log2(counts[rows, cols] / counts.sum(axis=1)[rows]).mean())


def fit_bigram(data, alphas=(0.01, 0.03, 0.1, 0.3, 1.0)):
    """A BigramLM fit on data's train split, alpha chosen by bits per char on val."""
    V = len(data["vocab"])
    fitted = [BigramLM(V, a).fit(data["X_train"], data["y_train"]) for a in alphas]
    return min(fitted, key=lambda m: m.bits_per_char(data["X_val"], data["y_val"]))
