"""Result objects of a gradient check: one GradientCheck per gradient, one LayerCheck per layer.

Verdicts, from best to worst:
- "pass": every checked entry agrees with the numeric gradient within the tolerance
  (a few entries may be kinks or too noisy to judge);
- "kink": no entry could be judged smoothly, but each analytic value lies between
  the one-sided numeric derivatives (a valid subgradient);
- "inconclusive": the numeric side is too noisy to judge;
- "not_attempted": a blank not filled in yet: the function raised NotImplementedError,
  returned None, or failed on a None it produced itself;
- "fail": at least one entry disagrees, the gradient has the wrong shape or dtype, the
  forward differs from the reference forward, or the code raised;
- "timeout": the check did not finish within the time limit (an infinite loop?).

Side effects that leave every value right (a backward writing into dout or its cache,
a forward writing into its input) are warnings attached to the check; a strict check
turns them into failures.
"""

from dataclasses import asdict, dataclass, field

VERDICTS = ("pass", "kink", "inconclusive", "not_attempted", "fail", "timeout")
OK_VERDICTS = ("pass", "kink", "inconclusive")


@dataclass
class GradientCheck:
    """The check of one gradient ("dx", "dw", ...) or of one property ("forward", "backward")."""

    name: str
    verdict: str
    max_rel_error: float = 0.0
    max_abs_error: float = 0.0
    tolerance: float = 0.0
    checked: int = 0
    failed: int = 0
    kinks: int = 0
    inconclusive: int = 0
    worst: list = field(default_factory=list)   # dicts: index, value, analytic, numeric, rel_error
    hint: str = ""
    notes: list = field(default_factory=list)
    sweep: list = field(default_factory=list)   # (step, max relative error) pairs, when asked
    config: str = ""                            # the input configuration it was judged on
    warnings: list = field(default_factory=list)  # side effects that leave the values right

    @property
    def passed(self):
        return self.verdict in OK_VERDICTS


@dataclass
class LayerCheck:
    """All checks of one layer (or loss, gate, model)."""

    name: str
    results: list = field(default_factory=list)
    dtype: str = "float64"
    notes: list = field(default_factory=list)
    file: str = ""                              # the checked file, "" for the library

    @classmethod
    def from_dict(cls, data):
        """The inverse of to_dict (plain data handed back by a child process)."""
        data = dict(data)
        data["results"] = [GradientCheck(**r) for r in data.get("results", [])]
        return cls(**data)

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    @property
    def verdict(self):
        """The worst verdict of the results."""
        return max((r.verdict for r in self.results), key=VERDICTS.index, default="pass")

    def result(self, name):
        """The GradientCheck named name, e.g. "dw"."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"LayerCheck.result: no check named {name!r} in {self.name}")

    def to_dict(self):
        return asdict(self)

    @property
    def label(self):
        """The name printed on every line: FILE::NAME for a file's layer, else NAME."""
        return f"{self.file}::{self.name}" if self.file else self.name

    def __str__(self):
        return "\n".join(format_line(self.label, r) for r in self.results)


def format_line(target, r, width=26):
    """One aligned line: target, gradient, max relative error (when one was measured),
    verdict and hint."""
    measured = r.checked > 0
    line = f"{target:<{width}} {r.name:<9} " + (f"rel {r.max_rel_error:.1e}  " if measured
                                                  else " " * 13)
    if r.verdict == "fail" and measured:
        line += f"FAIL (limit {r.tolerance:.0e})"
    elif r.verdict in ("pass", "kink", "inconclusive"):
        line += r.verdict
    else:
        line += r.verdict.upper().replace("_", " ")
    if r.verdict == "pass" and (r.kinks or r.inconclusive):
        parts = [f"{r.kinks} kink{'s' * (r.kinks > 1)}"] * bool(r.kinks) + [
            f"{r.inconclusive} inconclusive"] * bool(r.inconclusive)
        line += f" ({', '.join(parts)})"
    return line + (f": {r.hint}" if r.hint else "")


def summarize(layer_checks):
    """Count the verdicts of every result of every LayerCheck."""
    counts = {"passed": 0, "failed": 0, "inconclusive": 0, "kink": 0, "not_attempted": 0,
              "timeout": 0}
    key = {"pass": "passed", "fail": "failed"}
    for lc in layer_checks:
        for r in lc.results:
            counts[key.get(r.verdict, r.verdict)] += 1
    return counts
