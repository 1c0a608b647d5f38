"""datasets.words: the word lists, the encoding for language models, the splits."""

import gzip
import os

import numpy as np
import pytest

from datasets import DataNotFoundError, get_words_data, load_words, words


def test_embedded_sample_works_without_the_package(monkeypatch):
    monkeypatch.setattr(words, "SYSTEM_WORDS", "/nonexistent/american-english")
    found, source = load_words()
    assert source == "embedded"
    assert len(found) == 5000
    assert all(w.isascii() and w.isalpha() and w.islower() for w in found)
    data = get_words_data()
    assert data["source"] == "embedded"
    assert len(data["X_val"]) == len(data["X_test"]) == 500


@pytest.mark.skipif(not os.path.isfile(words.SYSTEM_WORDS), reason="wamerican not installed")
def test_system_word_list_keeps_lowercase_words_only():
    found, source = load_words()
    assert source == words.SYSTEM_WORDS
    assert len(found) > 60000
    assert "zebra" in found
    assert not any("'" in w or w[0].isupper() for w in found)


def test_encoding_predicts_every_letter_and_the_end():
    x, y = words.encode(["cab", "a"], max_length=4)
    S, E = words.START, words.END
    np.testing.assert_array_equal(x, [[S, 5, 3, 4, 0], [S, 3, 0, 0, 0]])
    np.testing.assert_array_equal(y, [[5, 3, 4, E, 0], [3, E, 0, 0, 0]])
    assert [words.decode(row) for row in y] == ["cab", "a"]
    assert words.VOCAB[5] == "c"


def test_splits_are_disjoint_and_seeded(tmp_path):
    path = tmp_path / "list.gz"
    names = [f"w{'abcdefghij'[i % 10]}{'klmnopqrst'[i // 10]}" for i in range(100)]
    path.write_bytes(gzip.compress("\n".join([*names, "Capital", "it's", "toolongwordhere"])
                                   .encode()))
    data = get_words_data(num_val=10, num_test=20, max_length=8, seed=3, path=path)
    parts = [set(data[f"words_{p}"]) for p in ("train", "val", "test")]
    assert [len(p) for p in parts] == [70, 10, 20]
    assert set.union(*parts) == set(names)
    assert data["X_train"].shape == (70, 9)
    again = get_words_data(num_val=10, num_test=20, max_length=8, seed=3, path=path)
    np.testing.assert_array_equal(again["X_val"], data["X_val"])


def test_missing_list_and_bad_sizes(tmp_path):
    with pytest.raises(DataNotFoundError, match="no word list at"):
        load_words(tmp_path / "nothing.txt")
    (tmp_path / "american-english").write_text("one\ntwo\nthree\n")
    assert load_words(tmp_path) == (["one", "three", "two"], str(tmp_path / "american-english"))
    with pytest.raises(ValueError, match="leaves no training samples"):
        get_words_data(num_val=2, num_test=1, path=tmp_path)
