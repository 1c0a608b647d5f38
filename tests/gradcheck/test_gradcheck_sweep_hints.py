"""Step sweeps (a V when right, a plateau when wrong, kinks left out) and the pattern hints
for the bugs that fit no factor: batchnorm's mean term, softmax's -1[y], max-pool routing."""

import json

import numpy as np
import pytest

import layers
from gradcheck import check_layer, check_loss
from gradcheck.cli import main
from gradcheck.recipes import RECIPES
from gradcheck.selftest import PLANTED


def errors(r):
    return np.array([e for _, e in r.sweep])


def tanh_doubled(dout, cache):
    return 2 * layers.tanh_backward(dout, cache)


def test_a_right_smooth_gradient_sweeps_a_v_and_a_wrong_one_a_plateau(rng):
    x = rng.standard_normal((3, 4))
    right = check_layer(layers.tanh_forward, layers.tanh_backward, x, sweep=True).result("dx")
    wrong = check_layer(layers.tanh_forward, tanh_doubled, x, sweep=True).result("dx")
    assert [h for h, _ in right.sweep] == [10.0 ** -k for k in range(1, 13)]
    v = errors(right)
    bottom = int(np.argmin(v))
    assert v[bottom] < 1e-8
    assert 0 < bottom < len(v) - 1
    assert v[0] > 100 * v[bottom]                    # the truncation arm
    assert v[-1] > 100 * v[bottom]                   # the rounding arm
    plateau = errors(wrong)
    assert np.all(plateau > 0.2)
    assert plateau.max() < 2 * plateau.min()


def test_relu_sweep_leaves_the_kink_entries_out():
    r = RECIPES["relu"].check(sweep=True).result("dx")
    assert r.kinks == 2
    assert np.all(errors(r) < 1e-2)                  # was 1e+00 at every step with the kinks in
    assert errors(r).min() < 1e-10


def test_relu_mask_bug_at_the_kink_sweeps_a_plateau():
    (x,) = RECIPES["relu"].inputs()
    r = check_layer(layers.relu_forward, lambda dout, x: dout * (x >= 0), x,
                    kink_side={"dx": "left"}, sweep=True).result("dx")
    assert r.verdict == "fail"
    assert np.all(errors(r) > 0.1)


def test_sweep_on_the_command_line_and_in_json(tmp_path, capsys):
    report = tmp_path / "out.json"
    assert main(["relu", "--sweep", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    line = next(s for s in out.splitlines() if s.startswith("sweep relu"))
    assert "2 kink entries left out" in line
    assert "e+00" not in line
    (check,) = json.loads(report.read_text())["checks"]
    assert len(check["sweep"]) == 12


def test_no_sweep_unless_asked(tmp_path):
    report = tmp_path / "out.json"
    assert main(["tanh", "--json", str(report)]) == 0
    assert json.loads(report.read_text())["checks"][0]["sweep"] == []


@pytest.mark.parametrize(("bug", "words"), [
    ("batchnorm missing the mean term", "mean over the batch"),
    ("softmax without subtracting 1[y]", "-1[y] term"),
    ("max-pool routing to the wrong entry", "wrong entry"),
])
def test_planted_bug_gets_its_pattern_hint(bug, words):
    _, runner, gname, _ = next(row for row in PLANTED if row[0] == bug)
    r = runner().result(gname)
    assert r.verdict == "fail"
    assert words in r.hint


def test_a_missing_layernorm_mean_term_is_named_along_the_features(rng):
    def forward(x, gamma, beta, ln_param):
        out, _ = layers.layernorm_forward(x, gamma, beta, ln_param)
        mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
        return out, (x, gamma, mu, var)

    def backward(dout, cache):
        x, gamma, mu, var = cache
        xhat, dxhat = (x - mu) / np.sqrt(var + 1e-5), dout * gamma
        dx = (dxhat - xhat * np.mean(dxhat * xhat, axis=1, keepdims=True)) / np.sqrt(var + 1e-5)
        return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)

    x, gamma, beta, param = RECIPES["layernorm"].inputs()
    r = check_layer(forward, backward, x, gamma, beta, param).result("dx")
    assert r.verdict == "fail"
    assert "every feature of a sample" in r.hint


def test_no_label_hint_when_the_error_is_not_on_the_true_class(rng):
    def softmax_half(x, y):
        loss, dx = layers.softmax_loss(x, y)
        return loss, dx + 0.01 * x            # an error everywhere, of varying size

    x, y = rng.standard_normal((5, 4)), rng.integers(4, size=5)
    r = check_loss(softmax_half, x, y).result("dx")
    assert r.verdict == "fail"
    for words in ("1[y]", "mean", "wrong entry"):
        assert words not in r.hint


def test_a_right_max_pool_routing_is_not_flagged():
    r = RECIPES["max_pool_naive"].check().result("dx")
    assert r.verdict == "pass"
    assert r.hint == ""
