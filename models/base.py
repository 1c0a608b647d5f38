"""What every model shares: its state as a flat dict of arrays, and .npz files.

A model holds `params` (name -> array, e.g. W1 of shape (D, H)) and `reg`.
Models with batch normalization also hold `bn_params`, one dict per normalized
layer, whose running statistics belong to the model's state as much as the
weights do: a model restored without them predicts differently in test mode
and a resumed training run diverges. `state_dict()` therefore names them
`bn_params.<i>.running_mean` and `bn_params.<i>.running_var`.

Files are plain uncompressed .npz archives, one array per state key, read back
with `np.load(..., allow_pickle=False)`: loading a file never runs code.
"""

import abc
import os
import tempfile
import zipfile

import numpy as np

RUNNING_STATS = ("running_mean", "running_var")


class Model(abc.ABC):
    """Base class: subclasses set `self.params`, `self.reg` and optionally `self.bn_params`."""

    params: dict
    reg: float

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
        _atomic_savez(path, self.state_dict())

    def load(self, path):
        """Load an archive written by save (or any .npz with the same keys and shapes)."""
        path = os.fspath(path)
        func = f"{type(self).__name__}.load"
        with open(path, "rb") as f:
            try:
                archive = np.load(f, allow_pickle=False)
                if not isinstance(archive, np.lib.npyio.NpzFile):
                    raise ValueError("it holds a single array (an .npy file)")
                state = {key: archive[key] for key in archive.files}
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
                raise ValueError(f"{func}: cannot read {path!r} as an .npz archive: {err}") from err
        return self.load_state_dict(state, source=f"file {path!r}")


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
