"""Structured gradient checks of a forward/backward pair or of a loss.

check_layer(forward, backward, *inputs) runs forward on copies of the inputs,
backward on several seeded random upstream gradients (never all ones), and
compares every returned gradient with centered differences computed in float64
(float32 inputs are cast up for the numeric side). Every floating ndarray input
carries a gradient, in argument order; dicts (bn_param, conv_param) and integer
arrays (labels) do not. The caller's inputs are never modified: every evaluation
gets fresh copies, param dicts included (so batchnorm running statistics start
from the same state each time), and numpy's global random state is re-seeded
before every evaluation (dropout draws the same mask) and restored afterwards.
"""

import copy
import inspect

import numpy as np

from .hints import defined_at, describe_error, diagnose, shape_problem, stub_problem
from .probe import FAIL, KINK, classify, default_tol, gradient_result, probe, sample_indices
from .report import GradientCheck, LayerCheck
from .sweep import sweep as step_sweep


def gradient_slots(func, inputs):
    """[(position, "d" + argument name)] for every input that carries a gradient."""
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    names = [params[i] if i < len(params) and not params[i].startswith("*") else f"arg{i}"
             for i in range(len(inputs))]
    slots = [(i, "d" + names[i]) for i, v in enumerate(inputs)
             if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    if not slots:
        kinds = ", ".join(f"{type(v).__name__}" + (f" {v.dtype}" if hasattr(v, "dtype") else "")
                          for v in inputs)
        raise TypeError(f"check: no floating ndarray input to differentiate among ({kinds})")
    return slots


class Sandbox:
    """Fresh copies of the inputs per evaluation; numpy's global random state kept aside.

    Layers draw dropout masks from the legacy global state (the course API), so that state
    is what gets re-seeded per evaluation and restored afterwards.
    """

    def __init__(self, seed):
        self.seed = int(seed) % 2**32

    def __enter__(self):
        self.state = np.random.get_state()  # noqa: NPY002 (the layers' global state)
        return self

    def __exit__(self, *exc):
        np.random.set_state(self.state)  # noqa: NPY002

    def fresh(self, args):
        np.random.seed(self.seed)  # noqa: NPY002
        return [a.copy() if isinstance(a, np.ndarray) else copy.deepcopy(a) for a in args]


def arrays_in(obj):
    """Every ndarray inside nested tuples, lists and dicts, in a fixed order."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [a for item in obj for a in arrays_in(item)]
    if isinstance(obj, dict):
        return [a for key in obj for a in arrays_in(obj[key])]
    return []


def same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def check_layer(forward, backward, *inputs, seed=0, tol=None, name=None, max_checks=30,
                num_upstream=2, kink_side=None, wrt=None, num_worst=5, sweep=False,
                strict=True, convention=""):
    """Check backward against numeric gradients of sum(forward(*inputs)[0] * dout).

    Inputs:
    - forward: forward(*inputs) -> (out, cache)
    - backward: backward(dout, cache) -> gradient(s) of every floating ndarray input
    - seed: seeds the upstream draws, the sampling and numpy's global random state
    - tol: relative tolerance (default 1e-7 for float64 gradients, 1e-3 for float32)
    - max_checks: entries checked per input (all of them for smaller tensors)
    - num_upstream: number of random upstream gradients
    - kink_side: {"dx": "left" | "right"}, the one-sided derivative a convention asks for
      exactly at a kink (PyTorch's ReLU: left, 0 at x == 0); without it any subgradient
      between the one-sided slopes is a kink, not a failure
    - wrt: names or positions of the inputs to check (default: all floating arrays)
    - sweep: also record each gradient's error against step size (GradientCheck.sweep)
    - strict: side effects (forward writing into its inputs, backward into dout or its
      cache) fail the check; otherwise they are warnings on a check whose values are right
    - convention: the name of the convention kink_side stands for, named in hints

    Returns a LayerCheck.
    """
    slots = gradient_slots(forward, inputs)
    name = name or getattr(backward, "__name__", "layer")
    wrt = [g for i, g in slots if wrt is None or i in wrt or g[1:] in wrt]
    return _run(name, forward, backward, inputs, slots, seed=seed, tol=tol,
                max_checks=max_checks, num_upstream=num_upstream,
                kink_side=kink_side or {}, num_worst=num_worst, wrt=wrt, sweep=sweep,
                strict=strict, convention=convention, code=(forward, backward))


def check_loss(loss_fn, x, y, *args, seed=0, tol=None, name=None, max_checks=30,
               kink_side=None, num_worst=5, sweep=False, strict=True, convention=""):
    """Check the dx of loss_fn(x, y, *args) -> (loss, dx) against the numeric gradient of loss."""
    slots = gradient_slots(loss_fn, (x, y, *args))[:1]
    if slots[0][0] != 0:
        raise TypeError(f"check_loss: x must be a floating ndarray, got {type(x).__name__}")

    def forward(*a):
        result = loss_fn(*a)
        if result is None or (isinstance(result, tuple) and result and result[0] is None):
            return None                                   # unfinished: not attempted
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"a loss must return (loss, dx), got {type(result).__name__}")
        return np.asarray(result[0]), result[1]

    def backward(dout, dx):
        return None if dx is None else dx * float(dout)

    return _run(name or getattr(loss_fn, "__name__", "loss"), forward, backward, (x, y, *args),
                slots, seed=seed, tol=tol, max_checks=max_checks, num_upstream=1,
                kink_side=kink_side or {}, num_worst=num_worst, wrt=[slots[0][1]], is_loss=True,
                sweep=sweep, strict=strict, convention=convention, code=(loss_fn,))


class Unfinished(Exception):
    """Checked code that is not written yet: a blank, a stub returning None."""


# What checked code may raise and still get a verdict: SystemExit too (a sys.exit() in a
# layer must not end the checker). KeyboardInterrupt is left to the caller.
CAUGHT = (Exception, SystemExit)


def _raised(err, code, slots, tol, when=""):
    """The results for an exception raised by the checked code."""
    if isinstance(err, NotImplementedError):
        verdict, hint = "not_attempted", f"not implemented yet: {err}"
    elif isinstance(err, Unfinished):
        verdict, hint = "not_attempted", str(err)
    else:
        stub = next((m for m in (stub_problem(err, f) for f in code) if m), "")
        files = {f.__code__.co_filename for f in code if hasattr(f, "__code__")}
        verdict, hint = ("not_attempted", stub) if stub else (
            "fail", describe_error(err, files, when))
    return [GradientCheck(g, verdict, tolerance=tol, hint=hint) for _, g in slots]


def _run(name, forward, backward, inputs, slots, *, seed, tol, max_checks, num_upstream,
         kink_side, num_worst, wrt, is_loss=False, sweep=False, strict=True, convention="",
         code=()):
    dtype = inputs[slots[0][0]].dtype
    tol = default_tol(dtype) if tol is None else tol
    lc = LayerCheck(name, dtype=str(dtype))
    work = [a.copy() if isinstance(a, np.ndarray) else a for a in inputs]
    with Sandbox(seed) as box:
        try:
            analytic = _analytic(box, forward, backward, work, slots, num_upstream, seed, lc,
                                 strict, code)
        except CAUGHT as err:
            lc.results = _raised(err, code, slots, tol)
            return lc
        if analytic is None:
            return lc
        douts, grads = analytic
        K = len(douts) - 1                                     # random draws; the last is ones
        U = np.stack([np.asarray(d, np.float64).ravel() for d in douts])   # (K + 1, out.size)
        work64 = [a.astype(np.float64) if any(p == i for p, _ in slots) else a
                  for i, a in enumerate(work)]

        def evaluate():
            return np.asarray(forward(*box.fresh(work64))[0], dtype=np.float64).ravel()

        try:
            base = evaluate()
        except CAUGHT as err:
            lc.results += _raised(err, code, slots, tol, "on float64 copies of the inputs")
            return lc
        scale = np.abs(U) @ np.abs(base)
        floor = entry_floor(dtype, [gk for g in grads if g is not None for gk in g])
        rng = np.random.default_rng((seed, 2))      # streams apart from the inputs' seed
        for (pos, gname), g in zip(slots, grads, strict=True):
            if g is None or gname not in wrt:
                continue
            index = sample_indices(work64[pos].shape, max_checks, rng)
            try:
                p = probe(lambda: U @ evaluate(), work64[pos], index, scale, f0=U @ base)
            except CAUGHT as err:                   # a forward that fails on a later call
                lc.results += _raised(err, code, [(pos, gname)], tol,
                                      f"while {gname[1:]} was nudged for the numeric gradient")
                continue
            a = np.array([[gk[ix] for gk in g] for ix in index], dtype=np.float64)
            status, rel, err = classify(a, p, tol, floor, kink_side.get(gname))
            r = _verdict(gname, a, p, (status, rel, err), g, work[pos], tol, num_worst,
                         is_loss, labels=_labels(is_loss, work), N=len(work[slots[0][0]]),
                         convention=convention if kink_side.get(gname) else "")
            lc.results.append(r)
            if sweep:
                keep = status[:, :K].max(axis=1) != KINK
                r.sweep = step_sweep(lambda: U[:K] @ evaluate(), work64[pos], index, a[:, :K],
                                     keep)
    order = {name: i for i, name in enumerate(["forward", "backward"] + [g for _, g in slots])}
    lc.results.sort(key=lambda r: order[r.name])
    if lc.results and not strict:
        lc.results[0].warnings += lc.notes
        lc.notes = []
    return lc


def _side_effect(lc, strict, what, message):
    """A side effect (or a harmless shape): a failure of what ("forward", "backward", a
    gradient) when strict, else a warning."""
    if strict:
        lc.results.append(GradientCheck(what, "fail", hint=message))
    else:
        lc.notes.append(f"warning: {message} (the values are right; --strict fails this)")


def _analytic(box, forward, backward, work, slots, num_upstream, seed, lc, strict, code):
    """Run forward and backward; return (douts, per-slot lists of gradients) or None.

    Problems that make the numeric comparison meaningless end the check (None);
    the others are appended to lc as "forward"/"backward" failures (side effects:
    warnings unless strict). A forward or backward that returns None is unfinished.
    """
    args = box.fresh(work)
    result = forward(*args)
    if result is None or (isinstance(result, tuple) and len(result) == 2 and result[0] is None):
        raise Unfinished(f"{_named(code[0])} returns None: not written yet?")
    if not (isinstance(result, tuple) and len(result) == 2):
        lc.results.append(GradientCheck("forward", "fail", hint="forward must return (out, cache), "
                                        f"got {type(result).__name__}"))
        return None
    out, cache = result
    out = np.asarray(out)
    changed = [g[1:] for p, g in slots if not same(args[p], work[p])]
    if changed:
        _side_effect(lc, strict, "forward", f"forward modified its input {', '.join(changed)} "
                     "in place")
    if not same(out, np.asarray(forward(*box.fresh(work))[0])):
        lc.results.append(GradientCheck(
            "forward", "fail", hint="forward is not deterministic: two calls on the same inputs "
            "(numpy's random state re-seeded) gave different outputs"))
        return None
    rng = np.random.default_rng((seed, 1))
    douts = [rng.standard_normal(out.shape).astype(out.dtype) for _ in range(num_upstream)]
    douts.append(np.ones(out.shape, out.dtype))           # for the hints only
    grads = [[] for _ in slots]
    mutated = []
    for dout in douts:
        mine = _copy(cache)                      # each call its own: a backward that writes
        d = dout.copy()                          # into its cache stays right on every call
        g = backward(d, mine)
        if g is None or (isinstance(g, (tuple, list)) and g and all(gk is None for gk in g)):
            raise Unfinished(f"{_named(code[-1])} returns None: not written yet?")
        if not same(d, dout):
            mutated.append("dout")
        if not all(same(a, b) for a, b in zip(arrays_in(mine), arrays_in(cache), strict=False)):
            mutated.append("its cache")
        g = (g,) if isinstance(g, np.ndarray) or not isinstance(g, (tuple, list)) else g
        if len(g) != len(slots):
            names = ", ".join(gn for _, gn in slots)
            lc.results += [GradientCheck(gn, "fail", hint=f"backward returned {len(g)} "
                                         f"gradient(s); expected {len(slots)} ({names})")
                           for _, gn in slots]
            return None
        for k, gk in enumerate(g):
            grads[k].append(gk)
    if mutated:
        _side_effect(lc, strict, "backward",
                     f"backward modified {', '.join(dict.fromkeys(mutated))} in place")
    for k, (p, gn) in enumerate(slots):
        if grads[k][0] is None:
            lc.results.append(GradientCheck(gn, "not_attempted", hint=(
                f"{_named(code[-1])} returns None for {gn}: not written yet?")))
            grads[k] = None
            continue
        problem = shape_problem(gn, grads[k][0], work[p])
        lenient = problem and not strict and _squeezed_alike(grads[k][0], work[p])
        if lenient:
            # gamma (1, C, 1, 1) in one course version, (C,) in another; np.zeros' float64
            # for a float32 input: the values are still compared
            _side_effect(lc, strict, gn, _harmless(gn, grads[k][0], work[p]))
            grads[k] = [np.reshape(gk, work[p].shape) for gk in grads[k]]
        elif problem:
            lc.results.append(GradientCheck(gn, "fail", hint=problem))
            grads[k] = None
        else:
            grads[k] = [np.asarray(gk) for gk in grads[k]]
    return douts, grads


def _squeezed_alike(g, x):
    """g is floating and has x's shape once their size-1 axes are dropped."""
    return isinstance(g, np.ndarray) and g.dtype.kind == "f" and \
        np.squeeze(g).shape == np.squeeze(x).shape


def _harmless(gname, g, x):
    """What differs between gradient g and its input x, when only its form does."""
    parts = [f"the shape of {gname[1:]} without its size-1 axes"] * (g.shape != x.shape) + [
        f"dtype {g.dtype} for a {x.dtype} {gname[1:]}"] * (g.dtype != x.dtype)
    return f"{gname} has {' and '.join(parts)}: compared as is"


def _named(func):
    """"name (file:line)" of a checked function."""
    return f"{getattr(func, '__name__', 'the function')} ({defined_at(func)})"


def _copy(cache):
    try:
        return copy.deepcopy(cache)
    except Exception:                            # an object that cannot be copied: shared
        return cache


def entry_floor(dtype, grads):
    """Smallest denominator of an entry's relative error: 1e-8 as rel_error, or the rounding
    of dtype at the scale of the layer's largest gradient (float32 sums of many terms)."""
    scale = max((float(np.max(np.abs(g), initial=0.0)) for g in grads), default=0.0)
    return max(1e-8, 1e4 * np.finfo(dtype).eps * scale)


def _labels(is_loss, inputs):
    """A loss's integer labels y (N,) for scores x (N, C), else None."""
    if is_loss and len(inputs) > 1:
        x, y = inputs[0], inputs[1]
        if isinstance(y, np.ndarray) and y.dtype.kind in "iu" and x.ndim == 2 and \
                y.shape == x.shape[:1]:
            return y
    return None


def _verdict(gname, a, p, classified, g, x, tol, num_worst, is_loss, labels, N, convention=""):
    """One GradientCheck from analytic values a (R, K + 1) and the probe (last column: ones)."""
    K = a.shape[1] - 1
    status, rel, err = classified
    r = gradient_result(gname, a, p, status, rel, err, K, tol, num_worst)
    vacuous = np.max(np.abs(p.numeric[:, K])) <= 10 * np.max(p.noise[:, K])
    ones_ok = not vacuous and np.all(status[:, K] != FAIL)
    if r.verdict == "fail":
        failing = np.any(status[:, :K] == FAIL, axis=1)
        gap = np.abs(p.fwd - p.bwd) > 1e-2 * np.maximum(np.abs(p.fwd), np.abs(p.bwd))
        at_kinks = bool(np.all(np.all(gap[:, :K], axis=1)[failing]))
        r.hint = diagnose(a[:, :K], p.numeric[:, :K], g, x, p.index, ones_ok, is_loss, N,
                          only_at_kinks=at_kinks, labels=labels, convention=convention)
    if not is_loss and vacuous and np.max(np.abs(p.numeric[:, :K])) > 10 * np.max(p.noise[:, :K]):
        r.notes.append(f"an all-ones upstream gradient would be vacuous for {gname} (sum(out) "
                       f"does not depend on {gname[1:]}); checked with random upstream gradients")
    return r
