"""handgrad train on words: the character-level language models and what their run adds.

--model rnn|lstm|gru builds a CharRNN with that cell, --model transformer a
CharTransformer (--hidden-dim is its embedding width); both train with the
SequenceSolver on --dataset words. Besides the usual run folder, the run
writes samples.txt (words sampled from the trained model) and adds to
metrics.json the bits per character of the model and of a count-based bigram
model on the held-out words.
"""

import os

import numpy as np

SEQUENCE_MODELS = ("rnn", "lstm", "gru", "transformer")
NUM_SAMPLES = 20


def build_model(opts, data):
    """The CharRNN or CharTransformer that opts ask for, sized for data's vocabulary."""
    import models

    V, T = len(data["vocab"]), data["X_train"].shape[1]
    common = {"reg": opts["reg"], "dtype": np.dtype(opts["dtype"])}
    if opts["model"] == "transformer":
        return models.CharTransformer(V, max_length=T, embed_dim=opts["hidden_dim"],
                                      ffn_dim=2 * opts["hidden_dim"], **common)
    return models.CharRNN(V, cell=opts["model"], hidden_dim=opts["hidden_dim"], **common)


def results(model, data, out, seed):
    """Write samples.txt; return bits per character of the model and the bigram baseline."""
    from datasets.words import decode
    from models.bigram import fit_bigram

    T = data["X_train"].shape[1]
    samples = [decode(s) for s in model.sample(NUM_SAMPLES, T - 1, seed=seed)]
    with open(os.path.join(out, "samples.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(samples) + "\n")
    bigram = fit_bigram(data)
    metrics = {f"{part}_bits_per_char": round(model.bits_per_char(data[f"X_{part}"],
                                                                  data[f"y_{part}"]), 4)
               for part in ("val", "test")}
    metrics["bigram_test_bits_per_char"] = round(
        bigram.bits_per_char(data["X_test"], data["y_test"]), 4)
    metrics["samples"] = samples
    metrics["words_source"] = data["source"]
    return metrics
