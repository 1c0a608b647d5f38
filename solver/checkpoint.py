"""Solver checkpoints: NAME.npz (every array) and NAME.json (the rest, readable).

The .npz holds the model's state_dict under "model/<key>", the best parameters
under "best/<name>", the optimizer's state arrays under "optim/<param>/<key>",
numpy's global random state under "rng/legacy_keys", and a copy of the JSON
metadata under "meta.json": the .npz alone is the checkpoint, so replacing it is
one atomic step. NAME.json is the same metadata for people and tools (epoch,
iteration, histories, optimizer scalars, random states, Solver arguments).

Both files are written to a temporary file in their folder and renamed over
the old one (os.replace), so a crash mid-write leaves the previous checkpoint
intact. Reading never unpickles: np.load(allow_pickle=False) and json.
"""

import json
import os
import tempfile
import zipfile

import numpy as np

from datasets.npz import read_npz

FORMAT = "handgrad-solver-checkpoint/1"
META_KEY = "meta.json"
# What Solver.resume reads: a checkpoint without one of these is refused by name.
REQUIRED_META = ("epoch", "iteration", "num_train", "best_val_acc", "loss_history",
                 "train_acc_history", "val_acc_history", "optim_scalars", "rng", "legacy_rng",
                 "kwargs", "run_id")
REQUIRED_ARRAYS = ("rng/legacy_keys",)


class CheckpointError(ValueError):
    """A file is not a Solver checkpoint, or not one this Solver may overwrite."""


def paths(name):
    """(NAME.npz, NAME.json) for a checkpoint name given with or without extension."""
    name = os.fspath(name)
    stem, ext = os.path.splitext(name)
    if ext not in (".npz", ".json"):
        stem = name
    return stem + ".npz", stem + ".json"


def write(name, arrays, meta, run_id, overwrite=False):
    """Write the checkpoint NAME.npz / NAME.json atomically.

    An existing file is replaced only when it belongs to the same run (same
    run_id in its metadata) or when overwrite is true; otherwise
    FileExistsError names it.
    """
    npz_path, json_path = paths(name)
    if not overwrite:
        for path in (npz_path, json_path):
            _check_ours(path, run_id)
    meta = dict(meta, format=FORMAT, run_id=run_id)
    text = json.dumps(meta, indent=1, default=_json_default)
    atomic_write(npz_path, lambda f: np.savez(f, **arrays, **{META_KEY: np.array(text)}))
    atomic_write(json_path, lambda f: f.write(text.encode()))


def read(name):
    """Return (arrays, meta) of the checkpoint NAME (.npz, .json or no extension)."""
    npz_path, _ = paths(name)
    try:
        arrays = read_npz(npz_path)
        meta = json.loads(str(arrays.pop(META_KEY, "{}")))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, AttributeError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"cannot read {npz_path!r} as a Solver checkpoint: {err}") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(
            f"{npz_path!r} is not a Solver checkpoint (format {found!r}, expected {FORMAT!r})"
        )
    missing = [key for key in REQUIRED_META if key not in meta]
    missing += [key for key in REQUIRED_ARRAYS if key not in arrays]
    if missing:
        raise CheckpointError(f"{npz_path!r} lacks {', '.join(missing)}; it is not a whole "
                              "Solver checkpoint")
    return arrays, meta


def group(arrays, prefix):
    """{rest: array} for every key "<prefix>/<rest>" of arrays."""
    start = prefix + "/"
    return {key[len(start):]: value for key, value in arrays.items() if key.startswith(start)}


def _check_ours(path, run_id):
    """Refuse to replace a file that another run (or a person) wrote."""
    if not os.path.exists(path):
        return
    try:
        if path.endswith(".npz"):
            owner = json.loads(str(read_npz(path, [META_KEY])[META_KEY])).get("run_id")
        else:
            with open(path, encoding="utf-8") as f:
                owner = json.load(f).get("run_id")
    except (OSError, ValueError, KeyError, EOFError, AttributeError, zipfile.BadZipFile):
        owner = None
    if owner != run_id:
        raise FileExistsError(
            f"Solver: {path!r} exists and was not written by this run; pass overwrite=True "
            "to replace it, or choose another checkpoint_name"
        )


def atomic_write(path, write_to):
    """Call write_to(binary file) on a temporary file next to path, then rename it to path."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write_to(f)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)                 # mkstemp makes owner-only files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _json_default(value):
    """numpy scalars become Python numbers; anything else is a clear TypeError."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(
        f"Solver checkpoint: cannot store {type(value).__name__} {value!r} in JSON; "
        "optim_config values must be numbers or strings"
    )
