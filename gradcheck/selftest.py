"""The checker checked: correct layers must pass and planted bugs must be caught.

Each planted bug is a small wrong backward (or loss, or model) next to a right
forward; `run()` checks them all and reports, per bug, whether the check failed
on the expected gradient and whether the hint names the expected pattern.
"""

import numpy as np

import layers

from .check import check_layer, check_loss
from .model import check_model
from .recipes import RECIPES


def _affine_sign(dout, cache):
    dx, dw, db = layers.affine_backward(dout, cache)
    return -dx, dw, db


def _affine_transposed(dout, cache):
    dx, _, db = layers.affine_backward(dout, cache)
    return dx, (dout.T @ cache[0].reshape(len(dout), -1)), db


def _affine_no_db(dout, cache):
    dx, dw, _ = layers.affine_backward(dout, cache)
    return dx, dw, np.zeros(dw.shape[1], dw.dtype)


def _relu_mask_ge(dout, cache):
    x = cache if isinstance(cache, np.ndarray) else cache[0]
    return dout * (x >= 0)


def _relu_no_dout(dout, cache):
    x = cache if isinstance(cache, np.ndarray) else cache[0]
    return (x > 0).astype(dout.dtype)


def _softmax_no_average(x, y):
    loss, dx = layers.softmax_loss(x, y)
    return loss, dx * len(y)


def _softmax_no_onehot(x, y):
    loss, dx = layers.softmax_loss(x, y)
    dx = dx.copy()
    dx[np.arange(len(y)), y] += 1.0 / len(y)
    return loss, dx


def _mse_no_half(x, t):
    loss, dx = layers.mse_loss(x, t)
    return loss, 2 * dx


def _batchnorm_no_mean(x, gamma, beta, bn_param):
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    eps = bn_param.get("eps", 1e-5)
    mu, var = x.mean(axis=0), x.var(axis=0)
    return out, (x, gamma, mu, var, eps)


def _batchnorm_no_mean_backward(dout, cache):
    x, gamma, mu, var, eps = cache
    xhat = (x - mu) / np.sqrt(var + eps)
    dxhat = dout * gamma
    dx = (dxhat - xhat * np.mean(dxhat * xhat, axis=0)) / np.sqrt(var + eps)  # no mean term
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def _dropout_no_scale(x, dropout_param):
    out, _ = layers.dropout_forward(x, dropout_param)
    return out, (out != 0)


def _pool_forward(x, pool_param):
    """2x2 stride-2 max pooling of (N, C, H, W), for the routing bug (any layers version)."""
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(N, C, H // 2, W // 2, 4)
    return windows.max(axis=-1), (x.shape, windows)


def _pool_backward_wrong_entry(dout, cache):
    shape, windows = cache
    N, C, H, W = shape
    pick = np.argmin(windows, axis=-1)          # planted: routes to the smallest entry
    d = np.zeros(windows.shape)
    np.put_along_axis(d, pick[..., None], dout[..., None], axis=-1)
    d = d.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return d.reshape(shape)


def _two_layer(reg_factor):
    import models

    class Planted(models.TwoLayerNet):
        def loss(self, X, y=None):
            loss, grads = super().loss(X, y)
            for key in ("W1", "W2"):
                grads[key] = grads[key] + (reg_factor - 1) * self.reg * self.params[key]
            return loss, grads

    np.random.seed(0)  # noqa: NPY002 (the model draws weights from the global state)
    model = Planted(input_dim=12, hidden_dim=8, num_classes=4, weight_scale=0.1, reg=3.0)
    model.params = {k: v.astype(np.float64) for k, v in model.params.items()}
    rng = np.random.default_rng(0)
    return model, rng.standard_normal((5, 12)), rng.integers(4, size=5)


def _layer(recipe, forward, backward, **kw):
    def run():
        inputs = RECIPES[recipe].inputs()
        return check_layer(forward, backward, *inputs, name=recipe, **kw)
    return run


def _loss(recipe, loss_fn):
    return lambda: check_loss(loss_fn, *RECIPES[recipe].inputs(), name=recipe)


def _model(reg_factor):
    return lambda: check_model(*_two_layer(reg_factor), name="TwoLayerNet")


# (bug, runner, gradient expected to fail, words the hint should contain)
PLANTED = [
    ("sign flip in affine dx", _layer("affine", layers.affine_forward, _affine_sign), "dx",
     "sign"),
    ("transposed dw", _layer("affine", layers.affine_forward, _affine_transposed), "dw",
     "transposed"),
    ("missing 1/N in softmax_loss", _loss("softmax_loss", _softmax_no_average), "dx",
     "N = 6"),
    ("factor 2 in mse_loss", _loss("mse_loss", _mse_no_half), "dx", "factor 2"),
    ("dropped bias gradient", _layer("affine", layers.affine_forward, _affine_no_db), "db",
     "zeros"),
    ("ReLU mask x >= 0", _layer("relu", layers.relu_forward, _relu_mask_ge,
                                kink_side={"dx": "left"}), "dx", "mask"),
    ("backward ignores dout", _layer("relu", layers.relu_forward, _relu_no_dout), "dx", "dout"),
    ("batchnorm missing the mean term", _layer("batchnorm", _batchnorm_no_mean,
                                               _batchnorm_no_mean_backward), "dx", "mean"),
    ("softmax without subtracting 1[y]", _loss("softmax_loss", _softmax_no_onehot), "dx", "-1[y]"),
    ("missing regularization gradient", _model(0.0), "W1", "missing regularization"),
    ("doubled regularization gradient", _model(2.0), "W1", "twice"),
    ("dropout without 1/p", _layer("dropout", _dropout_no_scale, lambda d, m: d * m), "dx",
     "factor"),
    ("max-pool routing to the wrong entry", _layer("max_pool_naive", _pool_forward,
                                                   _pool_backward_wrong_entry), "dx",
     "wrong entry"),
]


def run():
    """[(bug, caught, hint_ok, hint)] for every planted bug."""
    rows = []
    for bug, runner, gname, words in PLANTED:
        lc = runner()
        r = next((r for r in lc.results if r.name == gname), None)
        caught = r is not None and r.verdict == "fail"
        hint = r.hint if r is not None else ""
        rows.append((bug, caught, words.lower() in hint.lower(), hint))
    return rows
