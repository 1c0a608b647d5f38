"""Character-level language models: gradients, causality, bits per character, sampling."""

import math

import numpy as np
import pytest

from datasets import words
from gradcheck import check_model
from models import BigramLM, CharRNN, CharTransformer, load_model
from solver import SequenceSolver

V = len(words.VOCAB)


def _batch(max_length=5):
    return words.encode(["cab", "abba", "c", "bad"], max_length)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_char_rnn_gradients(cell):
    np.random.seed(0)
    model = CharRNN(V, cell, wordvec_dim=5, hidden_dim=6, reg=0.1, dtype=np.float64)
    result = check_model(model, *_batch(), fast=True)
    assert result.passed, str(result)
    assert sorted(r.name for r in result.results) == sorted(model.params)


def test_char_transformer_gradients():
    np.random.seed(0)
    model = CharTransformer(V, max_length=6, embed_dim=8, num_heads=2, num_layers=2, ffn_dim=6,
                            reg=0.1, dtype=np.float64)
    result = check_model(model, *_batch(), fast=True)
    assert result.passed, str(result)
    assert sorted(r.name for r in result.results) == sorted(model.params)


@pytest.mark.parametrize("make", [lambda: CharRNN(V, "lstm", 4, 5),
                                  lambda: CharTransformer(V, 6, 8, 2, 1, 6)])
def test_a_step_never_sees_the_future(make):
    np.random.seed(1)
    model = make()
    X, _ = _batch()
    changed = X.copy()
    changed[:, 3:] = 7
    np.testing.assert_array_equal(model.loss(X)[:, :3], model.loss(changed)[:, :3])


def test_bits_per_char_of_a_uniform_model_is_log2_V():
    model = CharRNN(V, "rnn", 4, 5, dtype=np.float64)
    model.params["W_vocab"][:] = 0
    X, y = _batch()
    assert model.bits_per_char(X, y) == pytest.approx(math.log2(V))


def test_bigram_counts_by_hand():
    X, y = words.encode(["ab", "ab", "b"], 2)      # pairs: ^a a b b $ (twice), ^b b $
    model = BigramLM(V, alpha=0.0).fit(X, y)
    a, b = 3, 4
    assert model.counts[words.START, a] == 2
    assert model.counts[words.START, b] == 1
    # -log2 p over the 7 predictions: ^->a (2/3) twice, a->b (1) twice, ^->b (1/3), b->$ (1) x3
    expected = -(2 * math.log2(2 / 3) + math.log2(1 / 3)) / 8
    assert model.bits_per_char(X, y) == pytest.approx(expected)


def test_sample_stops_at_the_end_symbol():
    np.random.seed(2)
    model = CharRNN(V, "gru", 4, 5)
    model.params["b_vocab"][words.END] = 50       # the end is by far the likeliest
    out = model.sample(3, 6, seed=0)
    assert out.shape == (3, 7)
    np.testing.assert_array_equal(out[:, 0], words.END)
    assert np.all(out[:, 1:] == words.NULL)


def test_sequence_solver_learns_a_tiny_vocabulary():
    X, y = words.encode(["abc", "abd", "abe", "bcd"] * 8, 4)
    data = {"X_train": X, "y_train": y, "X_val": X[:4], "y_val": y[:4]}
    np.random.seed(0)
    model = CharRNN(V, "lstm", 8, 16, dtype=np.float64)
    before = model.bits_per_char(X, y)
    solver = SequenceSolver(model, data, update_rule="adam", optim_config={"learning_rate": 2e-2},
                            batch_size=8, num_epochs=30, verbose=False, seed=0)
    solver.train()
    assert model.bits_per_char(X, y) < 0.5 * before
    assert solver.best_val_acc > 0.7


def test_sequence_solver_wants_per_step_labels():
    X, y = words.encode(["ab"], 2)
    with pytest.raises(ValueError, match=r"y_train'\] has shape \(1,\); expected \(N, \.\.\.\) "
                                         r"and \(N, T\)"):
        SequenceSolver(CharRNN(V), {"X_train": X, "y_train": y[:, 0], "X_val": X, "y_val": y})


@pytest.mark.parametrize("make", [lambda: CharRNN(V, "gru", 4, 5),
                                  lambda: CharTransformer(V, 6, 8, 2, 1, 6)])
def test_saved_models_come_back_whole(make, tmp_path):
    np.random.seed(3)
    model = make()
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    X, _ = _batch()
    np.testing.assert_array_equal(again.loss(X), model.loss(X))
