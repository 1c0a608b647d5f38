"""Fully connected networks: TwoLayerNet and FullyConnectedNet.

Shapes: N examples of D features (any input shape (N, d1, ..., dk) flattens to
D = d1 * ... * dk), hidden layers of H units, C classes. Forward reads top to
bottom, backward bottom to top; the input layer's backward skips dx, which
nothing consumes.
"""

import warnings

import numpy as np

from layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)

from .base import Model, as_input, check_init


class TwoLayerNet(Model):
    """affine - relu - affine - softmax.

    params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,). Weights are drawn from
    N(0, weight_scale^2) with np.random, W1 first; biases start at zero.
    dtype (float64 by default) is the dtype of the parameters.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        dtype = check_init("TwoLayerNet", weight_scale, reg, dtype, input_dim=input_dim,
                           hidden_dim=hidden_dim, num_classes=num_classes)
        self.init_args = {"input_dim": input_dim, "hidden_dim": hidden_dim,
                          "num_classes": num_classes, "weight_scale": weight_scale,
                          "reg": reg, "dtype": dtype}
        self.reg = reg
        params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }
        self.params = {name: p.astype(dtype) for name, p in params.items()}

    def loss(self, X, y=None):
        """Scores (N, C) when y is None; else (loss, grads), grads keyed like params.

        - X: inputs of shape (N, d1, ..., dk)
        - y: integer labels of shape (N,) in [0, C), or None
        """
        W1, b1, W2, b2 = (self.params[name] for name in ("W1", "b1", "W2", "b2"))
        X = as_input(X, W1)
        # BEGIN SOLUTION two_layer_loss
        # HINT: forward with affine_relu_forward and affine_forward (return the scores when y
        # HINT: is None), then softmax_loss, the two backward calls, and the L2 term and its dW
        h1, h1_cache = affine_relu_forward(X, W1, b1)          # (N, H)
        scores, scores_cache = affine_forward(h1, W2, b2)      # (N, C)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh1, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dh1, h1_cache, need_dx=False)

        # L2 on the weights only: loss += 0.5 reg sum(W^2), so dW += reg W
        if self.reg:
            loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
            grads["W1"] += self.reg * W1
            grads["W2"] += self.reg * W2
        # END SOLUTION
        return loss, grads


NORMALIZATIONS = {
    "batchnorm": (batchnorm_forward, batchnorm_backward_alt),
    "layernorm": (layernorm_forward, layernorm_backward),
}


class FullyConnectedNet(Model):
    """L layers: {affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax.

    params: W1 (D, H1), b1 (H1,), ..., WL (H_{L-1}, C), bL (C,) and, with
    normalization, gamma_i (ones) and beta_i (zeros) of shape (H_i,) for each
    hidden layer i. Weights are drawn from N(0, weight_scale^2) with np.random
    in the order W1, W2, ..., WL; biases start at zero.

    - hidden_dims: list of hidden sizes [H1, ..., H_{L-1}] (may be empty)
    - dropout_keep_ratio: probability of keeping a unit; 1 means no dropout
    - normalization: None, 'batchnorm' or 'layernorm'
    - dtype: dtype of every parameter (float32 trains fast, float64 checks gradients)
    - seed: makes dropout deterministic (dropout_param['seed']), for gradient checks
    - dropout: the 2019 course's name of dropout_keep_ratio (also a keep
      probability); accepted with a DeprecationWarning
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, seed=None, dropout=None):
        if dropout is not None:
            dropout_keep_ratio = _renamed_dropout(dropout, dropout_keep_ratio)
        _check_settings(hidden_dims, dropout_keep_ratio, normalization)
        dtype = check_init("FullyConnectedNet", weight_scale, reg, dtype, input_dim=input_dim,
                           num_classes=num_classes)
        self.init_args = {"hidden_dims": list(hidden_dims), "input_dim": input_dim,
                          "num_classes": num_classes, "dropout_keep_ratio": dropout_keep_ratio,
                          "normalization": normalization, "reg": reg,
                          "weight_scale": weight_scale, "dtype": dtype, "seed": seed}
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype

        dims = [input_dim, *hidden_dims, num_classes]
        params = {}
        for i in range(1, self.num_layers + 1):
            params[f"W{i}"] = weight_scale * np.random.randn(dims[i - 1], dims[i])
            params[f"b{i}"] = np.zeros(dims[i])
        if normalization:
            for i in range(1, self.num_layers):
                params[f"gamma{i}"] = np.ones(dims[i])
                params[f"beta{i}"] = np.zeros(dims[i])
        self.params = {name: p.astype(dtype) for name, p in params.items()}

        # One dict per normalized layer; batchnorm keeps its running averages there.
        self.bn_params = []
        if normalization == "batchnorm":
            self.bn_params = [
                {"mode": "train", "running_mean": np.zeros(H, dtype),
                 "running_var": np.zeros(H, dtype)}
                for H in hidden_dims
            ]
        elif normalization == "layernorm":
            self.bn_params = [{} for _ in hidden_dims]
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

    def loss(self, X, y=None):
        """Scores (N, C) when y is None (test mode); else (loss, grads) in train mode.

        - X: inputs of shape (N, d1, ..., dk)
        - y: integer labels of shape (N,) in [0, C), or None
        """
        L = self.num_layers
        X = as_input(X, self.params["W1"])
        mode = "test" if y is None else "train"
        self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        h, caches = X, []
        for l in range(L - 1):                              # hidden layers 1 .. L-1
            h, cache = self._hidden_forward(l, h)
            caches.append(cache)
        scores, cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        caches.append(cache)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L - 1],
                                                             need_dx=L > 1)
        for l in reversed(range(L - 1)):
            dh = self._hidden_backward(l, dh, caches[l], grads)

        # L2 on the weights only: loss += 0.5 reg sum(W^2), so dW += reg W
        if self.reg:
            for i in range(1, L + 1):
                W = self.params[f"W{i}"]
                loss += 0.5 * self.reg * np.sum(W * W)
                grads[f"W{i}"] += self.reg * W
        return loss, grads

    def _hidden_forward(self, l, x):
        """Hidden layer l (0-based, params W{l+1}, ...): affine - [norm] - relu - [dropout]."""
        p, i = self.params, l + 1
        out, fc_cache = affine_forward(x, p[f"W{i}"], p[f"b{i}"])
        norm_cache = dropout_cache = None
        if self.normalization:
            norm_forward = NORMALIZATIONS[self.normalization][0]
            out, norm_cache = norm_forward(out, p[f"gamma{i}"], p[f"beta{i}"], self.bn_params[l])
        out, relu_cache = relu_forward(out)
        if self.use_dropout:
            out, dropout_cache = dropout_forward(out, self.dropout_param)
        return out, (fc_cache, norm_cache, relu_cache, dropout_cache)

    def _hidden_backward(self, l, dout, cache, grads):
        """Backward of _hidden_forward: fills grads of layer l, returns dx (None for l = 0)."""
        fc_cache, norm_cache, relu_cache, dropout_cache = cache
        i = l + 1
        if dropout_cache is not None:
            dout = dropout_backward(dout, dropout_cache)
        dout = relu_backward(dout, relu_cache)
        if norm_cache is not None:
            norm_backward = NORMALIZATIONS[self.normalization][1]
            dout, grads[f"gamma{i}"], grads[f"beta{i}"] = norm_backward(dout, norm_cache)
        dx, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dout, fc_cache, need_dx=l > 0)
        return dx


def _renamed_dropout(dropout, dropout_keep_ratio):
    """The value of the 2019 keyword dropout=KEEP, with a DeprecationWarning."""
    if dropout_keep_ratio != 1:
        raise TypeError("FullyConnectedNet: got both dropout and dropout_keep_ratio; dropout is "
                        "the old name of dropout_keep_ratio, give only dropout_keep_ratio")
    warnings.warn("FullyConnectedNet: dropout= is the old name of dropout_keep_ratio= (the "
                  "probability of keeping a unit); use dropout_keep_ratio", DeprecationWarning,
                  stacklevel=3)
    return dropout


def _check_settings(hidden_dims, dropout_keep_ratio, normalization):
    """Constructor arguments of FullyConnectedNet that would fail later and far away."""
    func = "FullyConnectedNet"
    if normalization not in (None, *NORMALIZATIONS):
        raise ValueError(
            f"{func}: normalization is {normalization!r}; expected None, 'batchnorm' or 'layernorm'"
        )
    if not 0 < dropout_keep_ratio <= 1:
        raise ValueError(
            f"{func}: dropout_keep_ratio is {dropout_keep_ratio!r}; expected a keep "
            "probability in (0, 1], 1 meaning no dropout"
        )
    if any(isinstance(H, bool) or not isinstance(H, (int, np.integer)) or H < 1
           for H in hidden_dims):
        raise ValueError(f"{func}: hidden_dims is {list(hidden_dims)!r}; expected integers >= 1")
