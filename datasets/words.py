"""English words as character sequences, for character-level language models.

The words come from /usr/share/dict/american-english (Debian package wamerican,
SCOWL by Kevin Atkinson; free to use and redistribute with its notices, see
README's Data section) when it is installed, else from the 5,000-word sample of
the same list shipped in datasets/data/words.txt.gz (notices in
datasets/data/words-NOTICE.txt). Only lowercase a-z words are kept.

Shapes: N words, T = max_length + 1 steps, V = 29 symbols: <NULL> (padding,
index 0), <START> (1), <END> (2), then 'a'..'z'. A word w of L letters becomes
    x = [<START>, w_1, ..., w_L, <NULL>, ...]     the input at each step
    y = [w_1, ..., w_L, <END>, <NULL>, ...]       the character to predict there
so a model predicts every letter and the end of the word: L + 1 predictions.
"""

import gzip
import os
import re
import string
from importlib import resources

import numpy as np

from ._common import DataNotFoundError, check_count, check_split_sizes

SYSTEM_WORDS = "/usr/share/dict/american-english"
VOCAB = ["<NULL>", "<START>", "<END>", *string.ascii_lowercase]
NULL, START, END = 0, 1, 2
_WORD = re.compile(r"[a-z]+")


def load_words(path=None):
    """Read a word list, one word a line (gzip or plain); keep the lowercase a-z words.

    - path: a file, or a folder holding american-english; None reads the system list
      when installed, else the embedded sample

    Returns a tuple of (sorted list of distinct words, the path read or "embedded").
    """
    if path is None and os.path.isfile(SYSTEM_WORDS):
        path = SYSTEM_WORDS
    if path is None:
        data = resources.files("datasets").joinpath("data", "words.txt.gz").read_bytes()
        return _parse(gzip.decompress(data)), "embedded"
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, os.path.basename(SYSTEM_WORDS))
    if not os.path.isfile(path):
        raise DataNotFoundError(f"load_words: no word list at {path!r}; install the Debian "
                                "package wamerican or pass path=None for the embedded sample")
    with open(path, "rb") as f:
        data = f.read()
    return _parse(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data), path


def _parse(data):
    lines = data.decode("utf-8", errors="replace").split()
    return sorted({w for w in lines if _WORD.fullmatch(w)})


def encode(words, max_length):
    """Words (each <= max_length letters) as inputs x and targets y, both (N, max_length + 1)."""
    N, T = len(words), max_length + 1
    x, y = np.full((N, T), NULL, dtype=np.intp), np.full((N, T), NULL, dtype=np.intp)
    for n, word in enumerate(words):
        codes = [ord(ch) - ord("a") + 3 for ch in word]
        x[n, : len(word) + 1] = [START, *codes]
        y[n, : len(word) + 1] = [*codes, END]
    return x, y


def decode(codes):
    """The letters of a sequence of symbol indices, up to its first <END> or <NULL>."""
    letters = []
    for code in codes:
        if code in (END, NULL):
            break
        if code != START:
            letters.append(VOCAB[code])
    return "".join(letters)


def get_words_data(num_val=None, num_test=None, max_length=16, seed=0, path=None):
    """Words split at random into train, val and test, encoded for a language model.

    Inputs:
    - num_val, num_test: words held out for validation and testing (None: a tenth
      of the words, at most 2,000)
    - max_length: longer words are left out; sequences have T = max_length + 1 steps
    - seed: int or np.random.Generator for the split
    - path: a word list (see load_words)

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test (int
    arrays of shape (N, T), see the module docstring), vocab (the V symbols),
    words_train/words_val/words_test and source (the file read, or "embedded").
    """
    func = "get_words_data"
    max_length = check_count(func, "max_length", max_length, 1)
    words, source = load_words(path)
    words = [w for w in words if len(w) <= max_length]
    held_out = min(2000, len(words) // 10)
    num_val = held_out if num_val is None else num_val
    num_test = held_out if num_test is None else num_test
    num_val, num_test = check_split_sizes(func, len(words), num_val=num_val, num_test=num_test)
    order = np.random.default_rng(seed).permutation(len(words))
    parts = {"val": order[:num_val], "test": order[num_val:num_val + num_test],
             "train": order[num_val + num_test:]}
    data = {"vocab": list(VOCAB), "source": source}
    for part, index in parts.items():
        chosen = [words[i] for i in index]
        data[f"X_{part}"], data[f"y_{part}"] = encode(chosen, max_length)
        data[f"words_{part}"] = chosen
    return data
