"""handgrad train --dataset words: the language models' run folder, samples and bits per char."""

import json
import math
import os

import numpy as np
import pytest

from handgrad import train

FILES = ["checkpoint.json", "checkpoint.npz", "curves.png", "metrics.json", "model.npz",
         "options.json", "samples.txt"]


@pytest.fixture
def word_list(tmp_path):
    """400 made-up words of consonant-vowel pairs: quick to learn, quick to train on."""
    rng = np.random.default_rng(0)
    made = {"".join(rng.choice(list("bdgkmt")) + rng.choice(list("aeiou"))
                    for _ in range(rng.integers(1, 4))) for _ in range(900)}
    path = tmp_path / "american-english"
    path.write_text("\n".join(sorted(made)[:400]) + "\n")
    return path


@pytest.mark.parametrize("model", ["gru", "transformer"])
def test_words_end_to_end(model, word_list, tmp_path, capsys):
    out_dir = tmp_path / model
    code = train.main(["--model", model, "--dataset", "words", "--data-dir", str(word_list),
                       "--epochs", "3", "--hidden-dim", "16", "--batch-size", "32",
                       "--learning-rate", "1e-2", "--quiet", "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert set(FILES) <= set(os.listdir(out_dir))
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert (metrics["model"], metrics["dataset"]) == (model, "words")
    assert metrics["words_source"] == str(word_list)
    # a few iterations: better than guessing among the 27 symbols, nowhere near the bigram
    assert metrics["test_bits_per_char"] < math.log2(27)
    assert 1 < metrics["bigram_test_bits_per_char"] < 3
    samples = (out_dir / "samples.txt").read_text().split()
    assert len(samples) >= 10
    assert all(set(s) <= set("abcdefghijklmnopqrstuvwxyz") for s in samples)
    assert f"test bits/char {metrics['test_bits_per_char']:.3f}" in out


def test_words_needs_a_sequence_model(capsys):
    assert train.main(["--dataset", "words"]) == 2
    assert "--dataset words takes --model rnn|lstm|gru|transformer" in capsys.readouterr().err
    assert train.main(["--model", "lstm"]) == 2
    assert "--model lstm and --dataset digits do not go together" in capsys.readouterr().err
