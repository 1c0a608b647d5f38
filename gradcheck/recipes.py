"""The input recipes: one entry per layer row of the API contract.

A recipe names a forward/backward pair (or a loss) and builds small inputs for
it, away from kinks where the layer has them. Functions are looked up by name
when a check runs, in the `layers` package or in any module (a student's copy
of a layers file), so a recipe exists before its layer does.

    from gradcheck.recipes import RECIPES
    RECIPES["affine"].check()              # checks layers.affine_forward/backward
    RECIPES["relu"].check(module=my_file)  # checks my_file.relu_forward/backward
"""

import importlib
from dataclasses import dataclass, field

import numpy as np

from .check import check_layer, check_loss


@dataclass(frozen=True)
class Recipe:
    """How to check one layer.

    - name: the layer's name ("affine", "conv_naive", ...)
    - forward, backward: function names (backward is None for a loss)
    - make_inputs: make_inputs(rng, dtype) -> tuple of forward's arguments
    - kind: "layer", "loss" or "gate"
    - kinks: the layer is piecewise (ReLU, max, hinge): kinks can be met
    - stochastic: draws random numbers (re-seeded before every evaluation)
    - stateful: updates a param dict (snapshotted per evaluation)
    - ones_vacuous: sum(out) does not depend on x, so an all-ones dout checks nothing
    - kink_side: per gradient, the one-sided derivative the contract picks exactly at a kink
    """

    name: str
    forward: str
    backward: str | None
    make_inputs: object
    kind: str = "layer"
    kinks: bool = False
    stochastic: bool = False
    stateful: bool = False
    ones_vacuous: bool = False
    kink_side: dict = field(default_factory=dict)

    @property
    def functions(self):
        return (self.forward,) if self.backward is None else (self.forward, self.backward)

    def resolve(self, module=None):
        """(forward, backward) looked up in module (default: the layers package)."""
        module = importlib.import_module("layers") if module is None else module
        missing = [f for f in self.functions if not hasattr(module, f)]
        if missing:
            raise AttributeError(
                f"recipe {self.name}: {getattr(module, '__name__', module)} has no "
                f"{', '.join(missing)}")
        return tuple(getattr(module, f) for f in self.functions) + (None,) * (
            self.backward is None)

    def available(self, module=None):
        """True when module (default: layers) defines every function of the recipe."""
        try:
            self.resolve(module)
        except (AttributeError, ImportError):
            return False
        return True

    def inputs(self, seed=0, dtype=np.float64):
        return self.make_inputs(np.random.default_rng(seed), np.dtype(dtype))

    def check(self, module=None, seed=0, dtype=np.float64, **kwargs):
        """Run check_layer (or check_loss) on this recipe's inputs; returns a LayerCheck."""
        forward, backward = self.resolve(module)
        inputs = self.inputs(seed, dtype)
        kwargs.setdefault("kink_side", self.kink_side)
        if self.kind == "loss":
            return check_loss(forward, *inputs, seed=seed, name=self.name, **kwargs)
        return check_layer(forward, backward, *inputs, seed=seed, name=self.name, **kwargs)


def _normal(rng, dtype, *shape, scale=1.0, shift=0.0):
    return (shift + scale * rng.standard_normal(shape)).astype(dtype)


def _away_from_zero(rng, dtype, *shape, gap=0.1):
    """Normal values pushed at least gap away from 0."""
    z = rng.standard_normal(shape)
    return (np.sign(z) * (gap + np.abs(z))).astype(dtype)


def _distinct(rng, dtype, *shape):
    """A random permutation of evenly spaced values in [-1, 1]: no ties in any window."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) * 2.0 / size - 1.0).astype(dtype)


def _relu(rng, dtype):
    x = _away_from_zero(rng, dtype, 4, 5)
    x[0, 1] = x[2, 3] = 0          # exactly at the kink: the contract says dx = 0 there
    return (x,)


def _svm(rng, dtype, N=6, C=5):
    """Scores whose hinge margins x_j - x_y + 1 all stay at least 0.05 from zero."""
    x, y = rng.standard_normal((N, C)), rng.integers(C, size=N)
    for _ in range(100):
        margins = x - x[np.arange(N), y][:, None] + 1
        near = np.abs(margins) < 0.05
        near[np.arange(N), y] = False
        if not near.any():
            break
        x[near] += 0.1
    return x.astype(dtype), y


def _max_gate(rng, dtype):
    x = _normal(rng, dtype, 3, 4)
    y = x + _away_from_zero(rng, dtype, 3, 4)
    y[1, 2] = x[1, 2]              # a tie: the contract routes the gradient to x
    return x, y


def _conv(rng, dtype, x_shape=(2, 3, 6, 6), F=3, HH=3, stride=2, pad=1):
    C = x_shape[1]
    return (_normal(rng, dtype, *x_shape), _normal(rng, dtype, F, C, HH, HH, scale=0.5),
            _normal(rng, dtype, F), {"stride": stride, "pad": pad})


def _pool(rng, dtype):
    return _distinct(rng, dtype, 2, 3, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2}


def _norm(rng, dtype, x_shape, gb_shape, param):
    return (_normal(rng, dtype, *x_shape, scale=2.0, shift=1.0),
            _normal(rng, dtype, *gb_shape, scale=0.5, shift=1.0),
            _normal(rng, dtype, *gb_shape), param)


def _affine(rng, dtype):
    return _normal(rng, dtype, 4, 2, 3), _normal(rng, dtype, 6, 5), _normal(rng, dtype, 5)


_RECIPES = [
    Recipe("affine", "affine_forward", "affine_backward", _affine),
    Recipe("relu", "relu_forward", "relu_backward", _relu, kinks=True,
           kink_side={"dx": "left"}),
    Recipe("sigmoid", "sigmoid_forward", "sigmoid_backward",
           lambda rng, dt: (_normal(rng, dt, 4, 5, scale=2.0),)),
    Recipe("tanh", "tanh_forward", "tanh_backward",
           lambda rng, dt: (_normal(rng, dt, 4, 5),)),
    Recipe("softmax_loss", "softmax_loss", None,
           lambda rng, dt: (_normal(rng, dt, 6, 5), rng.integers(5, size=6)), kind="loss"),
    Recipe("svm_loss", "svm_loss", None, _svm, kind="loss", kinks=True),
    Recipe("mse_loss", "mse_loss", None,
           lambda rng, dt: (_normal(rng, dt, 4, 3), _normal(rng, dt, 4, 3)), kind="loss"),
    Recipe("batchnorm", "batchnorm_forward", "batchnorm_backward",
           lambda rng, dt: _norm(rng, dt, (5, 4), (4,), {"mode": "train"}),
           stateful=True, ones_vacuous=True),
    Recipe("batchnorm_alt", "batchnorm_forward", "batchnorm_backward_alt",
           lambda rng, dt: _norm(rng, dt, (5, 4), (4,), {"mode": "train"}),
           stateful=True, ones_vacuous=True),
    Recipe("layernorm", "layernorm_forward", "layernorm_backward",
           lambda rng, dt: _norm(rng, dt, (4, 5), (5,), {})),
    Recipe("dropout", "dropout_forward", "dropout_backward",
           lambda rng, dt: (_normal(rng, dt, 5, 6), {"mode": "train", "p": 0.7, "seed": 123}),
           stochastic=True),
    Recipe("add", "add_forward", "add_backward",
           lambda rng, dt: (_normal(rng, dt, 3, 4), _normal(rng, dt, 3, 4)), kind="gate"),
    Recipe("multiply", "multiply_forward", "multiply_backward",
           lambda rng, dt: (_normal(rng, dt, 3, 4), _normal(rng, dt, 3, 4)), kind="gate"),
    Recipe("max", "max_forward", "max_backward", _max_gate, kind="gate", kinks=True,
           kink_side={"dx": "right", "dy": "left"}),
    Recipe("affine_relu", "affine_relu_forward", "affine_relu_backward", _affine, kinks=True),
    Recipe("conv_naive", "conv_forward_naive", "conv_backward_naive", _conv),
    Recipe("conv_fast", "conv_forward_fast", "conv_backward_fast", _conv),
    Recipe("max_pool_naive", "max_pool_forward_naive", "max_pool_backward_naive", _pool,
           kinks=True),
    Recipe("max_pool_fast", "max_pool_forward_fast", "max_pool_backward_fast", _pool,
           kinks=True),
    Recipe("spatial_batchnorm", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
           lambda rng, dt: _norm(rng, dt, (4, 3, 3, 3), (3,), {"mode": "train"}),
           stateful=True, ones_vacuous=True),
    Recipe("spatial_groupnorm", "spatial_groupnorm_forward", "spatial_groupnorm_backward",
           lambda rng, dt: (*_norm(rng, dt, (2, 6, 3, 3), (1, 6, 1, 1), {})[:3], 2, {})),
    Recipe("conv_relu", "conv_relu_forward", "conv_relu_backward",
           lambda rng, dt: _conv(rng, dt, (2, 3, 5, 5), stride=1), kinks=True),
    Recipe("conv_relu_pool", "conv_relu_pool_forward", "conv_relu_pool_backward",
           lambda rng, dt: (*_conv(rng, dt, (2, 3, 6, 6), stride=1), _pool(rng, dt)[1]),
           kinks=True),
    Recipe("conv_bn_relu", "conv_bn_relu_forward", "conv_bn_relu_backward",
           lambda rng, dt: _conv_bn(rng, dt), kinks=True, stateful=True),
]


def _conv_bn(rng, dtype):
    x, w, b, conv_param = _conv(rng, dtype, (2, 3, 5, 5), stride=1)
    _, gamma, beta, bn_param = _norm(rng, dtype, (1,), (3,), {"mode": "train"})
    return x, w, b, gamma, beta, conv_param, bn_param


RECIPES = {r.name: r for r in _RECIPES}


def recipes_for(module):
    """The recipes whose functions module defines, in registry order."""
    return [r for r in RECIPES.values() if r.available(module)]
