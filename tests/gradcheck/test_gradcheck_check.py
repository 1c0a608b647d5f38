"""check_layer and check_loss: verdicts, hints and the safety of the check itself."""

import numpy as np
import pytest

import layers
from gradcheck import check_layer, check_loss
from gradcheck.recipes import RECIPES


def square_forward(x, w):
    return x**2 * w, (x, w)


def square_backward(dout, cache):
    x, w = cache
    return 2 * x * w * dout, x**2 * dout


def make(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


def test_a_right_backward_passes_with_small_errors(rng):
    lc = check_layer(square_forward, square_backward, *make(rng, (3, 4), (3, 4)))
    assert lc.passed
    assert [r.name for r in lc.results] == ["dx", "dw"]
    assert all(r.verdict == "pass" and r.max_rel_error < 1e-7 for r in lc.results)
    assert lc.results[0].checked == 12
    assert lc.results[0].tolerance == 1e-7


@pytest.mark.parametrize(("factor", "hint"), [(-1, "sign flipped"), (2, "factor 2"),
                                              (0.5, "factor 1/2"), (3, "N = 3")])
def test_a_wrong_factor_fails_with_its_hint(rng, factor, hint):
    def backward(dout, cache):
        dx, dw = square_backward(dout, cache)
        return factor * dx, dw

    lc = check_layer(square_forward, backward, *make(rng, (3, 4), (3, 4)))
    assert not lc.passed
    assert lc.result("dx").verdict == "fail"
    assert hint in lc.result("dx").hint
    assert lc.result("dw").verdict == "pass"


def test_a_broadcast_shaped_gradient_fails_with_the_shapes(rng):
    def backward(dout, cache):
        dx, dw, db = layers.affine_backward(dout, cache)
        return dx, dw, db[None, :]

    x, w, b = make(rng, (4, 3), (3, 5), (5,))
    lc = check_layer(layers.affine_forward, backward, x, w, b)
    assert lc.result("db").verdict == "fail"
    assert "db has shape (1, 5); expected (5,)" in lc.result("db").hint


def test_not_implemented_is_not_attempted(rng):
    def backward(dout, cache):
        raise NotImplementedError("relu_backward blank")

    lc = check_layer(layers.relu_forward, backward, rng.standard_normal((2, 3)))
    assert [r.verdict for r in lc.results] == ["not_attempted"]


def test_inputs_and_global_random_state_are_left_alone(rng):
    x = rng.standard_normal((5, 4))
    param = {"mode": "train", "p": 0.5}
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    before = x.copy()
    lc = check_layer(layers.dropout_forward, layers.dropout_backward, x, param)
    assert lc.passed
    np.testing.assert_array_equal(x, before)
    assert param == {"mode": "train", "p": 0.5}
    assert np.random.rand() == expected


def test_a_backward_that_writes_into_dout_is_caught():
    def backward(dout, cache):
        dout[cache <= 0] = 0
        return dout

    x = np.array([[1.0, -2.0, 3.0], [-1.0, 2.0, -3.0]])
    lc = check_layer(layers.relu_forward, backward, x)
    assert lc.result("backward").verdict == "fail"
    assert "modified dout" in lc.result("backward").hint


def test_a_nondeterministic_forward_is_blamed_before_backward(rng):
    state = np.random.default_rng(0)

    def forward(x):
        return x * state.random(), None

    lc = check_layer(forward, lambda dout, cache: dout, rng.standard_normal(3))
    assert lc.result("forward").verdict == "fail"
    assert "deterministic" in lc.result("forward").hint


def test_float32_gradients_must_stay_float32(rng):
    def backward(dout, cache):
        return layers.relu_backward(dout, cache).astype(np.float64)

    x = (rng.standard_normal((3, 3)) + 3).astype(np.float32)
    lc = check_layer(layers.relu_forward, backward, x)
    assert "dx has dtype float64; expected float32" in lc.result("dx").hint


def test_check_loss_catches_a_missing_one_hot_term(rng):
    def softmax_no_onehot(x, y):
        loss, dx = layers.softmax_loss(x, y)
        dx = dx.copy()
        dx[np.arange(len(y)), y] += 1 / len(y)
        return loss, dx

    x, y = rng.standard_normal((5, 4)), rng.integers(4, size=5)
    assert check_loss(layers.softmax_loss, x, y).passed
    assert check_loss(softmax_no_onehot, x, y).result("dx").verdict == "fail"


def test_relu_mask_at_zero_follows_the_contract():
    def relu_backward_ge(dout, cache):
        return dout * (cache >= 0)

    (x,) = RECIPES["relu"].inputs()
    assert np.any(x == 0)
    lc = check_layer(layers.relu_forward, relu_backward_ge, x, kink_side={"dx": "left"})
    assert lc.result("dx").verdict == "fail"
    assert RECIPES["relu"].check().result("dx").kinks == 2


def test_all_ones_upstream_is_reported_vacuous_for_batchnorm():
    lc = RECIPES["batchnorm"].check()
    assert lc.passed
    assert any("vacuous" in note for note in lc.result("dx").notes)
