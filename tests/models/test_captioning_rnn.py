"""CaptioningRNN: the course's fixed-weight losses, gradients, sampling, errors."""

import numpy as np
import pytest

from gradcheck import check_model
from models import CaptioningRNN

COURSE_VOCAB = {"<NULL>": 0, "cat": 2, "dog": 3}   # the course's small vocabulary: V = 3


@pytest.mark.parametrize(("cell_type", "features_range", "expected"), [
    ("rnn", (-1.5, 0.3), 9.83235591003), ("lstm", (-0.5, 1.7), 9.82445935443)])
def test_fixed_weight_loss_matches_the_course(cell_type, features_range, expected):
    """The course notebooks' setup: every param a linspace over its size, T = 13."""
    N, D, W, H, T = 10, 20, 30, 40, 13
    V = len(COURSE_VOCAB)
    model = CaptioningRNN(COURSE_VOCAB, input_dim=D, wordvec_dim=W, hidden_dim=H,
                          cell_type=cell_type, dtype=np.float64)
    for k, v in model.params.items():
        model.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(*v.shape)
    features = np.linspace(*features_range, num=N * D).reshape(N, D)
    captions = (np.arange(N * T) % V).reshape(N, T)
    loss, grads = model.loss(features, captions)
    assert abs(loss - expected) < 1e-10
    assert grads.keys() == model.params.keys()


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_every_gradient_matches_the_numeric_one(cell_type, rng):
    np.random.seed(231)
    model = CaptioningRNN(COURSE_VOCAB, input_dim=4, wordvec_dim=5, hidden_dim=6,
                          cell_type=cell_type, dtype=np.float64)
    captions = rng.integers(3, size=(2, 4))
    captions[0, -1] = 0                               # one masked target
    result = check_model(model, rng.standard_normal((2, 4)), captions)
    assert result.passed, str(result)
    assert sorted(r.name for r in result.results) == sorted(model.params)


def test_padding_targets_do_not_count(rng):
    np.random.seed(0)
    model = CaptioningRNN(COURSE_VOCAB, input_dim=4, wordvec_dim=5, hidden_dim=6,
                          dtype=np.float64)
    features = rng.standard_normal((1, 4))
    loss, _ = model.loss(features, np.array([[1, 2, 0, 0]]))
    loss_short, _ = model.loss(features, np.array([[1, 2]]))
    assert loss == pytest.approx(loss_short)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_sample_is_greedy_and_starts_after_start(cell_type, rng):
    vocab = {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "b": 4}
    np.random.seed(1)
    model = CaptioningRNN(vocab, input_dim=3, wordvec_dim=4, hidden_dim=5, cell_type=cell_type)
    features = rng.standard_normal((2, 3))
    captions = model.sample(features, max_length=6)
    assert captions.shape == (2, 6)
    assert np.issubdtype(captions.dtype, np.integer)
    # the greedy first word is the argmax of the scores after <START>, whatever the loss says
    full = np.concatenate([np.ones((2, 1), int), captions], axis=1)
    for word in range(1, 5):                 # not <NULL>: it would be masked out
        forced = full[:, :2].copy()
        forced[:, 1] = word
        assert model.loss(features, full[:, :2])[0] <= model.loss(features, forced)[0] + 1e-6


def test_model_dtype_and_errors():
    model = CaptioningRNN(COURSE_VOCAB, input_dim=4, wordvec_dim=5, hidden_dim=6)
    assert all(p.dtype == np.float32 for p in model.params.values())
    with pytest.raises(ValueError, match="cell_type is 'gru'; expected 'rnn' or 'lstm'"):
        CaptioningRNN(COURSE_VOCAB, cell_type="gru")
    with pytest.raises(ValueError, match="no '<START>'"):
        model.sample(np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"captions has shape \(2,\)"):
        model.loss(np.zeros((2, 4)), np.array([1, 2]))
