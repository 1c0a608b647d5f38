"""What every loader shares: the two error types, seeded stratified splits, and
the step from integer images to the float dict the Solver reads.

Shape letters: N images, C channels, H x W pixels, K classes.
"""

import numpy as np

from layers._checks import check_float_dtype  # noqa: F401 - re-exported for the loaders


class DataNotFoundError(FileNotFoundError):
    """Data files are missing; the message says where we looked and how to get them."""


class DataFormatError(ValueError):
    """A data file is corrupt or not what it claims to be; the message names the file."""


def check_count(func, name, value, minimum=0):
    """Require an integer >= minimum (sizes of splits); return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{func}: {name} is {value!r}; expected an integer >= {minimum}")
    return int(value)


def check_split_sizes(func, N, keep_rest=True, **sizes):
    """Require non-negative split sizes that fit in N samples.

    keep_rest: the samples left over form the training split, so at least one
    must be left over; otherwise the sizes may add up to N.
    """
    counts = {name: check_count(func, name, size) for name, size in sizes.items()}
    total = sum(counts.values())
    if total > N - keep_rest:
        asked = " + ".join(f"{name} {size}" for name, size in counts.items())
        outcome = "leaves no training samples out of" if keep_rest else "is more than"
        raise ValueError(f"{func}: {asked} = {total} {outcome} the {N} available")
    return list(counts.values())


def stratified_split(y, sizes, seed=0):
    """Split range(N) into len(sizes) + 1 index arrays, every class in proportion.

    Inputs:
    - y: integer labels of shape (N,)
    - sizes: lengths of the first parts; the last part holds the rest
    - seed: int or np.random.Generator

    Each sample gets the key (rank within its class + 1/2) / (size of its class),
    ranks drawn at random; sorted by key, the classes interleave evenly, so any
    run of m consecutive samples holds m * N_k / N of class k, give or take 2.
    Cutting that order into runs gives the parts; each part is then shuffled.
    """
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    perm = rng.permutation(len(y))                      # random ranks within classes
    y_perm = y[perm]
    counts = np.bincount(y_perm)                        # (K,) N_k
    by_class = np.argsort(y_perm, kind="stable")        # positions grouped by class
    starts = np.cumsum(counts) - counts                 # first position of each class
    rank = np.empty(len(y), dtype=np.intp)
    rank[by_class] = np.arange(len(y)) - starts[y_perm[by_class]]
    key = (rank + 0.5) / counts[y_perm]
    order = perm[np.argsort(key, kind="stable")]
    parts = np.split(order, np.cumsum(sizes))
    return [rng.permutation(part) for part in parts]


def to_float_dict(parts, scale, dtype, subtract_mean):
    """Turn integer images into the Solver's dict, one float copy per split.

    Inputs:
    - parts: {"train": (X, y), "val": (X, y), "test": (X, y)}, X integer images
    - scale: pixel values are divided by it (16 for digits, 255 for 8-bit images,
      1 to keep the 0..255 scale of CS231n's CIFAR-10)
    - dtype: float dtype of the returned images
    - subtract_mean: subtract the mean train image from every split

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test; labels int64.
    """
    data = {}
    for name, (X, y) in parts.items():
        Xf = np.array(X, dtype=dtype, order="C")         # the only float copy
        if scale != 1:
            Xf /= dtype.type(scale)                      # in place
        data[f"X_{name}"], data[f"y_{name}"] = Xf, np.asarray(y, dtype=np.int64)
    if subtract_mean:
        # (C, H, W) of the train split only, summed in float64 so float32 stays exact
        mean_image = data["X_train"].mean(axis=0, dtype=np.float64).astype(dtype)
        for name in parts:
            data[f"X_{name}"] -= mean_image
    return data
