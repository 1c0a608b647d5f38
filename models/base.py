"""What every model shares: its state as a flat dict of arrays, and .npz files.

A model holds `params` (name -> array, e.g. W1 of shape (D, H)) and `reg`.
Models with batch normalization also hold `bn_params`, one dict per normalized
layer, whose running statistics belong to the model's state as much as the
weights do: a model restored without them predicts differently in test mode
and a resumed training run diverges. `state_dict()` therefore names them
`bn_params.<i>.running_mean` and `bn_params.<i>.running_var`.

Files are plain uncompressed .npz archives, one array per state key, read back
with `np.load(..., allow_pickle=False)`: loading a file never runs code. Beside
the arrays, the member "model.json" (a string array) names the class and its
constructor arguments, so `load_model(path)` (or `TwoLayerNet.load(path)` on the
class) rebuilds the model from the file alone.
"""

import abc
import contextlib
import functools
import json
import os
import tempfile
import types
import zipfile

import numpy as np

from datasets.npz import read_npz
from layers._checks import check_float_dtype

RUNNING_STATS = ("running_mean", "running_var")
SPEC_KEY = "model.json"      # {"class": name, "args": constructor arguments}, beside the arrays
CLASSES = {}                 # class name -> Model subclass, filled as subclasses are defined


def load_model(path, expected=None):
    """Build the model saved in path and load its state: one call, no pickle.

    - path: a file written by Model.save, or a folder holding model.npz (the
      output folder of `handgrad train`)
    - expected: a Model subclass the file must hold (None: any)

    The constructor draws weights from numpy's global random state; that state
    is put back afterwards, so loading a model changes no random stream.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "model.npz")
    state, spec = _read_archive("load_model", path)
    if spec is None:
        raise ValueError(f"load_model: {path!r} holds no constructor arguments ({SPEC_KEY}); "
                         "build the model as it was built and call model.load(path)")
    cls = CLASSES.get(spec.get("class"))
    if cls is None or (expected is not None and not issubclass(cls, expected)):
        wanted = "a model class" if expected is None else expected.__name__
        raise ValueError(f"load_model: {path!r} holds a {spec.get('class')!r}; expected {wanted}")
    with _global_random_state_kept():
        model = cls(**spec["args"])
    return model.load_state_dict(state, source=f"file {path!r}")


class _LoadMethod:
    """model.load(path) loads into that model; Class.load(path) builds one from the file."""

    def __get__(self, model, cls):
        if model is None:
            return functools.partial(load_model, expected=cls)
        return types.MethodType(Model._load_file, model)


class Model(abc.ABC):
    """Base class: subclasses set `self.params`, `self.reg` and optionally `self.bn_params`,
    and `self.init_args`, the constructor arguments that save() stores beside the arrays."""

    params: dict
    reg: float
    load = _LoadMethod()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        CLASSES[cls.__name__] = cls

    @abc.abstractmethod
    def loss(self, X, y=None):
        """Scores (N, C) when y is None, else (loss, grads) with grads keyed like params."""

    def _state(self):
        """name -> array, the live arrays (no copies) of params and running statistics."""
        state = dict(self.params)
        for i, bn_param in enumerate(getattr(self, "bn_params", ())):
            for key in RUNNING_STATS:
                if key in bn_param:
                    state[f"bn_params.{i}.{key}"] = bn_param[key]
        return state

    def state_dict(self):
        """Return a snapshot: flat dict name -> copy of the array.

        Keys: every params name (W1, b1, ..., gamma1, beta1, ...) and, for each
        batch-normalized layer i, bn_params.<i>.running_mean / running_var.
        """
        return {name: np.array(value) for name, value in self._state().items()}

    def load_state_dict(self, state, source="state"):
        """Replace params and running statistics by the arrays in state.

        Every key of the model must be present with the model's shape, and no
        other key may be: a mismatch raises ValueError naming source, key and
        shapes, and leaves the model untouched. Arrays are copied and cast to
        the dtype of the array they replace (a float32 model stays float32).
        """
        current = self._state()
        func = f"{type(self).__name__}.load_state_dict"
        missing = [key for key in current if key not in state]
        extra = [key for key in state if key not in current]
        if missing or extra:
            raise ValueError(
                f"{func}: {source} does not match the model: missing keys {missing}, "
                f"unexpected keys {extra}"
            )
        new = {key: _checked_array(func, source, key, state[key], current[key]) for key in current}
        for key, value in new.items():
            if key in self.params:
                self.params[key] = value
            else:
                _, i, stat = key.split(".")
                self.bn_params[int(i)][stat] = value
        return self

    def save(self, path):
        """Write state_dict() to path as an .npz archive (path is used exactly as given).

        The archive is written to a temporary file in the same folder and then
        renamed over path, so an interrupted save never leaves a torn file. An
        existing file that is not an .npz archive is never overwritten.
        """
        path = os.fspath(path)
        func = f"{type(self).__name__}.save"
        if os.path.isdir(path):
            raise IsADirectoryError(f"{func}: {path!r} is a folder; expected a file name")
        if os.path.exists(path) and not zipfile.is_zipfile(path):
            raise FileExistsError(
                f"{func}: {path!r} exists and is not an .npz archive; refusing to overwrite it"
            )
        arrays = self.state_dict()
        if getattr(self, "init_args", None) is not None:
            spec = {"class": type(self).__name__, "args": self.init_args}
            arrays[SPEC_KEY] = np.array(json.dumps(spec, default=_json_number))
        _atomic_savez(path, arrays)

    def _load_file(self, path):
        """model.load(path): load an archive written by save (or any .npz with the same keys
        and shapes) into this model; return the model."""
        state, _ = _read_archive(f"{type(self).__name__}.load", os.fspath(path))
        return self.load_state_dict(state, source=f"file {os.fspath(path)!r}")


def check_init(func, weight_scale, reg, dtype, **sizes):
    """Constructor arguments every model shares; returns dtype as a float np.dtype.

    sizes (input_dim, hidden_dim, num_classes, ...) must be integers >= 1,
    weight_scale (the standard deviation of the weights) and reg finite numbers >= 0.
    """
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{func}: {name} is {value!r}; expected an integer >= 1")
    for name, value in (("weight_scale", weight_scale), ("reg", reg)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value < 0:
            raise ValueError(f"{func}: {name} is {value!r}; expected a finite number >= 0")
    return check_float_dtype(func, dtype)


def _read_archive(func, path):
    """(state, spec) of an .npz written by save: arrays by key, and the constructor or None."""
    with open(path, "rb") as f:                       # FileNotFoundError as it is
        if f.read(6) == b"\x93NUMPY":
            raise ValueError(f"{func}: cannot read {path!r} as an .npz archive: it holds a "
                             "single array (an .npy file)")
    try:
        state = read_npz(path)
        spec = json.loads(str(state.pop(SPEC_KEY))) if SPEC_KEY in state else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{func}: cannot read {path!r} as an .npz archive: {err}") from err
    return state, spec


@contextlib.contextmanager
def _global_random_state_kept():
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def _json_number(value):
    """numpy scalars and dtypes in constructor arguments, as JSON holds them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.dtype, type)):
        return np.dtype(value).name
    raise TypeError(f"Model.save: cannot store {type(value).__name__} {value!r} in {SPEC_KEY}")


def as_input(X, like):
    """Return X as an array in like's float dtype (float32 params: float32 math throughout).

    Models call it on X with their first weight, read at every call, so that
    float64 data never silently upcasts a float32 network.
    """
    dtype = np.asarray(like).dtype
    return np.asarray(X, dtype=dtype if dtype.kind == "f" else np.float64)


def _checked_array(func, source, key, value, like):
    """Return value as a fresh float array of like's shape and dtype, or raise ValueError."""
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise ValueError(f"{func}: {source} key {key!r} has dtype {value.dtype}; expected numbers")
    if value.shape != like.shape:
        raise ValueError(
            f"{func}: {source} key {key!r} has shape {value.shape}; "
            f"the model's {key!r} has shape {like.shape}"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{func}: {source} key {key!r} of shape {value.shape} has NaN or inf")
    return np.array(value, dtype=like.dtype)


def _atomic_savez(path, arrays):
    """np.savez to a temporary file next to path, then os.replace: all or nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask():
    """The process umask (mkstemp creates files readable by the owner only)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
