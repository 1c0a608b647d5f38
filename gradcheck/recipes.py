"""The input recipes: one entry per layer row of the API contract.

A recipe names a forward/backward pair (or a loss) and builds small inputs for
it, away from kinks where the layer has them. Functions are looked up by name
when a check runs, in the `layers` package or in any module (a student's copy
of a layers file), so a recipe exists before its layer does.

    from gradcheck.recipes import RECIPES
    RECIPES["affine"].check()              # checks layers.affine_forward/backward
    RECIPES["relu"].check(module=my_file)  # checks my_file.relu_forward/backward
"""

import functools
import importlib
from dataclasses import dataclass, field

import numpy as np

from .check import check_layer, check_loss
from .pitfalls import PITFALLS, name_pitfalls


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
    - adapter: adapter(forward, backward) -> (forward, backward) in the (out, cache) protocol,
      for layers with two outputs (lstm_step)
    - pitfalls: known mistakes named in the hint when a value matches one (gradcheck.pitfalls)
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
    adapter: object = None
    pitfalls: tuple = ()

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
        pair = tuple(getattr(module, f) for f in self.functions) + (None,) * (
            self.backward is None)
        return pair if self.adapter is None else self.adapter(*pair)

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
            lc = check_loss(forward, *inputs, seed=seed, name=self.name, **kwargs)
        else:
            lc = check_layer(forward, backward, *inputs, seed=seed, name=self.name, **kwargs)
        if self.pitfalls:
            name_pitfalls(lc, forward, backward, self.resolve(), self.inputs(seed), self.pitfalls,
                          seed)
        return lc


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


def _recurrent(rng, dtype, gates, N=2, T=3, D=4, H=5, step=False):
    """x, h0 (and c0 for an LSTM step), Wx, Wh, b of a recurrent layer with gates gate blocks."""
    x = _normal(rng, dtype, N, D) if step else _normal(rng, dtype, N, T, D)
    states = 2 if step and gates == 4 else 1    # an LSTM step takes prev_h and prev_c
    h = tuple(_normal(rng, dtype, N, H) for _ in range(states))
    return (x, *h, _normal(rng, dtype, D, gates * H, scale=0.5),
            _normal(rng, dtype, H, gates * H, scale=0.5), _normal(rng, dtype, gates * H))


def _two_outputs(forward, backward):
    """lstm_step as one output: out = [next_h, next_c] along axis 1, dout split in two."""
    @functools.wraps(forward)
    def joined_forward(*args):
        next_h, next_c, cache = forward(*args)
        return np.concatenate([next_h, next_c], axis=1), cache

    @functools.wraps(backward)
    def joined_backward(dout, cache):
        dnext_h, dnext_c = np.split(dout, 2, axis=1)
        return backward(dnext_h, dnext_c, cache)

    return joined_forward, joined_backward


def _embedding(rng, dtype, V=5):
    x = rng.integers(V, size=(2, 4))
    x[1, 2] = x[0, 0]                        # a repeated word: its gradients must add up
    return x, _normal(rng, dtype, V, 3)


def _temporal_loss(rng, dtype, N=3, T=4, V=5):
    mask = rng.random((N, T)) > 0.3
    mask[0] = True                           # one full sequence, the others padded at random
    return _normal(rng, dtype, N, T, V), rng.integers(V, size=(N, T)), mask


def _attention(rng, dtype, mask=None, N=2, T=3, S=4, d=4, dv=3):
    S = T if mask == "causal" else S
    q, k, v = (_normal(rng, dtype, N, *shape) for shape in ((T, d), (S, d), (S, dv)))
    masks = {None: (), "causal": (np.tri(T, dtype=bool),),
             "padding": ((np.arange(S) < np.array([S, 2])[:, None])[:, None, :],)}
    return (q, k, v, *masks[mask])


def _multihead(rng, dtype, N=2, T=3, S=4, E=6, Ec=5, h=2, cross=True, causal=False):
    x = _normal(rng, dtype, N, T, E)
    context = (_normal(rng, dtype, N, S, Ec),) if cross else ()
    Ec = Ec if cross else E
    weights = [w for rows in (E, Ec, Ec, E)
               for w in (_normal(rng, dtype, rows, E, scale=0.5), _normal(rng, dtype, E))]
    mask = np.tri(T, dtype=bool) if causal else \
        (np.arange(S) < np.array([S, 2])[:, None])[:, None, :]
    return (x, *context, *weights, h, mask)


_RECIPES += [
    Recipe("rnn_step", "rnn_step_forward", "rnn_step_backward",
           lambda rng, dt: _recurrent(rng, dt, 1, step=True)),
    Recipe("rnn", "rnn_forward", "rnn_backward", lambda rng, dt: _recurrent(rng, dt, 1),
           pitfalls=PITFALLS["rnn"]),
    Recipe("rnn_t1_batch1", "rnn_forward", "rnn_backward",
           lambda rng, dt: _recurrent(rng, dt, 1, N=1, T=1)),
    Recipe("word_embedding", "word_embedding_forward", "word_embedding_backward", _embedding,
           pitfalls=PITFALLS["word_embedding"]),
    Recipe("temporal_affine", "temporal_affine_forward", "temporal_affine_backward",
           lambda rng, dt: (_normal(rng, dt, 2, 3, 4), _normal(rng, dt, 4, 5),
                            _normal(rng, dt, 5))),
    Recipe("temporal_softmax_loss", "temporal_softmax_loss", None, _temporal_loss, kind="loss",
           pitfalls=PITFALLS["temporal_softmax_loss"]),
    Recipe("lstm_step", "lstm_step_forward", "lstm_step_backward",
           lambda rng, dt: _recurrent(rng, dt, 4, step=True), adapter=_two_outputs),
    Recipe("lstm", "lstm_forward", "lstm_backward", lambda rng, dt: _recurrent(rng, dt, 4),
           pitfalls=PITFALLS["lstm"]),
    Recipe("lstm_t1_batch1", "lstm_forward", "lstm_backward",
           lambda rng, dt: _recurrent(rng, dt, 4, N=1, T=1)),
    Recipe("gru_step", "gru_step_forward", "gru_step_backward",
           lambda rng, dt: _recurrent(rng, dt, 3, step=True)),
    Recipe("gru", "gru_forward", "gru_backward", lambda rng, dt: _recurrent(rng, dt, 3),
           pitfalls=PITFALLS["gru"]),
    Recipe("attention", "attention_forward", "attention_backward", _attention),
    Recipe("attention_causal", "attention_forward", "attention_backward",
           lambda rng, dt: _attention(rng, dt, "causal")),
    Recipe("attention_padding", "attention_forward", "attention_backward",
           lambda rng, dt: _attention(rng, dt, "padding"), pitfalls=PITFALLS["attention_padding"]),
    Recipe("multihead_attention", "multihead_attention_forward", "multihead_attention_backward",
           _multihead),
    Recipe("self_attention", "self_attention_forward", "self_attention_backward",
           lambda rng, dt: _multihead(rng, dt, cross=False, causal=True)),
    Recipe("self_attention_t1_batch1", "self_attention_forward", "self_attention_backward",
           lambda rng, dt: _multihead(rng, dt, N=1, T=1, cross=False, causal=True)),
]


RECIPES = {r.name: r for r in _RECIPES}


def recipes_for(module):
    """The recipes whose functions module defines, in registry order."""
    return [r for r in RECIPES.values() if r.available(module)]
