"""Forward verdicts: a student's forward against the library's reference forward.

A gradient check of a wrong forward proves nothing: the backward of a forward that
normalizes over the wrong axis can match that forward perfectly. So for a target
named after a built-in layer the forward's output is compared with the reference
(`layers`) on the same inputs, numpy's random state seeded alike. When they differ,
known wrong forwards (normalizing over other axes, windows that start without
`* stride`, a flipped filter, ...) are computed and the one that matches names the
likely cause. Dropout draws its own mask, so it is judged by its statistics: the
kept fraction, the scaling of kept units (inverted: 1 / p) and test mode.
"""

import copy

import numpy as np

from .report import GradientCheck

# A wrong forward (other axes, a missing term, a factor) is off by O(1); an equivalent one
# written differently (eps outside the square root, float32 sums) by far less than this.
RTOL = 1e-4


def _call(forward, inputs, seed=0):
    """forward's output as float64, on copies of inputs, numpy's global state seeded."""
    state = np.random.get_state()  # noqa: NPY002 (the layers' global state)
    try:
        np.random.seed(seed)  # noqa: NPY002
        args = [copy.deepcopy(a) for a in inputs]
        out = forward(*args)[0]
        return None if out is None else np.asarray(out, dtype=np.float64), args
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _close(a, b):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL,
                                                   atol=RTOL * max(1.0, np.max(np.abs(b)))))


def compare(name, forward, reference, inputs, kind="layer"):
    """GradientCheck "forward" of forward against reference on inputs, or None when the
    student's forward raises (the gradient check reports that)."""
    if name.startswith("dropout"):
        return dropout_verdict(forward, inputs[0].dtype)
    try:
        out, args = _call(forward, inputs)
    except Exception:
        return None
    if out is None:                          # not written yet: the check says so
        return None
    ref, ref_args = _call(reference, inputs)
    r = GradientCheck("forward", "pass", checked=int(ref.size), tolerance=RTOL)
    if out.shape != ref.shape:
        r.verdict, r.checked = "fail", 0
        r.hint = f"the forward's output has shape {out.shape}; the reference's is {ref.shape}"
        return r
    r.max_rel_error = float(np.max(np.abs(out - ref)) / max(1e-12, np.max(np.abs(ref))))
    if not _close(out, ref):
        r.verdict = "fail"
        r.hint = "the forward differs from the reference forward" + (
            "" if kind == "loss" else f" (worst entry off by {np.max(np.abs(out - ref)):.3g})")
        cause = _wrong_forward(name, out, ref, inputs)
        r.hint += f": {cause}" if cause else ""
        return r
    running = _running_problem(args, ref_args)
    if running:
        r.verdict, r.hint = "fail", running
    return r


def _wrong_forward(name, out, ref, inputs):
    """The known wrong forward that out matches, described; or ""."""
    for label, wrong in WRONG.get(name.removesuffix("_alt"), []):
        try:
            candidate = wrong(*inputs)
        except (ValueError, IndexError):
            continue
        if _close(out, np.asarray(candidate, dtype=np.float64)):
            return label
    nn = float(np.sum(ref * ref))
    c = float(np.sum(out * ref) / nn) if nn else 0.0
    if nn and abs(c - 1) > 1e-3 and _close(out, c * ref):
        return f"it is the reference times {c:.4g}"
    return ""


def _running_problem(args, ref_args):
    """How the running averages in a param dict differ from the reference's, or ""."""
    for a, b in zip(args, ref_args, strict=True):
        if not isinstance(b, dict):
            continue
        for key in ("running_mean", "running_var"):
            if key in b and not (key in a and _close(np.asarray(a[key], np.float64), b[key])):
                return (f"bn_param['{key}'] after a train step differs from the reference: "
                        f"{key} = momentum * {key} + (1 - momentum) * batch statistic")
    return ""


def _normalize(x, axes, eps, gamma, beta, ddof=0):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _eps(param):
    return param.get("eps", 1e-5)


def _groups(x, gamma, beta, G, param, interleaved=False):
    """Group norm with groups of consecutive channels, or (wrong) every G-th channel."""
    N, C, H, W = x.shape
    shape = (N, C // G, G, H, W) if interleaved else (N, G, C // G, H, W)
    axes = (1, 3, 4) if interleaved else (2, 3, 4)
    xg = _normalize(x.reshape(shape), axes, _eps(param), 1.0, 0.0)
    return xg.reshape(x.shape) * gamma + beta


def _pool_windows(x, pool_param, step, size):
    """Max pooling of the output's size whose window (i, j) starts at step(i), step(j) and
    spans size = (rows, columns): the wrong forwards of the max_pool entry."""
    PH, PW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H, W = x.shape[2:]
    Ho, Wo = 1 + (H - PH) // S, 1 + (W - PW) // S
    (hs, ws), (sh, sw) = step(PH, PW, S), size(PH, PW, S)
    return np.array([[x[:, :, i * hs:i * hs + sh, j * ws:j * ws + sw].max(axis=(2, 3))
                      for j in range(Wo)] for i in range(Ho)]).transpose(2, 3, 0, 1)


def _conv_flipped(x, w, b, conv_param):
    import layers
    return layers.conv_forward_naive(x, w[:, :, ::-1, ::-1].copy(), b, conv_param)[0]


def _conv_no_bias(x, w, b, conv_param):
    import layers
    return layers.conv_forward_naive(x, w, np.zeros_like(b), conv_param)[0]


WRONG = {
    "layernorm": [("normalizes over the batch axis: layer norm normalizes each sample over "
                   "its features (axis 1)", lambda x, g, b, p: _normalize(x, 0, _eps(p), g, b))],
    "batchnorm": [
        ("normalizes over the features: batchnorm normalizes each feature over the batch "
         "(axis 0)", lambda x, g, b, p: _normalize(x, 1, _eps(p), g, b)),
        ("uses the unbiased variance (ddof = 1): batchnorm divides by N",
         lambda x, g, b, p: _normalize(x, 0, _eps(p), g, b, ddof=1))],
    "spatial_batchnorm": [
        ("normalizes each (C, H, W) position over the batch only: spatial batchnorm "
         "normalizes each channel over N, H and W", lambda x, g, b, p: _normalize(
             x, 0, _eps(p), g[:, None, None], b[:, None, None])),
        ("normalizes each sample over C, H, W: spatial batchnorm normalizes each channel "
         "over N, H and W", lambda x, g, b, p: _normalize(
             x, (1, 2, 3), _eps(p), g[:, None, None], b[:, None, None]))],
    "spatial_groupnorm": [
        ("groups every G-th channel: a group is C // G consecutive channels "
         "(reshape to (N, G, C // G, H, W))",
         lambda x, g, b, G, p: _groups(x, g, b, G, p, interleaved=True)),
        ("normalizes over the wrong axes: each group over its C // G channels, H and W "
         "(not over the batch)", lambda x, g, b, G, p: _normalize(x, (0, 2, 3), _eps(p), g, b)),
        ("normalizes each channel alone (instance norm): a group is C // G channels",
         lambda x, g, b, G, p: _normalize(x, (2, 3), _eps(p), g, b)),
        ("normalizes each sample over all channels (layer norm): use G groups",
         lambda x, g, b, G, p: _normalize(x, (1, 2, 3), _eps(p), g, b))],
    "max_pool": [("windows start without * stride: window (i, j) starts at "
                  "(i * stride, j * stride)", lambda x, p: _pool_windows(
                      x, p, lambda PH, PW, S: (1, 1), lambda PH, PW, S: (PH, PW))),
                 ("pool size and stride swapped: these windows span stride x stride pixels "
                  "and start every pool_height (pool_width) pixels", lambda x, p: _pool_windows(
                      x, p, lambda PH, PW, S: (PH, PW), lambda PH, PW, S: (S, S)))],
    "conv": [("flips the filter: the layer is a cross-correlation, w is not flipped",
              _conv_flipped),
             ("leaves out the bias b", _conv_no_bias)],
    "affine": [("leaves out the bias b", lambda x, w, b: x.reshape(len(x), -1) @ w),],
}
WRONG["max_pool_naive"] = WRONG["max_pool_fast"] = WRONG.pop("max_pool")
WRONG["conv_naive"] = WRONG["conv_fast"] = WRONG.pop("conv")


def dropout_verdict(forward, dtype, p=0.6, shape=(200, 50)):
    """Dropout judged by statistics: kept fraction p, kept units x / p, test mode x."""
    x = (2.0 + np.random.default_rng(5).random(shape)).astype(dtype)     # no zeros in x
    r = GradientCheck("forward", "pass")             # judged by statistics, not an error
    try:
        out, _ = _call(forward, (x, {"mode": "train", "p": p, "seed": 1}))
        test, _ = _call(forward, (x, {"mode": "test", "p": p}))
    except Exception:
        return None
    if out is None or test is None:
        return None
    kept = out != 0
    frac = float(kept.mean())
    scale = out[kept] / x[kept] if kept.any() else np.array([0.0])
    if frac > 0.999:
        r.hint = "never drops a unit in train mode (kept 100 %)"
    elif abs(frac - p) > 0.03:
        r.hint = f"keeps {frac:.0%} of the units for p = {p}: " + (
            "p is the probability of KEEPING a unit (mask = rand < p)"
            if abs(frac - (1 - p)) <= 0.03 else "expected a fraction p")
    elif np.allclose(scale, 1.0):
        r.hint = ("not inverted: kept units must be scaled by 1 / p at train time "
                  "(out = x * mask / p), so the mean is kept and test time is the identity")
    elif not np.allclose(scale, 1 / p, rtol=1e-4):
        r.hint = (f"kept units are scaled by {np.median(scale):.4g}; inverted dropout "
                  "scales them by 1 / p")
    elif not _close(test, x):
        r.hint = ("test mode scales by p: with inverted dropout test mode is the identity"
                  if _close(test, p * x) else "test mode must return x unchanged")
    if r.hint:
        r.verdict = "fail"
    return r
