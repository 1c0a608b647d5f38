"""SequenceSolver: the Solver for models that predict a label at every time step.

Shapes: X_train (N, T) inputs, y_train (N, T) integer targets, 0 (<NULL>) where a
sequence is padded; the same for val. Minibatches, updates, checkpoints and
resume are the Solver's; accuracy is the fraction of unpadded steps whose
argmax of the scores (N, T, V) of model.loss(X) is the target.
"""

import numpy as np

from .solver import Solver


class SequenceSolver(Solver):
    """Solver with y of shape (N, T) and per-step accuracy; padded steps (y == 0) left out."""

    label_ndim = 2

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of unpadded steps of X whose predicted symbol equals y.

        - X: (N, T); y: (N, T), 0 marks padding
        - num_samples: score a random subsample of this many sequences (with replacement)
        - batch_size: sequences per call of model.loss
        """
        N = len(X)
        if num_samples is not None and num_samples < N:
            rows = self._choice(N, num_samples)
            X, y, N = X[rows], y[rows], num_samples
        right = counted = 0
        for i in range(0, N, batch_size):
            scores = self.model.loss(X[i : i + batch_size])      # (n, T, V)
            target = y[i : i + batch_size]
            mask = target != 0
            right += int(np.sum((np.argmax(scores, axis=-1) == target) & mask))
            counted += int(mask.sum())
        return right / max(counted, 1)
