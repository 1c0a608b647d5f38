"""Fully connected networks: TwoLayerNet and FullyConnectedNet.

Shapes: N examples of D features (any input shape (N, d1, ..., dk) flattens to
D = d1 * ... * dk), hidden layers of H units, C classes. Forward reads top to
bottom, backward bottom to top; the input layer's backward skips dx, which
nothing consumes.
"""

import numpy as np

from layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss

from .base import Model, as_input


class TwoLayerNet(Model):
    """affine - relu - affine - softmax.

    params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,). Weights are drawn from
    N(0, weight_scale^2) with np.random, W1 first; biases start at zero.
    dtype (float64 by default) is the dtype of the parameters.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        self.reg = reg
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }
        self.params = {name: p.astype(dtype) for name, p in self.params.items()}

    def loss(self, X, y=None):
        """Scores (N, C) when y is None; else (loss, grads), grads keyed like params.

        - X: inputs of shape (N, d1, ..., dk)
        - y: integer labels of shape (N,) in [0, C), or None
        """
        W1, b1, W2, b2 = (self.params[name] for name in ("W1", "b1", "W2", "b2"))
        X = as_input(X, W1)
        a1, fc1_cache = affine_forward(X, W1, b1)        # (N, H)
        h1, relu1_cache = relu_forward(a1)               # (N, H)
        scores, fc2_cache = affine_forward(h1, W2, b2)   # (N, C)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh1, grads["W2"], grads["b2"] = affine_backward(dscores, fc2_cache)
        da1 = relu_backward(dh1, relu1_cache)
        _, grads["W1"], grads["b1"] = affine_backward(da1, fc1_cache, need_dx=False)

        # L2 on the weights only: loss += 0.5 reg sum(W^2), so dW += reg W
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        return loss, grads
