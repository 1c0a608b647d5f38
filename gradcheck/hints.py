"""Bug-pattern hints: what a failing gradient most likely got wrong.

Each hint is given only when the evidence supports it: the analytic values a and
the numeric values n at the checked entries (arrays (R, K) over K upstream draws)
must fit the pattern closely, e.g. a = -n (sign), a = c n (a constant factor),
a = n except for zeros (a mask).
"""

import numpy as np

FACTORS = {2.0: "2", 0.5: "1/2"}


def shape_problem(gname, g, x):
    """A message when gradient g cannot be x's gradient: None, wrong shape or dtype."""
    if g is None:
        return f"backward returned None for {gname}"
    if not isinstance(g, np.ndarray):
        return f"{gname} is a {type(g).__name__}; expected an ndarray of shape {x.shape}"
    if g.shape != x.shape:
        why = ": transposed?" if g.shape == x.shape[::-1] and g.ndim == 2 else \
            " (broadcasting would hide this)" if g.size == x.size else ""
        return f"{gname} has shape {g.shape}; expected {x.shape}, the shape of {gname[1:]}{why}"
    if g.dtype != x.dtype:
        return f"{gname} has dtype {g.dtype}; expected {x.dtype}, the dtype of {gname[1:]}"
    return None


def _fits(a, b, rtol=1e-3):
    """a equals b up to rtol of their overall size."""
    size = max(np.max(np.abs(b)), np.max(np.abs(a)), 1e-12)
    return bool(np.max(np.abs(a - b)) <= rtol * size)


def factor_hint(c, N):
    """Name a constant factor c = analytic / numeric."""
    if np.isclose(c, -1.0, rtol=1e-3):
        return "sign flipped: your gradient is minus the numeric one"
    names = dict(FACTORS)
    if N and N > 2:
        names[float(N)] = f"N = {N}: a missing average over the batch (divide by N)?"
        names[1.0 / N] = f"1/N = 1/{N}: averaged twice over the batch?"
    for value, label in names.items():
        for sign, word in ((1, ""), (-1, "minus ")):
            if np.isclose(c, sign * value, rtol=1e-3):
                return f"off by a factor {word}{label}"
    return f"off by a constant factor {c:.4g}"


def diagnose(a, n, g, x, index, ones_ok, is_loss, N, only_at_kinks=False, labels=None):
    """The most specific hint that fits a failing gradient, or "".

    g: the full analytic gradients, one per upstream draw, the all-ones draw last;
    ones_ok: the all-ones draw passed (and was not vacuous); N: the batch size;
    only_at_kinks: every failing entry sits exactly at a kink; labels: a loss's y (N,).
    """
    if only_at_kinks:
        return ("wrong only at a kink (an input exactly at 0, or a tie): check the mask's "
                "comparison, > versus >= (ReLU: gradient 0 where x <= 0; max: a tie goes to x)")
    if all(np.all(gk == 0) for gk in g) and np.any(n != 0):
        return "your gradient is all zeros: not computed or not accumulated?"
    if not is_loss and all(np.array_equal(g[0], gk) for gk in g[1:]):
        return "ignores dout: the same gradient for different upstream gradients"
    if not is_loss and ones_ok:
        return "right for an all-ones upstream gradient only: does it use dout?"
    nn = float(np.sum(n * n))
    if nn > 0:
        c = float(np.sum(a * n) / nn)
        if abs(c) > 1e-6 and _fits(a, c * n, 1e-4) and not np.isclose(c, 1.0, rtol=1e-6):
            return factor_hint(c, N)
    if x.ndim == 2 and x.shape[0] == x.shape[1]:
        t = np.array([[gk.T[ix] for gk in g[: a.shape[1]]] for ix in index])
        if _fits(t, n):
            return "transposed: your gradient matches the numeric one transposed"
    zero = np.all(a == 0, axis=1)
    big = np.any(np.abs(n) > 1e-3 * np.max(np.abs(n)), axis=1)
    moved = routing_hint(n[zero & big], g[: a.shape[1]], index, np.flatnonzero(zero & big))
    if moved:
        return moved
    if np.any(zero & big) and _fits(a[~zero], n[~zero]):
        return "zero where the numeric gradient is not (wrong mask, or a missing accumulation?)"
    if labels is not None:
        return label_hint(a - n, index, labels)
    return mean_hint(a - n, index, x.ndim)


def routing_hint(missed, g, index, rows):
    """The numeric values of entries your gradient left at zero, found at other entries of it.

    missed: numeric values (M, K) of the entries rows of index; g: K analytic gradients.
    Random upstream draws make each entry's K values a fingerprint: finding them
    elsewhere means the gradient went to the wrong input (max-pool, max gate routing).
    """
    if not len(rows):
        return ""
    G = np.stack([np.asarray(gk, dtype=np.float64).ravel() for gk in g], axis=1)   # (size, K)
    atol = 1e-4 * np.max(np.abs(missed))
    found = []
    for values in missed:
        match = np.flatnonzero(np.all(np.abs(G - values) <= atol, axis=1))
        if len(match) != 1:
            return ""
        found.append(np.unravel_index(match[0], g[0].shape))
    ix, to = index[rows[0]], [int(i) for i in found[0]]
    return (f"routes the gradient to the wrong entry: the gradient of entry {list(ix)} is in "
            f"your gradient at {to} (the wrong entry of the window, e.g. not its max?)")


def label_hint(d, index, y):
    """The error d = analytic - numeric (R, K) of a loss sits on the true-class scores only."""
    true = np.array([ix[1] == y[ix[0]] for ix in index])
    if not np.any(true) or np.max(np.abs(d[~true]), initial=0.0) > 1e-4 * np.max(np.abs(d)):
        return ""
    if np.ptp(d[true], axis=0).max() <= 1e-4 * np.max(np.abs(d)):
        return ("the error (yours - numeric) is the same at every true-class score x[i, y[i]] "
                "and 0 elsewhere: a missing or wrong -1[y] term (dx = (p - 1[y]) / N)?")
    return "wrong only at the true-class scores x[i, y[i]]: check the correct class's term"


def mean_hint(d, index, ndim):
    """The error d = analytic - numeric (R, K) is constant across the batch, or across features.

    A constant error along an axis is what a missing "- mean(...)" term leaves:
    batchnorm's dx subtracts a mean over the batch, layernorm's a mean over features.
    """
    if ndim < 2:
        return ""
    groups = {
        "every sample of a feature (constant down each column): a missing '- mean over the "
        "batch' term (batchnorm: - mean(dxhat) over N)?": [ix[1:] if ndim == 2 else ix[1]
                                                          for ix in index],
        "every feature of a sample (constant along each row): a missing '- mean over the "
        "features' term (layernorm: - mean(dxhat) over D)?": [ix[0] for ix in index],
    }
    size = np.max(np.abs(d))
    for where, keys in groups.items():
        members = {}
        for r, key in enumerate(keys):
            members.setdefault(key, []).append(r)
        shared = [rows for rows in members.values() if len(rows) > 1]
        if 2 * sum(map(len, shared)) < len(keys) or len(members) == len(keys):
            continue
        if all(np.ptp(d[rows], axis=0).max() <= 1e-4 * size for rows in shared):
            return f"the error (yours - numeric) is the same for {where}"
    return ""
