"""What the gradcheck command can check: built-in recipes, models, a user's file or class.

Every target resolves to a named thunk `run(seed, dtype, **options) -> LayerCheck`,
so the command-line part only parses, runs and prints.
"""

import importlib
import inspect

import numpy as np

from .model import check_model
from .recipes import RECIPES, recipes_for

# Small models: (class name, constructor keyword arguments, input shape, classes)
MODELS = {
    "TwoLayerNet": ("TwoLayerNet", {"input_dim": 12, "hidden_dim": 8, "num_classes": 4,
                                    "weight_scale": 0.1, "reg": 0.3}, (5, 12)),
    "FullyConnectedNet": ("FullyConnectedNet", {"hidden_dims": [8, 7], "input_dim": 12,
                                                "num_classes": 4, "weight_scale": 0.3,
                                                "reg": 0.3}, (5, 12)),
    "FullyConnectedNet_batchnorm": ("FullyConnectedNet", {
        "hidden_dims": [8, 7], "input_dim": 12, "num_classes": 4, "weight_scale": 0.3,
        "reg": 0.1, "normalization": "batchnorm"}, (6, 12)),
    "FullyConnectedNet_layernorm": ("FullyConnectedNet", {
        "hidden_dims": [8, 7], "input_dim": 12, "num_classes": 4, "weight_scale": 0.3,
        "normalization": "layernorm", "dropout_keep_ratio": 0.7, "seed": 1}, (5, 12)),
    "ThreeLayerConvNet": ("ThreeLayerConvNet", {
        "input_dim": (3, 8, 8), "num_filters": 3, "filter_size": 3, "hidden_dim": 7,
        "num_classes": 4, "weight_scale": 0.1, "reg": 0.2}, (2, 3, 8, 8)),
}
# A model class named on the command line gets these, where its constructor takes them.
SMALL = {"input_dim": 12, "hidden_dim": 8, "hidden_dims": [8, 7], "num_classes": 4,
         "num_filters": 3, "filter_size": 3, "weight_scale": 0.1, "reg": 0.1}


class TargetError(Exception):
    """A target that cannot be loaded: exit code 2, message printed as is."""


CUSTOM = ("a layer of your own is checked from Python: from gradcheck import check_layer; "
          "check_layer(mylayer_forward, mylayer_backward, x, w, seed=0) (README, "
          "'Checking gradients')")


def names_a_file_or_class(spec):
    """True when spec is file.py, file.py::NAME or module::Class (else: built-in names)."""
    path, _, member = spec.partition("::")
    return path.endswith(".py") or bool(member)


def targets_of(spec, module=None):
    """[(name, thunk)] of a command-line target: spec "" (every built-in layer and model),
    a built-in name, or an imported file or module for file.py[::NAME] or module::Class;
    TargetError when there is nothing to check."""
    if not spec:
        return builtin_targets()
    if not names_a_file_or_class(spec):
        return resolve(spec)
    path, _, member = spec.partition("::")
    if not path.endswith(".py"):
        return [_model_class(module, path, member)]
    found = recipes_for(module)
    if member:
        found = [r for r in found if member == r.name or member in r.functions]
        if not found:
            raise TargetError(f"gradcheck: {path} has no pair or loss named {member!r} of a "
                              f"built-in layer (known: {', '.join(RECIPES)}); {CUSTOM}")
    if not found:
        raise TargetError(f"gradcheck: {path} defines no NAME_forward/NAME_backward pair "
                          f"or loss of a built-in layer; {CUSTOM}")
    return [recipe_thunk(r, module) for r in found]


def model_thunk(name, cls, kwargs, x_shape):
    def run(seed=0, dtype=np.float64, convention="any", strict=True, **options):
        dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        X = rng.standard_normal(x_shape)
        y = rng.integers(kwargs.get("num_classes", 4), size=x_shape[0])
        np.random.seed(seed)  # noqa: NPY002 (models draw weights from the global state)
        accepted = inspect.signature(cls).parameters
        model = cls(**kwargs, **({"dtype": dtype} if "dtype" in accepted else {}))
        return check_model(model, X, y, seed=seed, name=name, **options)
    return run


def recipe_thunk(recipe, module=None, prefix=""):
    def run(seed=0, dtype=np.float64, fast=False, **options):
        return recipe.check(module, seed=seed, dtype=np.dtype(dtype), **options)
    return prefix + recipe.name, run


def builtin_targets():
    """Every built-in layer whose functions exist, then every model that imports."""
    targets = [recipe_thunk(r) for r in recipes_for(importlib.import_module("layers"))]
    models = importlib.import_module("models")
    for name, (cls, kwargs, x_shape) in MODELS.items():
        if hasattr(models, cls):
            targets.append((name, model_thunk(name, getattr(models, cls), kwargs, x_shape)))
    return targets


def known(spec):
    """TargetError unless spec names built-in layers or models; nothing is imported."""
    if not any(n == spec or n.startswith(spec + "_") for n in [*RECIPES, *MODELS]):
        raise TargetError(f"gradcheck: unknown target {spec!r}; known: "
                          f"{', '.join([*RECIPES, *MODELS])}, a file.py, file.py::NAME, a "
                          f"folder or module::Class; {CUSTOM}")


def resolve(spec):
    """[(name, thunk)] for one command-line target naming built-in layers or models."""
    known(spec)
    if spec in RECIPES:
        return [recipe_thunk(RECIPES[spec])]
    return [(n, t) for n, t in builtin_targets() if n == spec or n.startswith(spec + "_")]


def _model_class(module, module_name, cls_name):
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise TargetError(f"gradcheck: {module_name} has no {cls_name}")
    if cls_name in MODELS:
        _, kwargs, x_shape = MODELS[cls_name]
    else:
        accepted = inspect.signature(cls).parameters
        kwargs = {k: v for k, v in SMALL.items() if k in accepted}
        dim = kwargs.get("input_dim", 12)
        x_shape = (5, *dim) if isinstance(dim, tuple) else (5, dim)
    return f"{module_name}::{cls_name}", model_thunk(cls_name, cls, kwargs, x_shape)
