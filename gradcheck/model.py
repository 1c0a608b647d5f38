"""Whole-model checks: every entry of grads from model.loss(X, y) against the numeric gradient.

The model's params are perturbed in place (in float64 copies, put back at the
end), its other state (batchnorm running statistics, dropout settings) is
restored before every evaluation, and numpy's global random state is re-seeded
so dropout draws the same mask each time. When model.reg is not zero the loss is
also evaluated with reg = 0, so the data term and the regularization term of each
gradient can be reported apart.

Before any gradient is blamed the loss must be deterministic: two evaluations
at the same params (state restored, random state re-seeded) must agree. The
float64 loss at the params is computed once and reused by every probe.

fast=True checks each tensor along directions v (two loss evaluations each):
sign(grad) first, then a random +-1 vector unless the first already agreed to
within tol / 100. When a direction disagrees, bisection narrows it down: the
directional error of one half is measured and the other half's is the rest
(errors add up along a split direction), the half with the larger error is
kept until a few entries remain, which are then checked one by one and
reported as the worst entries.
"""

import copy
from contextlib import contextmanager

import numpy as np

from .check import Sandbox, entry_floor
from .hints import diagnose, shape_problem
from .numeric import rel_error, relative_step
from .probe import (
    FAIL,
    KINK,
    PASS,
    classify,
    default_tol,
    gradient_result,
    probe,
    sample_indices,
)
from .report import GradientCheck, LayerCheck
from .sweep import sweep as step_sweep


class _Evaluator:
    """model.loss(X, y) on float64 params with the model's other state reset each time."""

    def __init__(self, model, X, y, box):
        self.model, self.X, self.y, self.box = model, X, y, box
        self.state = {k: copy.deepcopy(v) for k, v in vars(model).items() if k != "params"}
        self.reg = model.reg

    def reset(self):
        for key, value in self.state.items():
            setattr(self.model, key, copy.deepcopy(value))
        self.box.fresh([])                                  # re-seeds numpy's global state

    def analytic(self, reg):
        self.reset()
        self.model.reg = reg
        return self.model.loss(self.X, self.y)

    def losses(self, data=True):
        """[loss, data loss]: the data loss (reg = 0) only when reg is not zero."""
        out = [self.analytic(self.reg)[0]]
        if data and self.reg:
            out.append(self.analytic(0.0)[0])
        return np.array(out, dtype=np.float64)


def check_model(model, X, y, seed=0, tol=None, max_checks=30, fast=False, name=None,
                num_worst=5, sweep=False):
    """Check model.loss(X, y) -> (loss, grads) for every key of model.params.

    sweep: also record each gradient's error against step size (fast: along the
    first direction). Returns a LayerCheck with one GradientCheck per parameter,
    named like the key, after a "forward" failure if the loss is not deterministic.
    """
    name = name or type(model).__name__
    params = model.params
    dtype = next(iter(params.values())).dtype
    tol = default_tol(dtype) if tol is None else tol
    lc = LayerCheck(name, dtype=str(dtype))
    with Sandbox(seed) as box:
        ev = _Evaluator(model, X, y, box)
        try:
            model.params = {k: v.copy() for k, v in params.items()}
            loss, grads = ev.analytic(ev.reg)
            ev.grads = [np.asarray(g) for g in grads.values()]
            grads0 = ev.analytic(0.0)[1] if ev.reg and not fast else grads
            model.params = {k: v.astype(np.float64) for k, v in params.items()}
            ev.base = ev.losses(data=not fast)           # reused by every probe
            first = loss if dtype == np.float64 else ev.losses(data=False)[0]
            if not np.isclose(first, ev.base[0], rtol=1e-12, atol=0.0):
                lc.results.append(GradientCheck("forward", "fail", tolerance=tol, hint=(
                    f"the loss is not deterministic: two calls with the same params gave "
                    f"{float(first):.17g} and {float(ev.base[0]):.17g} (numpy's random state "
                    "re-seeded, model state restored); fix forward before checking backward")))
                return lc
            rng = np.random.default_rng((seed, 2))
            for key, p in params.items():
                problem = shape_problem("d" + key, grads.get(key), p)
                if problem:
                    lc.results.append(GradientCheck(key, "fail", tolerance=tol, hint=problem))
                elif fast:
                    lc.results.append(_directional(ev, key, grads[key], tol, rng, num_worst,
                                                   sweep))
                else:
                    lc.results.append(_entries(ev, key, grads[key], grads0[key], tol,
                                               max_checks, rng, num_worst, sweep))
        except NotImplementedError as err:
            lc.results = [GradientCheck(k, "not_attempted", hint=f"not implemented yet: {err}")
                          for k in params]
            return lc
        finally:
            model.params = params
            ev.reset()
            model.reg = ev.reg
    if not np.isclose(loss, ev.base[0], rtol=1e-4):
        lc.notes.append(f"the loss in {dtype} ({float(loss):.6g}) and in float64 "
                        f"({float(ev.base[0]):.6g}) differ")
    return lc


def _entries(ev, key, g, g0, tol, max_checks, rng, num_worst, sweep):
    """Per-entry check of one parameter; columns: total loss, data loss (when reg != 0)."""
    x = ev.model.params[key]
    index = sample_indices(x.shape, max_checks, rng)
    p = probe(ev.losses, x, index, np.abs(ev.base), f0=ev.base)
    cols = [g, g0][: p.numeric.shape[1]]
    a = np.array([[gk[ix] for gk in cols] for ix in index], dtype=np.float64)
    floor = entry_floor(g.dtype, ev.grads)
    status, rel, err = classify(a, p, tol, floor)
    r = gradient_result(key, a, p, status, rel, err, 1, tol, num_worst)
    if a.shape[1] == 2:
        data, reg_n, reg_a = p.numeric[:, 1], p.numeric[:, 0] - p.numeric[:, 1], a[:, 0] - a[:, 1]
        if np.max(np.abs(reg_n)) > np.max(np.abs(data)):
            data_ok = np.all(status[:, 1] != FAIL)
            r.notes.append(f"regularization dominates {key}: data term "
                           f"{'ok' if data_ok else 'FAILS'}, regularization term "
                           f"rel {_rel(reg_a, reg_n):.1e}")
        if r.verdict == "fail":
            r.hint = _reg_hint(reg_a, reg_n, status[:, 1])
    if r.verdict == "fail" and not r.hint:
        r.hint = diagnose(a[:, :1], p.numeric[:, :1], [g, g], x, index, False, True, None)
    if sweep:
        r.sweep = step_sweep(lambda: ev.losses(data=False), x, index, a[:, :1],
                             status[:, 0] != KINK)
    return r


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1e-12, np.max(np.abs(a) + np.abs(b))))


def _reg_hint(reg_a, reg_n, data_status):
    """Name a regularization bug when the data term is right and the reg term is not."""
    if np.any(data_status == FAIL) or np.max(np.abs(reg_n)) == 0:
        return ""
    if np.max(np.abs(reg_a)) <= 1e-12 * np.max(np.abs(reg_n)):
        return "missing regularization gradient: add reg * W"
    c = float(np.sum(reg_a * reg_n) / np.sum(reg_n * reg_n))
    if _rel(reg_a, c * reg_n) < 1e-4:
        return f"regularization gradient off by a factor {c:.3g} (expected reg * W)" + (
            ": counted twice?" if np.isclose(c, 2, rtol=1e-3) else "")
    return "the regularization gradient is wrong (expected reg * W)"


@contextmanager
def _line(ev, x, v):
    """(f, t): f() is the loss at x + t[0] v (t is set by the caller); x restored on exit."""
    base, t = x.copy(), np.zeros(1)

    def f():
        x[...] = base + t[0] * v
        return ev.losses(data=False)

    try:
        yield f, t
    finally:
        x[...] = base


def _derivative(ev, x, v, h):
    """Centered difference of the loss along v: two loss evaluations."""
    with _line(ev, x, v) as (f, t):
        t[0] = h
        plus = f()[0]
        t[0] = -h
        return (plus - f()[0]) / (2 * h)


def _directional(ev, key, g, tol, rng, num_worst, sweep=False):
    """Directional checks of one parameter, narrowed by bisection on failure."""
    x = ev.model.params[key]
    sign = np.where(g != 0, np.sign(g), rng.choice([-1.0, 1.0], size=g.shape))
    r = GradientCheck(key, "pass", tolerance=tol)
    for v in (sign, rng.choice([-1.0, 1.0], size=g.shape)):
        v = v / np.sqrt(v.size)            # unit length: a step moves each entry by h / sqrt(n)
        status, rel, err, a, numeric = _along(ev, x, g, v, tol)
        r.checked += 1
        r.max_rel_error, r.max_abs_error = max(r.max_rel_error, rel), max(r.max_abs_error, err)
        if sweep and not r.sweep:
            with _line(ev, x, v) as (f, t):
                r.sweep = step_sweep(f, t, [(0,)], np.array([[a]]), np.array([status != KINK]))
        if status == FAIL:
            return _narrow(ev, key, g, v, a - numeric, tol, num_worst, r)
        r.kinks += status == KINK
        r.inconclusive += status == 1
        if status == PASS and rel <= 1e-2 * tol:     # agreement far below tol: one is enough
            break
    if r.kinks + r.inconclusive == r.checked:
        r.verdict = "kink" if r.kinks else "inconclusive"
    return r


def _along(ev, x, g, v, tol):
    """Status, rel and abs error, analytic and numeric of g . v along v.

    Two loss evaluations when the centered difference agrees; the full probe
    (kink and noise estimates) only when it does not.
    """
    h = relative_step(0.0)
    a = float(np.sum(g * v))
    numeric = _derivative(ev, x, v, h)
    if abs(a - numeric) <= tol * max(abs(a) + abs(numeric), 1e-8):
        return PASS, rel_error(a, numeric), abs(a - numeric), a, numeric
    with _line(ev, x, v) as (f, t):
        p = probe(f, t, [(0,)], np.abs(ev.base[:1]), f0=ev.base[:1])
    status, rel, err = classify(np.array([[a]]), p, tol, 1e-8)
    return int(status[0, 0]), float(rel[0, 0]), float(err[0, 0]), a, float(p.numeric[0, 0])


def _narrow(ev, key, g, v, error, tol, num_worst, r):
    """Halve the entries of v, keeping the half with the larger directional error.

    error = g . v - D_v: measured on the first half, the second half's is the rest.
    """
    x, h = ev.model.params[key], relative_step(0.0)
    flat = np.arange(g.size)
    while flat.size > 4:
        first, second = np.array_split(flat, 2)
        vh = np.zeros(g.size)
        vh[first] = v.ravel()[first]
        vh = vh.reshape(g.shape)
        e1 = float(np.sum(g * vh)) - _derivative(ev, x, vh, h)
        flat, error = (first, e1) if abs(e1) >= abs(error - e1) else (second, error - e1)
    index = [tuple(int(i) for i in np.unravel_index(f, g.shape)) for f in flat]
    p = probe(lambda: ev.losses(data=False), x, index, np.abs(ev.base[:1]), f0=ev.base[:1])
    a = np.array([[g[ix]] for ix in index], dtype=np.float64)
    status, rel, err = classify(a, p, tol, 1e-8)
    narrowed = gradient_result(key, a, p, status, rel, err, 1, tol, num_worst)
    r.verdict, r.failed, r.worst = "fail", max(1, narrowed.failed), narrowed.worst
    where = ", ".join(str(w["index"]) for w in narrowed.worst if w["status"] == "fail")
    r.hint = (f"narrowed by bisection to the entries {where}" if where else
              "the error is spread over many entries (none fails on its own): check the "
              f"whole formula of d{key}")
    return r
