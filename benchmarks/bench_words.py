"""Bits per character on held-out words: the LSTM and the transformer against a bigram count.

Each language model trains (SequenceSolver steps, the settings of `handgrad train
--dataset words`) for at most --seconds of wall-clock time, then the script prints
bits per character on the validation and test words, the bigram model's (add-alpha
counts, alpha chosen on validation), the gain over it and the target (>= 0.3 bits).
One BLAS thread by default: the matrices are small, and a second thread mostly waits.

Usage:
    python benchmarks/bench_words.py [--seconds 120] [--threads 1] [--models lstm,transformer]
"""

import argparse
import sys
import time

import numpy as np
from _threads import pin_threads

TARGET_GAIN = 0.3


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="training budget (120)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (1)")
    parser.add_argument("--models", default="lstm,transformer", help="lstm,transformer")
    return parser.parse_args(argv)


def train_for(name, data, seconds):
    """Train a fresh model with handgrad train's defaults for at most seconds; return it."""
    from handgrad import train
    from handgrad.train_words import build_model
    from solver import SequenceSolver

    opts = {**train.COMMON, **train.DEFAULTS["words"],
            **train.MODEL_DEFAULTS.get((name, "words"), {}), "model": name}
    np.random.seed(opts["seed"])  # noqa: NPY002 - models draw weights from the global state
    model = build_model(opts, data)
    solver = SequenceSolver(model, data, update_rule=opts["update_rule"],
                            optim_config={"learning_rate": opts["learning_rate"]},
                            batch_size=opts["batch_size"], num_epochs=1000, verbose=False,
                            seed=opts["seed"])
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        solver._step()
    return model, len(solver.loss_history), time.perf_counter() - start, time.process_time() - cpu


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pin_threads(args.threads, __file__, argv)
    from datasets import get_words_data
    from models.bigram import fit_bigram

    data = get_words_data()
    bigram = fit_bigram(data)
    base = {p: bigram.bits_per_char(data[f"X_{p}"], data[f"y_{p}"]) for p in ("val", "test")}
    print(f"words: {len(data['X_train'])} train, {len(data['X_val'])} val, "
          f"{len(data['X_test'])} test from {data['source']}; threads {args.threads}")
    print(f"{'model':<13}{'steps':>7}{'wall s':>8}{'cpu s':>7}{'val bpc':>9}{'test bpc':>10}"
          f"{'gain':>7}{'target':>8}")
    print(f"{'bigram':<13}{'':>7}{'':>8}{'':>7}{base['val']:>9.3f}{base['test']:>10.3f}")
    for name in args.models.split(","):
        model, steps, wall, cpu = train_for(name, data, args.seconds)
        bpc = {p: model.bits_per_char(data[f"X_{p}"], data[f"y_{p}"]) for p in ("val", "test")}
        gain = base["test"] - bpc["test"]
        print(f"{name:<13}{steps:>7}{wall:>8.0f}{cpu:>7.0f}{bpc['val']:>9.3f}{bpc['test']:>10.3f}"
              f"{gain:>7.2f}{'>= ' + str(TARGET_GAIN):>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
