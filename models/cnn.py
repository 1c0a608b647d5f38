"""A small convolutional network: ThreeLayerConvNet.

Shapes: N images of C channels and H x W pixels, F filters of size HH x HH,
a hidden layer of M units, K classes (the course API's C is taken by the channels).
"""

import numpy as np

from layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    softmax_loss,
)

from .base import Model, as_input, check_init

POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


class ThreeLayerConvNet(Model):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The conv keeps the spatial size (stride 1, pad (HH - 1) // 2, exact for odd HH).
    params: W1 (F, C, HH, HH), b1 (F,), W2 (F * H2 * W2, M), b2 (M,), W3 (M, K), b3 (K,)
    where H2 x W2 is the pooled size (H // 2 x W // 2 for odd HH). Weights are drawn
    from N(0, weight_scale^2) with np.random in the order W1, W2, W3; biases start at zero.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        self.input_dim = _check_input_dim(input_dim, filter_size)
        dtype = check_init("ThreeLayerConvNet", weight_scale, reg, dtype,
                           num_filters=num_filters, hidden_dim=hidden_dim,
                           num_classes=num_classes)
        self.init_args = {"input_dim": self.input_dim, "num_filters": num_filters,
                          "filter_size": filter_size, "hidden_dim": hidden_dim,
                          "num_classes": num_classes, "weight_scale": weight_scale,
                          "reg": reg, "dtype": dtype}
        C, H, W = self.input_dim
        H2, W2 = _pooled_size(H, filter_size), _pooled_size(W, filter_size)
        self.reg = reg
        self.dtype = dtype
        params = {
            "W1": weight_scale * np.random.randn(num_filters, C, filter_size, filter_size),
            "b1": np.zeros(num_filters),
            "W2": weight_scale * np.random.randn(num_filters * H2 * W2, hidden_dim),
            "b2": np.zeros(hidden_dim),
            "W3": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b3": np.zeros(num_classes),
        }
        self.params = {name: p.astype(dtype) for name, p in params.items()}

    def loss(self, X, y=None):
        """Scores (N, K) when y is None; else (loss, grads), grads keyed like params.

        - X: images of shape (N, C, H, W) as given by input_dim
        - y: integer labels of shape (N,) in [0, K), or None
        """
        W1, b1, W2, b2, W3, b3 = (self.params[f"{p}{i}"] for i in (1, 2, 3) for p in "Wb")
        X = as_input(X, W1)
        if X.shape[1:] != self.input_dim:
            raise ValueError(f"ThreeLayerConvNet.loss: X has shape {X.shape}; expected "
                             f"(N, {', '.join(map(str, self.input_dim))}) as in input_dim")
        conv_param = {"stride": 1, "pad": (W1.shape[2] - 1) // 2}

        h1, h1_cache = conv_relu_pool_forward(X, W1, b1, conv_param, POOL_PARAM)  # (N, F, H2, W2)
        h2, h2_cache = affine_relu_forward(h1, W2, b2)                            # (N, M)
        scores, scores_cache = affine_forward(h2, W3, b3)                         # (N, K)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh2, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dh1, grads["W2"], grads["b2"] = affine_relu_backward(dh2, h2_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dh1, h1_cache, need_dx=False)

        # L2 on the weights only: loss += 0.5 reg sum(W^2), so dW += reg W
        if self.reg:
            loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
            grads["W1"] += self.reg * W1
            grads["W2"] += self.reg * W2
            grads["W3"] += self.reg * W3
        return loss, grads


def _pooled_size(size, filter_size):
    """Side length after the size-keeping conv (exact for odd filters) and the 2x2 pool."""
    conv = size + 2 * ((filter_size - 1) // 2) - filter_size + 1
    return 1 + (conv - 2) // 2


def _check_input_dim(input_dim, filter_size):
    """input_dim as a tuple (C, H, W) of ints, big enough for the conv and the pool."""
    func = "ThreeLayerConvNet"
    dims = tuple(input_dim)
    if len(dims) != 3 or any(not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
        raise ValueError(f"{func}: input_dim is {input_dim!r}; expected (C, H, W), integers >= 1")
    if isinstance(filter_size, bool) or not isinstance(filter_size, (int, np.integer)) \
            or filter_size < 1:
        raise ValueError(f"{func}: filter_size is {filter_size!r}; expected an integer >= 1")
    if min(_pooled_size(d, filter_size) for d in dims[1:]) < 1:
        raise ValueError(f"{func}: input_dim {dims} is too small for a {filter_size}x{filter_size} "
                         "conv followed by a 2x2 max pool")
    return tuple(int(d) for d in dims)
