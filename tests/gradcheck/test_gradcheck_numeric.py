"""The CS231n helpers: values, in-place restore, integer refusal, seeded sampling."""

import numpy as np
import pytest

from gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from gradcheck.numeric import relative_step


def test_rel_error_matches_the_contract_formula():
    x, y = np.array([1.0, 0.0, -2.0]), np.array([1.1, 0.0, -2.0])
    assert rel_error(x, y) == pytest.approx(0.1 / 2.1)
    assert rel_error(0.0, 1e-9) == pytest.approx(1e-9 / 1e-8)


def test_eval_numerical_gradient_of_a_quadratic(rng):
    x = rng.standard_normal((3, 4))
    grad = eval_numerical_gradient(lambda z: np.sum(z**2), x, verbose=False)
    assert rel_error(grad, 2 * x) < 1e-8


def test_eval_numerical_gradient_prints_only_when_verbose(rng, capsys):
    x = rng.standard_normal(2)
    eval_numerical_gradient(lambda z: np.sum(z), x, verbose=False)
    assert capsys.readouterr().out == ""
    eval_numerical_gradient(lambda z: np.sum(z), x)
    assert capsys.readouterr().out.count("\n") == 2


def test_eval_numerical_gradient_array_is_the_gradient_of_the_projection(rng):
    x, w, df = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    grad = eval_numerical_gradient_array(lambda z: np.sin(z) * w, x, df)
    assert rel_error(grad, df * w * np.cos(x)) < 1e-8


def test_x_is_restored_even_when_f_raises(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    calls = []

    def f(z):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return np.sum(z)

    with pytest.raises(RuntimeError, match="boom"):
        eval_numerical_gradient(f, x, verbose=False)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    "func", [eval_numerical_gradient, eval_numerical_gradient_array, grad_check_sparse]
)
def test_integer_inputs_are_refused(func):
    x = np.arange(4)
    args = {eval_numerical_gradient: (), eval_numerical_gradient_array: (np.ones(4),),
            grad_check_sparse: (np.ones(4),)}[func]
    with pytest.raises(TypeError, match=r"x has dtype int64 and shape \(4,\)"):
        func(np.sum, x, *args)


def test_grad_check_sparse_is_seeded_and_returns_errors(rng, capsys):
    x = rng.standard_normal((5, 6))
    errors = grad_check_sparse(lambda z: np.sum(z**3), x, 3 * x**2, num_checks=7, seed=3)
    assert len(errors) == 7
    assert max(errors) < 1e-7
    assert capsys.readouterr().out == ""
    wrong = grad_check_sparse(lambda z: np.sum(z**3), x, 2 * x**2, num_checks=7, seed=3)
    assert min(wrong) > 0.1
    assert grad_check_sparse(np.sum, x, np.ones_like(x), seed=3) == grad_check_sparse(
        np.sum, x, np.ones_like(x), seed=3)


@pytest.mark.parametrize(("value", "step"), [(0.0, 2.0**-17), (1.0, 2.0**-17),
                                             (-1000.0, 2.0**-7)])
def test_relative_step_is_a_power_of_two_near_cbrt_eps(value, step):
    assert relative_step(value) == step
