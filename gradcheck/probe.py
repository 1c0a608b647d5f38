"""Numeric probes and per-entry verdicts, shared by layer, loss and model checks.

For every sampled entry x_i (step h = relative_step(x_i)) a probe evaluates the
scalar projections f_k = sum(out * dout_k) of the output at x_i +- h and
x_i +- h/2, for all upstream draws k at once, and derives

    D(h)  = (f(x+h) - f(x-h)) / 2h          the numeric gradient
    D(h/2)                                  its twin at half the step
    fwd   = (f(x+h) - f(x)) / h,  bwd = (f(x) - f(x-h)) / h   one-sided slopes

An entry passes when its relative error is within tol; otherwise it is a kink
when the one-sided slopes disagree (a ReLU/max decision lies within the step)
and the analytic value lies between them (a subgradient); inconclusive when the
error is within the numeric side's own error estimate (|D(h) - D(h/2)| and the
rounding bound eps |f| / h); a failure otherwise.
"""

from dataclasses import dataclass

import numpy as np

from .numeric import relative_step
from .report import GradientCheck

PASS, INCONCLUSIVE, KINK, FAIL = 0, 1, 2, 3
STATUS = ("pass", "inconclusive", "kink", "fail")
EPS = np.finfo(np.float64).eps


def default_tol(dtype):
    """Relative tolerance for an analytic gradient computed in dtype."""
    return 1e-7 if np.dtype(dtype).itemsize >= 8 else 1e-3


def sample_indices(shape, max_checks, rng):
    """Every index when the tensor is small, else one random index per equal stratum."""
    size = int(np.prod(shape))
    if max_checks is None or size <= max_checks:
        flat = np.arange(size)
    else:
        edges = np.linspace(0, size, max_checks + 1).astype(np.int64)
        flat = rng.integers(edges[:-1], edges[1:])
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]


@dataclass
class Probe:
    """Numeric evidence for the sampled entries of one input; arrays are (R, K)."""

    index: list
    value: np.ndarray       # (R,) input values
    h: np.ndarray           # (R, 1) steps
    numeric: np.ndarray     # D(h)
    half: np.ndarray        # D(h/2)
    fwd: np.ndarray
    bwd: np.ndarray
    fwd2: np.ndarray        # one-sided slopes at h/2
    bwd2: np.ndarray
    noise: np.ndarray       # rounding bound 8 eps (|f| + F) / h


def probe(project, x, index, scale, f0=None):
    """Evaluate project (array -> (K,) projections) around x[ix] for each ix in index.

    x is perturbed in place and restored in a finally; scale (K,) bounds the
    magnitude of the summed terms, for the rounding estimate; f0, the projections
    at x itself when the caller has them already (saves an evaluation).
    """
    f0 = project() if f0 is None else np.asarray(f0, dtype=np.float64)
    R, K = len(index), len(f0)
    vals = np.empty((4, R, K))
    h = np.empty((R, 1))
    values = np.empty(R)
    for r, ix in enumerate(index):
        old = x[ix]
        values[r], h[r] = old, relative_step(old)
        try:
            for c, step in enumerate((h[r, 0], -h[r, 0], h[r, 0] / 2, -h[r, 0] / 2)):
                x[ix] = old + step
                vals[c, r] = project()
        finally:
            x[ix] = old
    fp, fm, fp2, fm2 = vals
    return Probe(
        index=index, value=values, h=h,
        numeric=(fp - fm) / (2 * h), half=(fp2 - fm2) / h,
        fwd=(fp - f0) / h, bwd=(f0 - fm) / h,
        fwd2=2 * (fp2 - f0) / h, bwd2=2 * (f0 - fm2) / h,
        noise=8 * EPS * (np.abs(f0) + scale) / h,
    )


def classify(a, p, tol, floor, kink_side=None):
    """Per-(entry, draw) status codes, relative and absolute errors for analytic a (R, K).

    kink_side: "left" or "right", the one-sided slope a convention asks for at a kink, or a
    function of an entry's index giving it per entry (max-pool ties: the first maximum).
    """
    n = p.numeric
    err = np.abs(a - n)
    rel = err / np.maximum(np.abs(a) + np.abs(n), floor)
    s = np.maximum.reduce([np.abs(p.fwd), np.abs(p.bwd), np.abs(n), np.full_like(n, floor)])
    # smooth f: D(h) = D(h/2) + O(h^2) and fwd - bwd = h f'' + O(h^3), so halving h halves
    # the one-sided gap; a kink within the step breaks one of the two
    jump, jump2 = p.fwd - p.bwd, p.fwd2 - p.bwd2
    spread = np.maximum(np.abs(n - p.half), np.abs(jump - 2 * jump2))
    nonsmooth = spread > 10 * p.noise + 1e-6 * s
    slack = tol * s + 10 * p.noise
    # one-sided slopes are O(h) off on a curved side: extrapolate them to O(h^2) as well
    fwd_r, bwd_r = 2 * p.fwd2 - p.fwd, 2 * p.bwd2 - p.bwd
    sides = np.stack([p.fwd, p.bwd, fwd_r, bwd_r])
    inside = (a >= sides.min(axis=0) - slack) & (a <= sides.max(axis=0) + slack)
    sides = [kink_side(ix) for ix in p.index] if callable(kink_side) else [kink_side] * len(a)
    if any(s in ("left", "right") for s in sides):
        # exactly at the kink both one-sided slopes are pure (same at h and h/2)
        # the layer's convention says which of them the analytic value must be
        # (up to rounding: an input 1e-9 away from the kink already mixes the sides)
        exact = (np.abs(p.fwd - p.fwd2) <= 10 * p.noise) & (np.abs(p.bwd - p.bwd2) <= 10 * p.noise)
        sides = np.array(sides, dtype=object)[:, None]
        side = np.where(sides == "left", bwd_r, fwd_r)
        exact &= (sides == "left") | (sides == "right")
        inside = np.where(exact, np.abs(a - side) <= slack, inside)
    # near a kink D(h) and D(h/2) differ by the kink, not by noise
    noisy = err <= 3 * np.maximum(p.noise, np.where(nonsmooth, 0.0, np.abs(n - p.half)))
    status = np.full(a.shape, FAIL)
    status[noisy] = INCONCLUSIVE
    status[nonsmooth & inside] = KINK
    status[rel <= tol] = PASS
    return status, rel, err


def gradient_result(gname, a, p, status, rel, err, K, tol, num_worst):
    """A GradientCheck from per-(entry, draw) statuses; draws K and beyond are not judged."""
    entry = status[:, :K].max(axis=1)
    judged = (status[:, :K] == PASS) | (status[:, :K] == FAIL)    # errors of judged entries
    judged = judged if judged.any() else status[:, :K] != KINK
    r = GradientCheck(
        gname, "pass", tolerance=tol, checked=len(entry),
        max_rel_error=float(rel[:, :K][judged].max(initial=0.0)),
        max_abs_error=float(err[:, :K][judged].max(initial=0.0)),
        failed=int(np.sum(entry == FAIL)), kinks=int(np.sum(entry == KINK)),
        inconclusive=int(np.sum(entry == INCONCLUSIVE)),
    )
    if r.failed:
        r.verdict = "fail"
    elif not np.any(entry == PASS):
        r.verdict = "kink" if r.kinks else "inconclusive"
    draw = np.argmax(np.where(judged, rel[:, :K], -1.0), axis=1)    # each entry's worst draw
    rows = np.arange(len(entry))
    order = np.lexsort((-rel[rows, draw], -entry))
    r.worst = [{"index": list(p.index[i]), "value": float(p.value[i]),
                "analytic": float(a[i, draw[i]]), "numeric": float(p.numeric[i, draw[i]]),
                "rel_error": float(rel[i, draw[i]]), "status": STATUS[entry[i]],
                "left": float(p.bwd[i, draw[i]]), "right": float(p.fwd[i, draw[i]])}
               for i in order[:num_worst]]
    return r
