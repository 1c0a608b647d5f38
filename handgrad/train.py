"""handgrad train: train a model on a dataset; write checkpoint, curves and metrics.

The default trains a TwoLayerNet on the digits shipped with handgrad (no
download). Options left out take good values for the chosen model and dataset
(DEFAULTS). The output folder (--out, default runs/<time>-<model>-<dataset>)
receives options.json, checkpoint.npz/.json (for --resume), model.npz (the best
model state, models.load_model()), curves.png, boundary.png (2-D data only) and
metrics.json. While a run writes there it holds an exclusive lock on the
folder's .lock file, so a second run (or a --resume) in the same folder is
refused instead of mixing its files with the first's.

Exit status: 0 done, 1 stopped on a NaN or infinite loss, 2 bad option or
missing data, 3 an output could not be written during the run (disk full, I/O
error), 130 interrupted.
"""

import argparse
import contextlib
import fcntl
import glob
import json
import math
import os
import sys
import time
import warnings

import numpy as np

from handgrad.coursework.markers import not_attempted

from .train_words import SEQUENCE_MODELS

MODELS = ("two_layer", "fc", "convnet", *SEQUENCE_MODELS)
DATASETS = ("digits", "fashion-mnist", "cifar10", "spiral", "words")
RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")

# Defaults per dataset, then per (model, dataset): measured to reach the targets quickly.
DEFAULTS = {
    "digits": {"epochs": 30, "batch_size": 50, "learning_rate": 3e-3, "weight_scale": 0.1},
    "fashion-mnist": {"epochs": 6, "batch_size": 200, "learning_rate": 1e-3,
                      "weight_scale": 0.05},
    "cifar10": {"epochs": 10, "batch_size": 200, "learning_rate": 1e-3, "weight_scale": 0.01},
    "spiral": {"epochs": 100, "batch_size": 30, "learning_rate": 1e-2, "weight_scale": 0.5},
    "words": {"epochs": 1, "batch_size": 64, "learning_rate": 5e-3, "weight_scale": 1.0,
              "hidden_dim": 128, "reg": 0.0},
}
MODEL_DEFAULTS = {
    ("convnet", "digits"): {"epochs": 15, "batch_size": 25, "update_rule": "sgd_momentum",
                            "learning_rate": 5e-2, "lr_decay": 0.9, "reg": 1e-3},
    ("transformer", "words"): {"learning_rate": 2e-3, "hidden_dim": 64},
}
COMMON = {"model": "two_layer", "dataset": "digits", "update_rule": "adam", "lr_decay": 0.95,
          "reg": 1e-4, "seed": 0, "dtype": "float32", "hidden_dim": 100,
          "hidden_dims": [100, 100], "normalization": None, "dropout": 1.0,
          "num_filters": 16, "filter_size": 3, "data_dir": None}
# What may accompany --resume: the rest comes from the run's options.json.
RESUME_OPTIONS = ("epochs", "data_dir", "quiet")
# Options that only some models (or datasets) read; options.json keeps them only there.
APPLIES_TO = {
    "hidden_dim": ("two_layer", "convnet", *SEQUENCE_MODELS),
    "hidden_dims": ("fc",),
    "normalization": ("fc",),
    "dropout": ("fc",),
    "num_filters": ("convnet",),
    "filter_size": ("convnet",),
}
DATA_DIR_DATASETS = ("fashion-mnist", "cifar10", "words")
# What every options.json holds, whatever the model.
REQUIRED = ("model", "dataset", "epochs", "batch_size", "learning_rate", "update_rule",
            "lr_decay", "reg", "weight_scale", "seed", "dtype")
# Upper bounds of the size options: past them a model or a batch does not fit in memory.
MAX_SIZE = {"hidden_dim": 100_000, "num_filters": 10_000, "filter_size": 99,
            "batch_size": 100_000, "epochs": 1_000_000}
LOCK = ".lock"
EXIT_NONFINITE, EXIT_USAGE, EXIT_WRITE = 1, 2, 3


class UsageError(Exception):
    """A bad option or missing data: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parser():
    p = _Parser(prog="handgrad train", description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n")[-1].strip(), argument_default=None)
    p.add_argument("--model", choices=MODELS,
                   help="two_layer (default), fc, convnet; rnn, lstm, gru, transformer (words)")
    p.add_argument("--dataset", choices=DATASETS, help="digits (default, embedded), ...")
    p.add_argument("--data-dir", help="folder of the Fashion-MNIST or CIFAR-10 files")
    p.add_argument("--hidden-dim", type=int,
                   help="hidden units (two_layer, convnet, rnn/lstm/gru; transformer: width)")
    p.add_argument("--hidden-dims", type=_int_list, help="fc hidden sizes, e.g. 100,100")
    p.add_argument("--normalization", choices=("batchnorm", "layernorm"), help="fc only")
    p.add_argument("--dropout", type=_finite, metavar="KEEP", help="fc: keep probability")
    p.add_argument("--num-filters", type=int, help="convnet filters (16)")
    p.add_argument("--filter-size", type=int, help="convnet filter size (3)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", "--lr", type=_finite)
    p.add_argument("--update-rule", choices=RULES, help="adam (default)")
    p.add_argument("--lr-decay", type=_finite, help="per-epoch factor (0.95)")
    p.add_argument("--reg", type=_finite, help="L2 strength (1e-4)")
    p.add_argument("--weight-scale", type=_finite)
    p.add_argument("--seed", type=_seed, help="weights, data split and minibatches (0)")
    p.add_argument("--dtype", choices=("float32", "float64"))
    p.add_argument("--out", help="output folder (default: a new one under runs/)")
    p.add_argument("--force", action="store_true", help="write into an existing --out")
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    p.add_argument("--quiet", action="store_true", help="print only the final lines")
    return p


def _finite(text):
    """A float that is neither NaN nor infinite (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _seed(text):
    """An integer seed in [0, 2**32 - 1], what numpy's global state takes (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"is {value}; expected an integer in [0, 2**32 - 1]")
    return value


def _int_list(text):
    try:
        dims = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 100,100, got {text!r}") from None
    return dims


def main(argv=None):
    """Run `handgrad train`; return the exit status (see the module docstring; 2 also for a
    coursework blank not written yet)."""
    try:
        args = vars(parser().parse_args(argv))
        return _run(args)
    except UsageError as err:
        print(f"handgrad train: {err}", file=sys.stderr)
        return EXIT_USAGE
    except NotImplementedError as err:   # a coursework blank not written yet
        reason = not_attempted(err)
        if reason is None:
            raise
        print(f"handgrad train: {reason} first (README.md lists the blanks)", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exit_:          # --help
        return exit_.code or 0


def _run(args):
    start = time.perf_counter()
    if args["resume"]:
        out = _resume_folder(args)
        with _locked(out, "--resume"):
            opts = _resume_options(args)
            data = _load_data(opts)
            model = _build_model(opts, data)
            return _train_in(out, opts, args, data, model, start)
    opts = _new_options(args)
    data = _load_data(opts)
    model = _build_model(opts, data)
    out = _claim_folder(args, opts)
    _refuse_foreign_files(out, args["force"])       # before .lock is added to a user's folder
    with _locked(out, "--out"):
        _refuse_foreign_files(out, args["force"])   # and again: a run may have started since
        return _train_in(out, opts, args, data, model, start)


def _train_in(out, opts, args, data, model, start):
    """Train and write; out is locked by this process. Returns the exit status."""
    solver = _make_solver(opts, args, out, model, data)
    opts = {**opts, "run_id": solver.run_id}        # checked by --resume: one run per folder
    try:                                            # before training: a usage error
        _write_json(os.path.join(out, "options.json"), opts)
    except OSError as err:
        raise UsageError(f"cannot write options.json in {out}: {err.strerror}") from err
    if not args["quiet"]:
        print(f"training {opts['model']} on {opts['dataset']}: {len(data['X_train'])} train, "
              f"{len(data['X_val'])} val, {len(data['X_test'])} test; output in {out}")
    try:
        stopped = _train(solver)
        metrics, pictures = _write_results(opts, out, solver, data, start)
    except KeyboardInterrupt:
        print(f"handgrad train: interrupted at iteration {solver.iteration}; continue with: "
              f"handgrad train --resume {out}", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"handgrad train: cannot write the outputs in {out}: {err}; continue from the "
              f"last checkpoint with: handgrad train --resume {out}", file=sys.stderr)
        return EXIT_WRITE
    epochs = metrics["epochs"]
    print(f"train acc {metrics['train_acc']:.4f}  val acc {metrics['val_acc']:.4f}  "
          f"test acc {metrics['test_acc']:.4f}  ({metrics['seconds']:.1f} s, "
          f"{epochs} epoch{'' if epochs == 1 else 's'})")
    if "test_bits_per_char" in metrics:
        print(f"test bits/char {metrics['test_bits_per_char']:.3f} (bigram "
              f"{metrics['bigram_test_bits_per_char']:.3f}); samples: "
              f"{' '.join(metrics['samples'][:8])}")
    print(f"outputs in {out}: model.npz, metrics.json, {', '.join(pictures)}")
    if stopped:
        print(f"handgrad train: {stopped}", file=sys.stderr)
        return EXIT_NONFINITE
    return 0


# The run folder -----------------------------------------------------------------------


def _claim_folder(args, opts):
    """Create the output folder: --out (existing only with --force), or a new one under runs/."""
    out = args["out"]
    if out is None:
        return _new_run_dir(opts)
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file; expected a folder")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot create the folder: {err.strerror}") from err
    return out


def _new_run_dir(opts):
    """runs/<date>-<time>-<model>-<dataset>[-n], made with mkdir: two runs never share one."""
    stem = os.path.join("runs", f"{time.strftime('%Y%m%d-%H%M%S')}-{opts['model']}-"
                                f"{opts['dataset']}")
    for n in range(1, 1000):
        out = stem if n == 1 else f"{stem}-{n}"
        try:
            os.makedirs(out)                    # the last mkdir fails if another run made it
            return out
        except FileExistsError:
            continue
        except OSError as err:
            raise UsageError(f"cannot create the output folder {out}: {err.strerror}") from err
    raise UsageError(f"cannot create an output folder: {stem}-1 .. -999 all exist")


def _refuse_foreign_files(out, force):
    """A non-empty --out holds another run's files: refuse them unless --force."""
    if not force and set(os.listdir(out)) - {LOCK}:
        raise UsageError(f"output folder {out} exists; pass --force to write into it "
                         "or choose another --out")


@contextlib.contextmanager
def _locked(out, option):
    """Hold an exclusive lock on out/.lock while the run writes there.

    flock is released by the kernel when the process ends, however it ends, so a
    killed run never leaves a stale lock; the temporary files it may have left
    (.tmp-*, from atomic writes cut short) are removed here, under the lock.
    """
    path = os.path.join(out, LOCK)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise UsageError(f"{option} {out}: cannot write there: {err.strerror}") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{option} {out}: another handgrad train is writing there (it "
                             f"holds {path}); wait for it to end or choose another "
                             "folder") from None
        _remove_temporary_files(out)
        yield
    finally:
        os.close(fd)


def _remove_temporary_files(out):
    for path in glob.glob(os.path.join(out, ".tmp-*")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# Options -------------------------------------------------------------------------


def _new_options(args):
    """Fill the options the user left out, check them, keep those that apply."""
    given = {k: v for k, v in args.items() if v is not None and v is not False}
    dataset = given.get("dataset", COMMON["dataset"])
    model = given.get("model", COMMON["model"])
    opts = {**COMMON, **DEFAULTS[dataset], **MODEL_DEFAULTS.get((model, dataset), {})}
    opts |= {k: v for k, v in given.items() if k not in ("out", "force", "quiet", "resume")}
    _check_options(opts, given)
    return _applicable(opts)


def _applicable(opts):
    """opts without the options the chosen model and dataset do not read."""
    return {k: v for k, v in opts.items()
            if opts["model"] in APPLIES_TO.get(k, (opts["model"],))
            and (k != "data_dir" or opts["dataset"] in DATA_DIR_DATASETS)}


def _check_options(opts, given):
    for name in ("epochs", "batch_size", "hidden_dim", "num_filters", "filter_size"):
        if not 1 <= opts[name] <= MAX_SIZE[name]:
            raise UsageError(f"--{name.replace('_', '-')} is {opts[name]}; expected >= 1 "
                             f"and <= {MAX_SIZE[name]}")
    if not all(1 <= H <= MAX_SIZE["hidden_dim"] for H in opts["hidden_dims"]):
        raise UsageError(f"--hidden-dims has {opts['hidden_dims']}; expected sizes >= 1 "
                         f"and <= {MAX_SIZE['hidden_dim']}")
    for name in ("learning_rate", "lr_decay", "weight_scale"):
        if not opts[name] > 0:
            raise UsageError(f"--{name.replace('_', '-')} is {opts[name]}; expected > 0")
    if not 0 < opts["dropout"] <= 1:
        raise UsageError(f"--dropout is {opts['dropout']}; expected a keep probability in (0, 1]")
    if opts["reg"] < 0:
        raise UsageError(f"--reg is {opts['reg']}; expected >= 0")
    for name, models in APPLIES_TO.items():
        if name in given and opts["model"] not in models:
            names = " and ".join([", ".join(models[:-1]), models[-1]] if models[:-1] else models)
            raise UsageError(f"--{name.replace('_', '-')} applies to --model {names} only")
    if opts["model"] == "convnet" and opts["dataset"] == "spiral":
        raise UsageError("--model convnet needs images; the spiral is 2-D points")
    if (opts["model"] in SEQUENCE_MODELS) != (opts["dataset"] == "words"):
        raise UsageError(f"--model {opts['model']} and --dataset {opts['dataset']} do not go "
                         f"together: --dataset words takes --model {'|'.join(SEQUENCE_MODELS)}")


def _resume_folder(args):
    """The --resume folder, once the options given with it and its files are checked."""
    out = args["resume"]
    extra = [k for k, v in args.items()
             if v is not None and v is not False and k not in (*RESUME_OPTIONS, "resume")]
    if extra:
        raise UsageError(f"--{extra[0].replace('_', '-')} cannot be combined with --resume "
                         f"(the run's options come from {out}/options.json); only "
                         "--epochs, --data-dir and --quiet can")
    if not all(os.path.isfile(os.path.join(out, name))
               for name in ("options.json", "checkpoint.npz")):
        raise UsageError(f"--resume {out}: no options.json and checkpoint.npz there; "
                         "expected the output folder of an earlier handgrad train")
    return out


def _resume_options(args):
    """Options of the run in --resume DIR, with --epochs/--data-dir applied (not yet saved)."""
    out = args["resume"]
    path = os.path.join(out, "options.json")
    try:
        with open(path, encoding="utf-8") as f:
            opts = json.load(f)
    except (OSError, ValueError) as err:
        raise UsageError(f"--resume {out}: cannot read options.json: {err}") from err
    if not isinstance(opts, dict):
        raise UsageError(f"--resume {out}: options.json holds no options (a JSON object)")
    opts |= {k: args[k] for k in ("epochs", "data_dir") if args[k] is not None}
    if opts.get("model") not in MODELS or opts.get("dataset") not in DATASETS:
        raise UsageError(f"--resume {out}: options.json names no known model and dataset; "
                         "expected the options.json of an earlier handgrad train")
    needed = [*REQUIRED, *(k for k, models in APPLIES_TO.items() if opts["model"] in models)]
    missing = [k for k in needed if k not in opts]
    if missing:
        raise UsageError(f"--resume {out}: options.json lacks {', '.join(missing)}; expected "
                         "the options.json of an earlier handgrad train")
    try:
        _check_options({**COMMON, **opts}, {})
    except TypeError as err:
        raise UsageError(f"--resume {out}: options.json holds a value of the wrong type: "
                         f"{err}") from err
    return opts


# Data, model, Solver ----------------------------------------------------------------


def _load_data(opts):
    import datasets

    seed, dtype = opts["seed"], np.dtype(opts["dtype"])
    try:
        if opts["dataset"] == "digits":
            return datasets.get_digits_data(seed=seed, dtype=dtype)
        if opts["dataset"] == "fashion-mnist":
            return datasets.get_fashion_mnist_data(root=opts.get("data_dir"), seed=seed,
                                                   dtype=dtype)
        if opts["dataset"] == "cifar10":
            return datasets.get_CIFAR10_data(root=opts.get("data_dir"), dtype=dtype)
        if opts["dataset"] == "words":
            return datasets.get_words_data(seed=seed, path=opts.get("data_dir"))
        return datasets.get_spiral_data(num_per_class=300, seed=seed, dtype=dtype)
    except (OSError, ValueError) as err:   # missing or corrupt files, too few for the split
        raise UsageError(str(err).splitlines()[0]) from err


def _build_model(opts, data):
    """The model opts describe, sized for data; a model that does not fit is a usage error."""
    np.random.seed(opts["seed"])  # noqa: NPY002 - models draw weights from the global state
    try:
        return _model(opts, data)
    except MemoryError as err:
        raise UsageError(f"the {opts['model']} model does not fit in memory; choose smaller "
                         "sizes (--hidden-dim, --hidden-dims, --num-filters)") from err
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from err


def _model(opts, data):
    import models

    from .train_words import build_model

    if opts["model"] in SEQUENCE_MODELS:
        return build_model(opts, data)
    shape = data["X_train"].shape[1:]
    num_classes = int(max(data["y_train"].max(), data["y_val"].max())) + 1
    common = {"num_classes": num_classes, "weight_scale": opts["weight_scale"],
              "reg": opts["reg"], "dtype": np.dtype(opts["dtype"])}
    if opts["model"] == "two_layer":
        return models.TwoLayerNet(int(np.prod(shape)), opts["hidden_dim"], **common)
    if opts["model"] == "fc":
        return models.FullyConnectedNet(
            opts["hidden_dims"], input_dim=int(np.prod(shape)), normalization=opts["normalization"],
            dropout_keep_ratio=opts["dropout"], **common)
    if len(shape) != 3:
        raise UsageError(f"--model convnet needs images; {opts['dataset']} has inputs of "
                         f"shape {shape}")
    if opts["filter_size"] > min(shape[1:]):
        raise UsageError(f"--filter-size is {opts['filter_size']}; expected at most "
                         f"{min(shape[1:])} for the {shape[1]}x{shape[2]} images of "
                         f"{opts['dataset']}")
    return models.ThreeLayerConvNet(input_dim=shape, num_filters=opts["num_filters"],
                                    filter_size=opts["filter_size"],
                                    hidden_dim=opts["hidden_dim"], **common)


def _make_solver(opts, args, out, model, data):
    from solver import CheckpointError, SequenceSolver, Solver

    solver_class = SequenceSolver if opts["model"] in SEQUENCE_MODELS else Solver
    iterations_per_epoch = max(len(data["X_train"]) // opts["batch_size"], 1)
    kwargs = {"verbose": not args["quiet"], "print_every": iterations_per_epoch}
    name = os.path.join(out, "checkpoint")
    if args["resume"]:
        try:
            solver = solver_class.resume(name, model, data, num_epochs=opts["epochs"],
                                         **kwargs)
        except (CheckpointError, ValueError, KeyError) as err:
            raise UsageError(f"--resume {out}: {err}") from err
        _check_resumable(out, opts, solver)
        return solver
    return solver_class(
        model, data, update_rule=opts["update_rule"],
        optim_config={"learning_rate": opts["learning_rate"]}, lr_decay=opts["lr_decay"],
        batch_size=opts["batch_size"], num_epochs=opts["epochs"], num_train_samples=1000,
        checkpoint_name=name, overwrite=args["force"], seed=opts["seed"], **kwargs)


def _check_resumable(out, opts, solver):
    """The checkpoint belongs to options.json's run and has iterations left to run."""
    if opts.get("run_id", solver.run_id) != solver.run_id:
        raise UsageError(f"--resume {out}: options.json and checkpoint.npz come from different "
                         "runs (two runs wrote into this folder); start a new run instead")
    if solver.iteration >= solver.num_iterations:
        raise UsageError(f"--resume {out}: the run has done {solver.epoch} of --epochs "
                         f"{opts['epochs']} already; pass --epochs greater than "
                         f"{solver.epoch} to train longer")


def _train(solver):
    """solver.train(); return the reason it stopped early, or None."""
    from solver import NonFiniteLossWarning

    # A diverging run overflows; the Solver stops it and says so in stop_reason.
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", NonFiniteLossWarning)
        solver.train()
    return solver.stop_reason


# Results ----------------------------------------------------------------------------


def _write_results(opts, out, solver, data, start):
    """Write model.npz, the pictures and metrics.json; return (metrics, picture names).

    seconds in metrics.json counts from start (perf_counter) to the end of the
    final accuracy checks: data loading, training, evaluation and plots.
    """
    from solver.plots import plot_decision_boundary, plot_history

    model = solver.model
    model.save(os.path.join(out, "model.npz"))
    title = f"{opts['model']} on {opts['dataset']}"
    figures = {"curves.png": plot_history(solver, title, _hyperparameters(opts))}
    if data["X_train"].shape[1:] == (2,):
        figures["boundary.png"] = plot_decision_boundary(
            model, data["X_train"], data["y_train"], f"{title}: decision regions, train points")
    for name, figure in figures.items():
        figure.savefig(os.path.join(out, name), dpi=100)
    acc = {f"{part}_acc": solver.check_accuracy(data[f"X_{part}"], data[f"y_{part}"])
           for part in ("train", "val", "test")}
    metrics = {
        "model": opts["model"],
        "dataset": opts["dataset"],
        **acc,
        "seconds": round(time.perf_counter() - start, 3),
        "epochs": solver.epoch,
        "iterations": solver.iteration,
        "final_loss": solver.loss_history[-1] if solver.loss_history else None,
        "num_params": int(sum(p.size for p in model.params.values())),
        "num_train": len(data["X_train"]),
        "stopped_early": solver.stop_reason,
        "options": opts,
        "numpy": np.__version__,
    }
    if opts["model"] in SEQUENCE_MODELS:
        from .train_words import results

        metrics |= results(model, data, out, opts["seed"])
    _write_json(os.path.join(out, "metrics.json"), metrics)
    return metrics, list(figures)


def _hyperparameters(opts):
    """One line of the options that shaped the run, for the title of curves.png."""
    if opts["model"] == "fc":
        size = f"hidden {opts['hidden_dims']}, {opts['normalization'] or 'no norm'}, " \
               f"keep {opts['dropout']:g}"
    elif opts["model"] == "convnet":
        size = f"{opts['num_filters']} filters {opts['filter_size']}x{opts['filter_size']}, " \
               f"hidden {opts['hidden_dim']}"
    else:
        size = f"hidden {opts['hidden_dim']}"
    return (f"{size}; {opts['update_rule']} lr {opts['learning_rate']:g}, "
            f"decay {opts['lr_decay']:g}, batch {opts['batch_size']}, reg {opts['reg']:g}, "
            f"weight scale {opts['weight_scale']:g}, {opts['dtype']}, seed {opts['seed']}")


def _write_json(path, obj):
    """Write obj as JSON atomically (a temporary file renamed over path)."""
    from solver.checkpoint import atomic_write

    text = json.dumps(obj, indent=2) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))
