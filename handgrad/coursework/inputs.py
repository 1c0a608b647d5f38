"""Fixed test inputs from short expressions in coursework.toml.

Each input is one expression, built from a numpy Generator seeded by the test,
so the solution's process and the student's process see the same numbers:

    randn(2, 3, 4)      standard normal of that shape (float64)
    rand(5)             uniform in [0, 1)
    positive(5)         uniform in [0.5, 1.5), for variances and scales
    labels(4, 10)       4 integer labels in [0, 10)
    integers(-1, 2, 5)  whole numbers in [-1, 2) as floats: exact zeros and ties, the kinks
                        of ReLU, max-pooling and the hinge loss
    ones(50, 40)        ones of that shape (zeros(...) likewise)
    array([0.0, 1.0])   exactly these numbers (a ReLU kink at 0; array([0, 2]): labels)
    randn(4, 10) * 3    a product with a constant (1e4: scores far from 0)
    float32(randn(6, 4))    any of these as float32
    {'mode': 'train', 'p': 0.7, 'seed': 3}    any Python literal
"""

import ast

import numpy as np

MAKERS = {
    "randn": lambda rng, *shape: rng.standard_normal(shape),
    "rand": lambda rng, *shape: rng.random(shape),
    "positive": lambda rng, *shape: rng.random(shape) + 0.5,
    "labels": lambda rng, n, c: rng.integers(0, c, size=n),
    "integers": lambda rng, low, high, *shape: rng.integers(low, high, size=shape).astype(float),
    "ones": lambda rng, *shape: np.ones(shape),
    "zeros": lambda rng, *shape: np.zeros(shape),
    "array": lambda rng, values: np.array(values),  # [0, 2] gives ints, [0.0, 2] floats
}


def build(exprs, seed):
    """Return the list of inputs the expressions describe, drawn in order from one seed."""
    rng = np.random.default_rng(seed)
    return [_value(ast.parse(expr, mode="eval").body, rng, expr) for expr in exprs]


def _value(node, rng, expr):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == "float32" and len(node.args) == 1:
        return np.asarray(_value(node.args[0], rng, expr), dtype=np.float32)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MAKERS:
        args = [ast.literal_eval(arg) for arg in node.args]
        return MAKERS[node.func.id](rng, *args)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _value(node.left, rng, expr) * _value(node.right, rng, expr)
    try:
        return ast.literal_eval(node)
    except ValueError as err:
        raise ValueError(
            f"inputs: cannot build {expr!r}; expected one of {sorted(MAKERS)}(...), "
            "float32(...) or a literal"
        ) from err
