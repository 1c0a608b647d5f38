"""What the gradcheck command can check: built-in recipes, models, a user's file or class.

Every target resolves to a named thunk `run(seed, dtype, **options) -> LayerCheck`,
so the command-line part only parses, runs and prints.
"""

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

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


def load_file(path):
    """Import a Python file as a module; SyntaxError reported with file and line.

    Relative imports (`from ._checks import ...` in a copy of a layers file)
    resolve in the file's own package when its folder is one, else in `layers`.
    """
    path = Path(path)
    if not path.is_file():
        raise TargetError(f"gradcheck: no such file: {path}")
    in_package = (path.parent / "__init__.py").is_file()
    package = path.parent.name if in_package else "layers"
    name = f"{package}._gradcheck_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    root = path.parent.parent if in_package else path.parent
    sys.path.insert(0, str(root.resolve()))       # the file's package or siblings import
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise TargetError(f"{err.filename}:{err.lineno}: SyntaxError: {err.msg}") from None
    except Exception as err:
        raise TargetError(f"{path}: import failed: {type(err).__name__}: {err}") from None
    finally:
        sys.path.pop(0)
    return module


def model_thunk(name, cls, kwargs, x_shape):
    def run(seed=0, dtype=np.float64, **options):
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
        return recipe.check(module, seed=seed, dtype=dtype, **options)
    return prefix + recipe.name, run


def builtin_targets():
    """Every built-in layer whose functions exist, then every model that imports."""
    targets = [recipe_thunk(r) for r in recipes_for(importlib.import_module("layers"))]
    models = importlib.import_module("models")
    for name, (cls, kwargs, x_shape) in MODELS.items():
        if hasattr(models, cls):
            targets.append((name, model_thunk(name, getattr(models, cls), kwargs, x_shape)))
    return targets


def resolve(spec):
    """[(name, thunk)] for one command-line target."""
    path, _, member = spec.partition("::")
    if path.endswith(".py"):
        module = load_file(path)
        found = recipes_for(module)
        if member:
            found = [r for r in found if member == r.name or member in r.functions]
            if not found:
                raise TargetError(f"gradcheck: {path} has no pair or loss named {member!r} "
                                  f"with a built-in recipe (known: {', '.join(RECIPES)})")
        if not found:
            raise TargetError(f"gradcheck: {path} defines no NAME_forward/NAME_backward pair "
                              "or loss of a built-in layer")
        return [recipe_thunk(r, module) for r in found]
    if member:
        return [_model_class(path, member)]
    if spec in RECIPES:
        return [recipe_thunk(RECIPES[spec])]
    builtin = dict(builtin_targets())
    matches = [(n, t) for n, t in builtin.items() if n == spec or n.startswith(spec + "_")]
    if matches:
        return matches
    raise TargetError(f"gradcheck: unknown target {spec!r}; known: "
                      f"{', '.join([*RECIPES, *MODELS])}, a file.py, file.py::NAME or "
                      "module::Class")


def _model_class(module_name, cls_name):
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError) as err:
        raise TargetError(f"gradcheck: cannot import {module_name}::{cls_name}: {err}") from None
    if cls_name in MODELS:
        _, kwargs, x_shape = MODELS[cls_name]
    else:
        accepted = inspect.signature(cls).parameters
        kwargs = {k: v for k, v in SMALL.items() if k in accepted}
        dim = kwargs.get("input_dim", 12)
        x_shape = (5, *dim) if isinstance(dim, tuple) else (5, dim)
    return f"{module_name}::{cls_name}", model_thunk(cls_name, cls, kwargs, x_shape)
