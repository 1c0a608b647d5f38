"""handgrad train: train a model on a dataset; write checkpoint, curves and metrics.

The default trains a TwoLayerNet on the digits shipped with handgrad (no
download). Options left out take good values for the chosen model and dataset
(DEFAULTS). The output folder (--out, default runs/<time>-<model>-<dataset>)
receives options.json, checkpoint.npz/.json (for --resume), model.npz (the best
parameters, models' load()), curves.png and metrics.json.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from handgrad.coursework.markers import not_attempted

MODELS = ("two_layer", "fc", "convnet")
DATASETS = ("digits", "fashion-mnist", "cifar10", "spiral")
RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")

# Defaults per dataset, then per (model, dataset): measured to reach the targets quickly.
DEFAULTS = {
    "digits": {"epochs": 30, "batch_size": 50, "learning_rate": 3e-3, "weight_scale": 0.1},
    "fashion-mnist": {"epochs": 6, "batch_size": 200, "learning_rate": 1e-3,
                      "weight_scale": 0.05},
    "cifar10": {"epochs": 10, "batch_size": 200, "learning_rate": 1e-3, "weight_scale": 0.01},
    "spiral": {"epochs": 100, "batch_size": 30, "learning_rate": 1e-2, "weight_scale": 0.5},
}
MODEL_DEFAULTS = {
    ("convnet", "digits"): {"epochs": 15, "batch_size": 25, "update_rule": "sgd_momentum",
                            "learning_rate": 5e-2, "lr_decay": 0.9, "reg": 1e-3},
}
COMMON = {"model": "two_layer", "dataset": "digits", "update_rule": "adam", "lr_decay": 0.95,
          "reg": 1e-4, "seed": 0, "dtype": "float32", "hidden_dim": 100,
          "hidden_dims": [100, 100], "normalization": None, "dropout": 1.0,
          "num_filters": 16, "filter_size": 3, "data_dir": None}
# What may accompany --resume: the rest comes from the run's options.json.
RESUME_OPTIONS = ("epochs", "data_dir", "quiet")


class UsageError(Exception):
    """A bad option or missing data: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parser():
    p = _Parser(prog="handgrad train", description=__doc__.split("\n\n")[0],
                argument_default=None)
    p.add_argument("--model", choices=MODELS, help="two_layer (default), fc or convnet")
    p.add_argument("--dataset", choices=DATASETS, help="digits (default, embedded), ...")
    p.add_argument("--data-dir", help="folder of the Fashion-MNIST or CIFAR-10 files")
    p.add_argument("--hidden-dim", type=int, help="hidden units (two_layer, convnet)")
    p.add_argument("--hidden-dims", type=_int_list, help="fc hidden sizes, e.g. 100,100")
    p.add_argument("--normalization", choices=("batchnorm", "layernorm"), help="fc only")
    p.add_argument("--dropout", type=float, metavar="KEEP", help="fc: keep probability")
    p.add_argument("--num-filters", type=int, help="convnet filters (16)")
    p.add_argument("--filter-size", type=int, help="convnet filter size (3)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", "--lr", type=float)
    p.add_argument("--update-rule", choices=RULES, help="adam (default)")
    p.add_argument("--lr-decay", type=float, help="per-epoch factor (0.95)")
    p.add_argument("--reg", type=float, help="L2 strength (1e-4)")
    p.add_argument("--weight-scale", type=float)
    p.add_argument("--seed", type=int, help="weights, data split and minibatches (0)")
    p.add_argument("--dtype", choices=("float32", "float64"))
    p.add_argument("--out", help="output folder (default: a new one under runs/)")
    p.add_argument("--force", action="store_true", help="write into an existing --out")
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    p.add_argument("--quiet", action="store_true", help="print only the final lines")
    return p


def _int_list(text):
    try:
        dims = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 100,100, got {text!r}") from None
    return dims


def main(argv=None):
    """Run `handgrad train`; return the exit status (0 ok, 1 stopped early, 2 usage or a
    coursework blank not written yet)."""
    try:
        args = vars(parser().parse_args(argv))
        return _run(args)
    except UsageError as err:
        print(f"handgrad train: {err}", file=sys.stderr)
        return 2
    except NotImplementedError as err:   # a coursework blank not written yet
        reason = not_attempted(err)
        if reason is None:
            raise
        print(f"handgrad train: {reason} first (README.md lists the blanks)", file=sys.stderr)
        return 2
    except SystemExit as exit_:          # --help
        return exit_.code or 0


def _run(args):
    start = time.perf_counter()
    opts, out = _resume_options(args) if args["resume"] else _new_options(args)
    data = _load_data(opts)
    if not args["resume"]:
        os.makedirs(out, exist_ok=True)
        _write_json(os.path.join(out, "options.json"), opts)
    np.random.seed(opts["seed"])  # noqa: NPY002 - models draw weights from the global state
    model = _build_model(opts, data)
    solver = _make_solver(opts, args, out, model, data)
    if not args["quiet"]:
        print(f"training {opts['model']} on {opts['dataset']}: {len(data['X_train'])} train, "
              f"{len(data['X_val'])} val, {len(data['X_test'])} test; output in {out}")
    try:
        stopped = _train(solver)
    except KeyboardInterrupt:
        print(f"handgrad train: interrupted at iteration {solver.iteration}; continue with: "
              f"handgrad train --resume {out}", file=sys.stderr)
        return 130
    metrics = _write_results(opts, out, solver, data, start)
    print(f"train acc {metrics['train_acc']:.4f}  val acc {metrics['val_acc']:.4f}  "
          f"test acc {metrics['test_acc']:.4f}  ({metrics['seconds']:.1f} s, "
          f"{metrics['epochs']} epochs)")
    if stopped:
        print(f"handgrad train: {stopped}", file=sys.stderr)
        return 1
    return 0


# Options -------------------------------------------------------------------------


def _new_options(args):
    """Fill the options the user left out and check them; return (options, out folder)."""
    given = {k: v for k, v in args.items() if v is not None and v is not False}
    dataset = given.get("dataset", COMMON["dataset"])
    model = given.get("model", COMMON["model"])
    opts = {**COMMON, **DEFAULTS[dataset], **MODEL_DEFAULTS.get((model, dataset), {})}
    opts |= {k: v for k, v in given.items() if k not in ("out", "force", "quiet", "resume")}
    _check_options(opts, given)
    out = args["out"] or _new_run_dir(opts)
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)) and not args["force"]:
        raise UsageError(f"output folder {out} exists; pass --force to write into it "
                         "or choose another --out")
    return opts, out


def _check_options(opts, given):
    for name in ("epochs", "batch_size", "hidden_dim", "num_filters", "filter_size"):
        if opts[name] < 1:
            raise UsageError(f"--{name.replace('_', '-')} is {opts[name]}; expected >= 1")
    if min(opts["hidden_dims"]) < 1:
        raise UsageError(f"--hidden-dims has {opts['hidden_dims']}; expected sizes >= 1")
    for name in ("learning_rate", "lr_decay", "weight_scale"):
        if not opts[name] > 0:
            raise UsageError(f"--{name.replace('_', '-')} is {opts[name]}; expected > 0")
    if not 0 < opts["dropout"] <= 1:
        raise UsageError(f"--dropout is {opts['dropout']}; expected a keep probability in (0, 1]")
    if opts["reg"] < 0:
        raise UsageError(f"--reg is {opts['reg']}; expected >= 0")
    fc_only = [k for k in ("hidden_dims", "normalization", "dropout") if k in given]
    if fc_only and opts["model"] != "fc":
        raise UsageError(f"--{fc_only[0].replace('_', '-')} applies to --model fc only")
    if "hidden_dim" in given and opts["model"] == "fc":
        raise UsageError("--hidden-dim applies to two_layer and convnet; fc takes --hidden-dims")
    conv_only = [k for k in ("num_filters", "filter_size") if k in given]
    if conv_only and opts["model"] != "convnet":
        raise UsageError(f"--{conv_only[0].replace('_', '-')} applies to --model convnet only")
    if opts["model"] == "convnet" and opts["dataset"] == "spiral":
        raise UsageError("--model convnet needs images; the spiral is 2-D points")


def _new_run_dir(opts):
    stem = os.path.join("runs", f"{time.strftime('%Y%m%d-%H%M%S')}-{opts['model']}-"
                                f"{opts['dataset']}")
    out, n = stem, 1
    while os.path.exists(out):
        n += 1
        out = f"{stem}-{n}"
    return out


def _resume_options(args):
    """Options of the run in --resume DIR, with --epochs/--data-dir/--quiet applied."""
    out = args["resume"]
    extra = [k for k, v in args.items()
             if v is not None and v is not False and k not in (*RESUME_OPTIONS, "resume")]
    if extra:
        raise UsageError(f"--{extra[0].replace('_', '-')} cannot be combined with --resume "
                         f"(the run's options come from {out}/options.json); only "
                         "--epochs, --data-dir and --quiet can")
    path = os.path.join(out, "options.json")
    if not os.path.isfile(path) or not os.path.isfile(os.path.join(out, "checkpoint.npz")):
        raise UsageError(f"--resume {out}: no options.json and checkpoint.npz there; "
                         "expected the output folder of an earlier handgrad train")
    try:
        with open(path, encoding="utf-8") as f:
            opts = json.load(f)
    except (OSError, ValueError) as err:
        raise UsageError(f"--resume {out}: cannot read options.json: {err}") from err
    opts |= {k: args[k] for k in ("epochs", "data_dir") if args[k] is not None}
    _write_json(path, opts)
    return opts, out


# Data, model, Solver ----------------------------------------------------------------


def _load_data(opts):
    import datasets

    seed, dtype = opts["seed"], np.dtype(opts["dtype"])
    try:
        if opts["dataset"] == "digits":
            return datasets.get_digits_data(seed=seed, dtype=dtype)
        if opts["dataset"] == "fashion-mnist":
            return datasets.get_fashion_mnist_data(root=opts["data_dir"], seed=seed, dtype=dtype)
        if opts["dataset"] == "cifar10":
            return datasets.get_CIFAR10_data(root=opts["data_dir"], dtype=dtype)
        return datasets.get_spiral_data(num_per_class=300, seed=seed, dtype=dtype)
    except (datasets.DataNotFoundError, datasets.DataFormatError) as err:
        raise UsageError(str(err).splitlines()[0]) from err


def _build_model(opts, data):
    import models

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
    if not hasattr(models, "ThreeLayerConvNet"):
        raise UsageError("--model convnet needs models.ThreeLayerConvNet, missing in this install")
    return models.ThreeLayerConvNet(input_dim=shape, num_filters=opts["num_filters"],
                                    filter_size=opts["filter_size"],
                                    hidden_dim=opts["hidden_dim"], **common)


def _make_solver(opts, args, out, model, data):
    from solver import CheckpointError, Solver

    iterations_per_epoch = max(len(data["X_train"]) // opts["batch_size"], 1)
    kwargs = {"verbose": not args["quiet"], "print_every": iterations_per_epoch}
    name = os.path.join(out, "checkpoint")
    if args["resume"]:
        try:
            return Solver.resume(name, model, data, num_epochs=opts["epochs"], **kwargs)
        except (CheckpointError, ValueError) as err:
            raise UsageError(f"--resume {out}: {err}") from err
    return Solver(
        model, data, update_rule=opts["update_rule"],
        optim_config={"learning_rate": opts["learning_rate"]}, lr_decay=opts["lr_decay"],
        batch_size=opts["batch_size"], num_epochs=opts["epochs"], num_train_samples=1000,
        checkpoint_name=name, overwrite=args["force"], seed=opts["seed"], **kwargs)


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
    """Write model.npz, curves.png and metrics.json; return the metrics.

    seconds in metrics.json counts from start (perf_counter) to the end of the
    final accuracy checks: data loading, training, evaluation and plots.
    """
    from solver.plots import plot_history

    model = solver.model
    model.save(os.path.join(out, "model.npz"))
    title = f"{opts['model']} on {opts['dataset']}"
    plot_history(solver, title).savefig(os.path.join(out, "curves.png"), dpi=100)
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
    _write_json(os.path.join(out, "metrics.json"), metrics)
    return metrics


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)

