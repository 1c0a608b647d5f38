"""Error against step size: a V for a right gradient, a plateau for a wrong one.

For a smooth function the centered difference is off by truncation, O(h^2), at
large steps and by rounding, O(eps |f| / h), at small ones: against a right
analytic gradient the relative error falls, bottoms out near h ~ cbrt(eps) and
rises again (a V; a piecewise-linear layer has no truncation error, so only the
rising arm shows). Against a wrong gradient the error stays at the size of the
bug at every step (a plateau). Entries the check found at a kink are left out:
there the centered difference is the mean of the one-sided slopes at every
step, a plateau even for a right gradient.
"""

import numpy as np

from .numeric import centered_pair, rel_error

STEPS = tuple(10.0 ** -k for k in range(1, 13))


def sweep(project, x, index, a, keep, steps=STEPS):
    """[(h, max relative error)] of analytic a against centered differences with step h.

    Inputs:
    - project: function of no arguments returning the (K,) projections at the current x
    - x: floating array, perturbed in place at each ix in index and restored
    - index: R indices into x
    - a: analytic values, of shape (R, K)
    - keep: boolean mask of shape (R,), the entries to count (kinks left out)

    Returns one (h, error) pair per step; the error is nan when no entry is kept.
    """
    rows = []
    for h in steps:
        n = np.empty(a.shape)
        for r, ix in enumerate(index):
            fp, fm = centered_pair(lambda _: project(), x, ix, h)   # f(x +- h e_i)
            n[r] = (np.asarray(fp) - np.asarray(fm)) / (2 * h)
        rows.append((h, rel_error(a[keep], n[keep]) if np.any(keep) else float("nan")))
    return rows


def format_sweep(target, r, width=26):
    """One line: target, gradient, step:error cells, and how many kink entries were left out."""
    cells = "  ".join(f"{h:.0e}:{e:.0e}" for h, e in r.sweep)
    left_out = f" ({r.kinks} kink entr{'ies' if r.kinks != 1 else 'y'} left out)" * bool(r.kinks)
    return f"sweep {target:<{width}} {r.name:<9} {cells}{left_out}"
