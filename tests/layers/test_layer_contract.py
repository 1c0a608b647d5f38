"""The contract table: the same checks on every layer, loss and gate of the API.

One row per recipe of gradcheck.recipes (the registry the gradcheck CLI runs too):
- the numeric gradient in float64 agrees within rel_error 1e-7 for every gradient;
- each gradient has its input's shape and dtype, float32 in gives float32 out;
- forward does not modify its inputs; backward does not modify dout or the cache;
- the same inputs give the same outputs, bit for bit.
A gradient is returned for every floating ndarray input, in argument order; dicts
(bn_param, conv_param), integer labels and group counts carry none.
"""

import copy

import numpy as np
import pytest

import layers
from gradcheck.recipes import RECIPES

NAMES = list(RECIPES)
DTYPES = [np.float32, np.float64]


def _grad_inputs(inputs):
    """The inputs that carry a gradient: floating ndarrays."""
    return [a for a in inputs if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _run(recipe, dtype=np.float64, seed=0):
    """(inputs, out, grads, dout, cache) of one forward and backward pass on fresh inputs."""
    forward, backward = recipe.resolve()
    inputs = recipe.inputs(seed, dtype)
    if recipe.kind == "loss":
        out, dx = forward(*inputs)
        return inputs, out, (dx,), None, None
    out, cache = forward(*inputs)
    dout = np.random.default_rng(seed + 1).normal(size=np.shape(out)).astype(dtype)
    grads = backward(dout, cache)
    return inputs, out, grads if isinstance(grads, tuple) else (grads,), dout, cache


def _assert_same(before, after, what):
    """Recursive bitwise equality of arrays inside tuples, lists and dicts."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), what
        assert before.shape == after.shape, what
        np.testing.assert_array_equal(after, before, err_msg=what)
    elif isinstance(before, (tuple, list)):
        assert len(before) == len(after), what
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _assert_same(b, a, f"{what}[{i}]")
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), what
        for key in before:
            _assert_same(before[key], after[key], f"{what}[{key!r}]")
    else:
        assert before == after or (before != before and after != after), what


def test_every_public_forward_of_layers_has_a_recipe():
    covered = {r.forward for r in RECIPES.values()}
    public = {n for n in dir(layers) if n.endswith("_forward") or n.endswith("_loss")}
    assert public <= covered, f"no recipe for {sorted(public - covered)}"


@pytest.mark.parametrize("name", NAMES)
def test_numeric_gradient_float64(name):
    recipe = RECIPES[name]
    result = recipe.check()
    assert result.passed, f"\n{result}"
    checked = [r for r in result.results if r.name.startswith("d")]
    expected = 1 if recipe.kind == "loss" else len(_grad_inputs(recipe.inputs()))
    assert len(checked) == expected, f"\n{result}"
    for r in checked:
        assert r.tolerance <= 1e-7
        assert r.checked > 0
        assert r.verdict in (("pass", "kink") if recipe.kinks else ("pass",)), f"\n{result}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_gradients_have_the_shape_and_dtype_of_their_inputs(name, dtype):
    recipe = RECIPES[name]
    inputs, out, grads, _, _ = _run(recipe, dtype)
    assert np.asarray(out).dtype == dtype
    carriers = _grad_inputs(inputs)[: len(grads)] if recipe.kind == "loss" else _grad_inputs(inputs)
    assert len(grads) == len(carriers)
    for grad, x in zip(grads, carriers, strict=True):
        assert isinstance(grad, np.ndarray)
        assert (grad.shape, grad.dtype) == (x.shape, x.dtype)


@pytest.mark.parametrize("name", NAMES)
def test_forward_does_not_modify_its_inputs(name):
    recipe = RECIPES[name]
    forward, _ = recipe.resolve()
    inputs = recipe.inputs()
    before = copy.deepcopy(inputs)
    forward(*inputs)
    for i, (b, a) in enumerate(zip(before, inputs, strict=True)):
        if isinstance(b, dict) and recipe.stateful:     # running statistics are updated by design
            b = {k: v for k, v in b.items() if not k.startswith("running_")}
            a = {k: v for k, v in a.items() if not k.startswith("running_")}
        _assert_same(b, a, f"{name} input {i}")


@pytest.mark.parametrize("name", [n for n in NAMES if RECIPES[n].kind != "loss"])
def test_backward_does_not_modify_dout_or_the_cache(name):
    recipe = RECIPES[name]
    forward, backward = recipe.resolve()
    out, cache = forward(*recipe.inputs())
    dout = np.random.default_rng(1).normal(size=np.shape(out))
    before = copy.deepcopy((dout, cache))
    first = backward(dout, cache)
    _assert_same(before, (dout, cache), f"{name} (dout, cache)")
    _assert_same(first, backward(dout, cache), f"{name} backward twice on one cache")


@pytest.mark.parametrize("name", NAMES)
def test_same_inputs_give_the_same_outputs(name):
    recipe = RECIPES[name]
    _, out1, grads1, _, _ = _run(recipe)
    _, out2, grads2, _, _ = _run(recipe)
    _assert_same(np.asarray(out1), np.asarray(out2), f"{name} out")
    _assert_same(grads1, grads2, f"{name} gradients")
