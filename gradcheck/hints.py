"""Bug-pattern hints: what a failing gradient most likely got wrong.

Each hint is given only when the evidence supports it: the analytic values a and
the numeric values n at the checked entries (arrays (R, K) over K upstream draws)
must fit the pattern closely, e.g. a = -n (sign), a = c n (a constant factor),
a = n except for zeros (a mask).
"""

import inspect
import os
import re

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
    if abs(c - 1.0) < 1e-2:
        return (f"{abs(c - 1.0) * 100:.2g} % {'above' if c > 1 else 'below'} the numeric "
                "gradient everywhere: a constant slightly off (eps in a different place?)")
    return f"off by a constant factor {c:.4g}"


def diagnose(a, n, g, x, index, ones_ok, is_loss, N, only_at_kinks=False, labels=None,
             convention=""):
    """The most specific hint that fits a failing gradient, or "".

    g: the full analytic gradients, one per upstream draw, the all-ones draw last;
    ones_ok: the all-ones draw passed (and was not vacuous); N: the batch size;
    only_at_kinks: every failing entry sits exactly at a kink; labels: a loss's y (N,);
    convention: the name of the kink convention asked for, if any.
    """
    if only_at_kinks and convention:
        return (f"wrong only at a kink: the {convention} convention asks for one subgradient "
                "there (ReLU: gradient 0 at x = 0, so x > 0 rather than x >= 0; max: the first "
                "maximum, a tie goes to x)")
    if only_at_kinks:
        return ("wrong only at a kink (an input exactly at 0, or a tie), and not between the "
                "one-sided slopes there: check the mask's comparison")
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


# NumPy 2 removed these; old course code still calls them. (pattern, replacement)
NUMPY2 = [
    ("no attribute 'product'", "np.product was removed in NumPy 2: use np.prod"),
    ("no attribute 'cumproduct'", "np.cumproduct was removed in NumPy 2: use np.cumprod"),
    ("no attribute 'sometrue'", "np.sometrue was removed in NumPy 2: use np.any"),
    ("no attribute 'in1d'", "np.in1d was removed: use np.isin"),
    ("no attribute 'trapz'", "np.trapz was removed: use np.trapezoid"),
    ("no attribute 'msort'", "np.msort was removed in NumPy 2: use np.sort(a, axis=0)"),
    ("no attribute 'asscalar'", "np.asscalar was removed: use a.item()"),
    ("'numpy.lib' has no attribute 'pad'", "np.lib.pad was removed in NumPy 2: use np.pad"),
    ("no attribute 'ptp'", "ndarray.ptp was removed in NumPy 2: use np.ptp(a)"),
    ("no attribute 'itemset'", "ndarray.itemset was removed in NumPy 2: use a[index] = value"),
    ("no attribute 'int0'", "np.int0 was removed in NumPy 2: use np.intp"),
    ("'newshape' is an invalid keyword", "reshape(newshape=...) was removed in NumPy 2: use "
     "a.reshape(shape) or np.reshape(a, shape), the shape passed positionally"),
    ("only 0-dimensional arrays can be converted", "NumPy 2 converts only 0-d arrays with "
     "int() or float(): use a.item() (or index the single entry, a[0])"),
    ("was a deprecated alias for the builtin", "np.float, np.int, np.bool and np.object were "
     "removed: use float, int, bool, object (or np.float64, np.int64)"),
]


def numpy2_hint(err):
    """The replacement of a NumPy 2 removal (or of Python 2's xrange) that err reports, or ""."""
    text = str(err)
    if isinstance(err, NameError) and "'xrange'" in text:
        return "xrange is Python 2: use range"
    if not isinstance(err, (AttributeError, TypeError)):
        return ""
    for pattern, hint in NUMPY2:
        if pattern in text:
            return hint
    return ""


def raised_at(err, files=()):
    """"file:line" of the frame that raised err: the deepest in one of files (the checked
    code) if any, else the deepest outside numpy and gradcheck, else ""."""
    frames = []
    tb = err.__traceback__
    while tb is not None:
        frames.append((os.path.abspath(tb.tb_frame.f_code.co_filename), tb.tb_lineno))
        tb = tb.tb_next
    files = {os.path.abspath(f) for f in files if f}
    mine = [f for f in frames if f[0] in files]
    if not mine:
        skip = (f"{os.sep}numpy{os.sep}", f"{os.sep}gradcheck{os.sep}", "<frozen ")
        mine = [f for f in frames if not any(s in f[0] for s in skip)]
    return f"{shown(mine[-1][0])}:{mine[-1][1]}" if mine else ""


def shown(path):
    """path relative to the working folder when it lies inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def describe_error(err, files=(), when=""):
    """One line for an exception raised by checked code: what, where, and a NumPy 2 fix."""
    where = raised_at(err, files)
    what = f"{type(err).__name__}: {err}".rstrip(": ").splitlines()[0]
    text = f"raised {what}" + (f" at {where}" if where else "") + (f" {when}" if when else "")
    fix = numpy2_hint(err)
    return text + (f" ({fix})" if fix else "")


STUB_MARKS = re.compile(r"^\s*pass\s*(#.*)?$|TODO|YOUR CODE|NotImplemented", re.MULTILINE)


def stub_problem(err, func):
    """A not-attempted message when err is a None-related failure raised inside func while
    func is unfinished (its source still holds `pass` or a TODO), else ""."""
    if not isinstance(err, (AttributeError, TypeError)) or "NoneType" not in str(err):
        return ""
    tb, codes = err.__traceback__, set()
    while tb is not None:
        codes.add(tb.tb_frame.f_code)
        tb = tb.tb_next
    if getattr(func, "__code__", None) not in codes:
        return ""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return ""
    if not STUB_MARKS.search(source):
        return ""
    return (f"{func.__name__} at {defined_at(func)} is not written yet: it still holds "
            f"pass/TODO and failed on a None it left ({type(err).__name__}: {err})")


def defined_at(func):
    """"file:line" where func is defined."""
    code = getattr(func, "__code__", None)
    return (f"{shown(code.co_filename)}:{code.co_firstlineno}" if code else
            getattr(func, "__name__", "?"))
