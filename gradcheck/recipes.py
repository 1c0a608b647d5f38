"""The input recipes: one entry per layer row of the API contract.

A recipe names a forward/backward pair (or a loss) and builds small inputs for
it, away from kinks where the layer has them, in several configurations that are
valid under the layer's contract: the default one first, then others that reach
other code paths (conv with pad 0 and pad > 0, stride 1 and 2, non-square inputs
and filters; pools that tile, overlap or leave a remainder; dropout on 2-D, 3-D
and 4-D inputs; batch size 1; odd sizes). A failure names the configuration it
fails in and, where the configurations that pass support it, a likely cause.

Functions are looked up by name when a check runs, in the `layers` package or in
any module (a student's copy of a layers file), so a recipe exists before its
layer does. For a module other than `layers` the forward is also compared with
the reference forward (gradcheck.forward).

    from gradcheck.recipes import RECIPES
    RECIPES["affine"].check()              # checks layers.affine_forward/backward
    RECIPES["relu"].check(module=my_file)  # checks my_file.relu_forward/backward
"""

import functools
import importlib
import inspect
import re
from dataclasses import dataclass, field, replace

import numpy as np

from . import forward as reference
from .check import check_layer, check_loss
from .pitfalls import PITFALLS, name_pitfalls

CONVENTIONS = ("any", "pytorch")   # at a kink: any subgradient, or PyTorch's choice
EXTRA_CHECKS = 8                   # entries per tensor in configurations after the first


@dataclass(frozen=True)
class Config:
    """Another valid configuration of a recipe: make(rng, dtype) -> inputs, and tags
    naming what it exercises ("pad0", "overlap", "3d", "batch1", ...)."""

    make: object
    tags: tuple = ()


@dataclass(frozen=True)
class Recipe:
    """How to check one layer.

    - name: the layer's name ("affine", "conv_naive", ...)
    - forward, backward: function names (backward is None for a loss)
    - make_inputs: make_inputs(rng, dtype) -> tuple of forward's arguments (the default
      configuration)
    - kind: "layer", "loss" or "gate"
    - kinks: the layer is piecewise (ReLU, max, hinge): kinks can be met
    - stochastic: draws random numbers (re-seeded before every evaluation)
    - stateful: updates a param dict (snapshotted per evaluation)
    - ones_vacuous: sum(out) does not depend on x, so an all-ones dout checks nothing
    - kink_side: per gradient, the one-sided derivative PyTorch's convention picks exactly
      at a kink (applied with convention="pytorch")
    - configs: further configurations (Config), checked after the default one
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
    configs: tuple = ()

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

    def configurations(self):
        """Every configuration, the default one first."""
        return (Config(self.make_inputs), *self.configs)

    def inputs(self, seed=0, dtype=np.float64, config=0):
        """The inputs of one configuration (default: the first)."""
        return self.configurations()[config].make(np.random.default_rng(seed), np.dtype(dtype))

    def describe(self, inputs):
        """A configuration in words: "x (2, 3, 5, 5), w (3, 3, 3, 3), stride 2, pad 1"."""
        try:
            names = list(inspect.signature(getattr(importlib.import_module("layers"),
                                                   self.forward)).parameters)
        except (AttributeError, ImportError, TypeError, ValueError):
            names = []
        parts = []
        for i, value in enumerate(inputs):
            name = names[i] if i < len(names) else f"arg{i}"
            if isinstance(value, np.ndarray):
                parts.append(f"{name} {value.shape}")
            elif isinstance(value, dict):
                parts += [f"{k} {v}" for k, v in value.items()
                          if not k.startswith("running_") and k != "seed"]
            else:
                parts.append(f"{name} {value}")
        return ", ".join(parts)

    def check(self, module=None, seed=0, dtype=np.float64, convention="any", strict=True,
              **kwargs):
        """Check every configuration; returns one LayerCheck whose results are, per gradient,
        the first failing configuration's (named in its hint) or the first one's.

        convention: "any" (any subgradient at a kink is right) or "pytorch" (the one
        PyTorch picks: 0 at x = 0 for ReLU, the first maximum of a tie).
        """
        if convention not in CONVENTIONS:
            raise ValueError(f"recipe {self.name}: convention is {convention!r}; expected one "
                             f"of {CONVENTIONS}")
        forward, backward = self.resolve(module)
        ref = None if module is None or getattr(module, "__name__", "") == "layers" else \
            self.resolve()[0]
        kwargs.update(strict=strict, convention=convention * (convention != "any"),
                      kink_side=self.kink_side if convention == "pytorch" else {})
        runs = []
        for k, config in enumerate(self.configurations()):
            inputs = self.inputs(seed, dtype, k)
            if k:
                kwargs.update(sweep=False,
                              max_checks=min(kwargs.get("max_checks", 30), EXTRA_CHECKS))
            if self.kind == "loss":
                lc = check_loss(forward, *inputs, seed=seed, name=self.name, **kwargs)
            else:
                lc = check_layer(forward, backward, *inputs, seed=seed, name=self.name, **kwargs)
            if k == 0 and self.pitfalls:
                name_pitfalls(lc, forward, backward, self.resolve(), self.inputs(seed),
                              self.pitfalls, seed)
            judged = any(r.name == "forward" for r in lc.results)      # by a pitfall
            if ref is not None and not judged and (k == 0 or not self.stochastic):
                verdict = reference.compare(self.name, forward, ref, inputs, self.kind)
                lc.results.insert(0, verdict) if verdict else None
            runs.append((config, self.describe(inputs), lc))
        return merge(self.name, runs)


def merge(name, runs):
    """One LayerCheck from the checks of several configurations [(config, label, lc)]."""
    first = runs[0][2]
    names = list(dict.fromkeys(r.name for _, _, lc in runs for r in lc.results))
    results = []
    for gname in names:
        found = [(c, label, r) for c, label, lc in runs for r in lc.results if r.name == gname]
        failing = [f for f in found if not f[2].passed]
        if not failing:
            r = found[0][2]
            r.max_rel_error = max(f[2].max_rel_error for f in found)
            r.warnings = list(dict.fromkeys(w for f in found for w in f[2].warnings))
            results.append(r)
            continue
        config, label, r = failing[0]
        passing = [c for c, _, lc in runs if all(x.passed for x in lc.results)]
        cause = config_hint(name, config, r, passing) if len(runs) > 1 else ""
        r = replace(r, config=label)
        if len(runs) > 1:
            said = "; ".join(filter(None, [cause, r.hint]))
            r.hint = f"{said} (at {label})" if said else f"at {label}"
        results.append(r)
    first.results = results
    first.notes = list(dict.fromkeys(n for _, _, lc in runs for n in lc.notes))
    return first


def config_hint(name, config, r, passing):
    """A likely cause when a gradient fails in config while the passing configs pass."""
    tags = set(config.tags)
    if not r.name.startswith("d"):
        return ""                          # forward verdicts carry their own hints
    if "pad0" in tags and re.search(r"has shape \([^)]*\b0\b", r.hint):
        return "dx empty at pad = 0: slicing pad:-pad? (use pad:pad + H)"
    if "pad0" in tags and passing:
        return "fails at pad = 0 only: slicing pad:-pad? (use pad:pad + H)"
    if "overlap" in tags and passing and r.checked:
        return "overlapping windows (window > stride) overwrite instead of adding: use +="
    if "overlap" in tags and passing:
        return "fails only where windows overlap (window > stride)"
    if "remainder" in tags and passing:
        return ("the windows do not tile the input here: loop over the output size "
                "1 + (H - pool_height) // stride, not H // stride")
    if tags & {"3d", "4d"} and passing:
        return "works on 2-D input only: use x.shape (np.random.rand(*x.shape)), any ndim"
    if "batch1" in tags and passing:
        return "fails at batch size 1 only: a squeeze() or an axis lost when N = 1?"
    if "stride2" in tags and passing:
        return "fails at stride 2 only: window positions need * stride"
    if "test" in tags and passing:
        return "fails in test mode only"
    return ""


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


def _conv(rng, dtype, x_shape=(2, 3, 5, 5), F=3, HH=3, WW=None, stride=2, pad=1):
    """Conv inputs; the geometry must tile: (H + 2 pad - HH) % stride == 0, the same for W
    (the course's naive conv asserts it)."""
    C = x_shape[1]
    return (_normal(rng, dtype, *x_shape), _normal(rng, dtype, F, C, HH, WW or HH, scale=0.5),
            _normal(rng, dtype, F), {"stride": stride, "pad": pad})


def _conv_config(x_shape, F, HH, WW, stride, pad, tags):
    return Config(lambda rng, dt: _conv(rng, dt, x_shape, F, HH, WW, stride, pad), tags)


CONV_CONFIGS = (
    _conv_config((2, 2, 5, 7), 3, 3, 3, 1, 0, ("pad0", "nonsquare")),
    _conv_config((1, 3, 4, 6), 2, 2, 4, 2, 0, ("pad0", "batch1", "stride2", "nonsquare")),
    _conv_config((2, 1, 3, 4), 4, 3, 2, 1, 2, ("pad2",)),
)


def _pool(rng, dtype, x_shape=(2, 3, 4, 4), PH=2, PW=2, stride=2):
    return _distinct(rng, dtype, *x_shape), {"pool_height": PH, "pool_width": PW,
                                             "stride": stride}


def _pool_config(x_shape, PH, PW, stride, tags):
    return Config(lambda rng, dt: _pool(rng, dt, x_shape, PH, PW, stride), tags)


def _pool_tie(rng, dtype):
    """Two windows of 2 x 2, the first with a tie for its maximum at (0, 0) and (0, 1)."""
    x, pool_param = _pool(rng, dtype, (1, 1, 2, 4))
    x[0, 0, 0, :2] = 1.5                   # above every other value in [-1, 1]
    return x, pool_param


def _first_maximum(ix):
    """PyTorch's max-pool convention on _pool_tie: the first maximum gets the gradient."""
    return "right" if tuple(ix) == (0, 0, 0, 0) else "left"


POOL_CONFIGS = (
    _pool_config((1, 2, 5, 5), 3, 3, 1, ("overlap", "batch1")),
    _pool_config((2, 1, 5, 7), 2, 2, 2, ("remainder",)),
    _pool_config((1, 2, 7, 6), 3, 2, 2, ("overlap", "nonsquare")),
    Config(_pool_tie, ("tie",)),
)


def _norm(rng, dtype, x_shape, gb_shape, param):
    return (_normal(rng, dtype, *x_shape, scale=2.0, shift=1.0),
            _normal(rng, dtype, *gb_shape, scale=0.5, shift=1.0),
            _normal(rng, dtype, *gb_shape), param)


def _norm_config(x_shape, gb_shape, param, tags=()):
    return Config(lambda rng, dt: _norm(rng, dt, x_shape, gb_shape, dict(param)), tags)


def _groupnorm(x_shape, G):
    C = x_shape[1]
    return lambda rng, dt: (*_norm(rng, dt, x_shape, (1, C, 1, 1), {})[:3], G, {})


def _affine(rng, dtype, x_shape=(4, 2, 3), M=5):
    D = int(np.prod(x_shape[1:]))
    return _normal(rng, dtype, *x_shape), _normal(rng, dtype, D, M), _normal(rng, dtype, M)


def _dropout(shape, mode="train"):
    return lambda rng, dt: (_normal(rng, dt, *shape), {"mode": mode, "p": 0.7, "seed": 123})


def _shapes(make, *shapes, tags=()):
    """Configs of a layer whose inputs all have one shape: make(rng, dtype, shape)."""
    return tuple(Config(lambda rng, dt, s=s: make(rng, dt, s), tags + (f"{len(s)}d",)
                        + ("batch1",) * (s[0] == 1)) for s in shapes)


def _two(rng, dt, shape):
    return _normal(rng, dt, *shape), _normal(rng, dt, *shape)


AFFINE_CONFIGS = (Config(lambda rng, dt: _affine(rng, dt, (1, 7), 3), ("batch1",)),
                  Config(lambda rng, dt: _affine(rng, dt, (3, 2, 2, 3), 4), ("4d",)))

_RECIPES = [
    Recipe("affine", "affine_forward", "affine_backward", _affine, configs=AFFINE_CONFIGS),
    Recipe("relu", "relu_forward", "relu_backward", _relu, kinks=True,
           kink_side={"dx": "left"},
           configs=_shapes(lambda rng, dt, s: (_away_from_zero(rng, dt, *s),), (1, 3, 2, 3))),
    Recipe("sigmoid", "sigmoid_forward", "sigmoid_backward",
           lambda rng, dt: (_normal(rng, dt, 4, 5, scale=2.0),),
           configs=_shapes(lambda rng, dt, s: (_normal(rng, dt, *s, scale=3.0),), (2, 3, 4))),
    Recipe("tanh", "tanh_forward", "tanh_backward",
           lambda rng, dt: (_normal(rng, dt, 4, 5),),
           configs=_shapes(lambda rng, dt, s: (_normal(rng, dt, *s),), (1, 7))),
    Recipe("softmax_loss", "softmax_loss", None,
           lambda rng, dt: (_normal(rng, dt, 6, 5), rng.integers(5, size=6)), kind="loss",
           configs=_shapes(lambda rng, dt, s: (_normal(rng, dt, *s), rng.integers(s[1], size=s[0])),
                           (1, 3), (5, 2))),
    Recipe("svm_loss", "svm_loss", None, _svm, kind="loss", kinks=True,
           configs=(Config(lambda rng, dt: _svm(rng, dt, 1, 4), ("batch1",)),)),
    Recipe("mse_loss", "mse_loss", None,
           lambda rng, dt: (_normal(rng, dt, 4, 3), _normal(rng, dt, 4, 3)), kind="loss",
           configs=_shapes(_two, (2, 3, 2))),
    Recipe("batchnorm", "batchnorm_forward", "batchnorm_backward",
           lambda rng, dt: _norm(rng, dt, (5, 4), (4,), {"mode": "train"}),
           stateful=True, ones_vacuous=True,
           configs=(_norm_config((3, 7), (7,), {"mode": "train", "momentum": 0.8}),)),
    Recipe("batchnorm_alt", "batchnorm_forward", "batchnorm_backward_alt",
           lambda rng, dt: _norm(rng, dt, (5, 4), (4,), {"mode": "train"}),
           stateful=True, ones_vacuous=True,
           configs=(_norm_config((3, 7), (7,), {"mode": "train", "momentum": 0.8}),)),
    Recipe("layernorm", "layernorm_forward", "layernorm_backward",
           lambda rng, dt: _norm(rng, dt, (4, 5), (5,), {}),
           configs=(_norm_config((1, 6), (6,), {}, ("batch1",)),
                    _norm_config((3, 7), (7,), {"eps": 1e-3}))),
    Recipe("dropout", "dropout_forward", "dropout_backward", _dropout((5, 6)), stochastic=True,
           configs=(Config(_dropout((2, 3, 4)), ("3d",)), Config(_dropout((2, 2, 3, 3)), ("4d",)),
                    Config(_dropout((4, 5), "test"), ("test",)))),
    Recipe("add", "add_forward", "add_backward",
           lambda rng, dt: (_normal(rng, dt, 3, 4), _normal(rng, dt, 3, 4)), kind="gate",
           configs=_shapes(_two, (2, 3, 2))),
    Recipe("multiply", "multiply_forward", "multiply_backward",
           lambda rng, dt: (_normal(rng, dt, 3, 4), _normal(rng, dt, 3, 4)), kind="gate",
           configs=_shapes(_two, (2, 3, 2))),
    Recipe("max", "max_forward", "max_backward", _max_gate, kind="gate", kinks=True,
           kink_side={"dx": "right", "dy": "left"},
           configs=_shapes(lambda rng, dt, s: (_normal(rng, dt, *s),
                                               _away_from_zero(rng, dt, *s)), (2, 3, 2))),
    Recipe("affine_relu", "affine_relu_forward", "affine_relu_backward", _affine, kinks=True,
           configs=AFFINE_CONFIGS[:1]),
    Recipe("conv_naive", "conv_forward_naive", "conv_backward_naive", _conv,
           configs=CONV_CONFIGS),
    Recipe("conv_fast", "conv_forward_fast", "conv_backward_fast", _conv,
           configs=CONV_CONFIGS),
    Recipe("max_pool_naive", "max_pool_forward_naive", "max_pool_backward_naive", _pool,
           kinks=True, configs=POOL_CONFIGS, kink_side={"dx": _first_maximum}),
    Recipe("max_pool_fast", "max_pool_forward_fast", "max_pool_backward_fast", _pool,
           kinks=True, configs=POOL_CONFIGS, kink_side={"dx": _first_maximum}),
    Recipe("spatial_batchnorm", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
           lambda rng, dt: _norm(rng, dt, (4, 3, 3, 3), (3,), {"mode": "train"}),
           stateful=True, ones_vacuous=True,
           configs=(_norm_config((1, 2, 3, 5), (2,), {"mode": "train"}, ("batch1",)),)),
    Recipe("spatial_groupnorm", "spatial_groupnorm_forward", "spatial_groupnorm_backward",
           _groupnorm((2, 6, 3, 3), 2),
           configs=(Config(_groupnorm((1, 4, 2, 3), 4), ("batch1",)),
                    Config(_groupnorm((2, 6, 2, 2), 3)))),
    Recipe("conv_relu", "conv_relu_forward", "conv_relu_backward",
           lambda rng, dt: _conv(rng, dt, (2, 3, 5, 5), stride=1), kinks=True,
           configs=CONV_CONFIGS[:2]),
    Recipe("conv_relu_pool", "conv_relu_pool_forward", "conv_relu_pool_backward",
           lambda rng, dt: (*_conv(rng, dt, (2, 3, 6, 6), stride=1), _pool(rng, dt)[1]),
           kinks=True, configs=(Config(lambda rng, dt: (
               *_conv(rng, dt, (1, 2, 4, 6), 2, stride=1, pad=0), _pool(rng, dt)[1]),
               ("pad0", "batch1")),)),
    Recipe("conv_bn_relu", "conv_bn_relu_forward", "conv_bn_relu_backward",
           lambda rng, dt: _conv_bn(rng, dt), kinks=True, stateful=True,
           configs=(Config(lambda rng, dt: _conv_bn(rng, dt, (1, 2, 4, 6), 2, 0), ("pad0",
                                                                                  "batch1")),)),
]


def _conv_bn(rng, dtype, x_shape=(2, 3, 5, 5), F=3, pad=1):
    x, w, b, conv_param = _conv(rng, dtype, x_shape, F, stride=1, pad=pad)
    _, gamma, beta, bn_param = _norm(rng, dtype, (1,), (F,), {"mode": "train"})
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
