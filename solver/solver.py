"""The Solver: minibatch training of a model with an update rule from solver.optim.

Semantics of the CS231n Solver (one update per minibatch, accuracy checks at
the first iteration, at each epoch end and at the last iteration, learning
rate decay at each epoch end, model.params left at the best validation
parameters), plus:

- seed: an int or a numpy Generator for minibatch sampling and accuracy
  subsampling, so a run repeats exactly. Without it the Solver draws from
  numpy's global random state as the course Solver does, so np.random.seed(231)
  in a notebook repeats a run too.
- a progress bar (tqdm) on a terminal or in a notebook with widgets, plain
  lines otherwise, nothing when verbose is False;
- checkpoints (see solver.checkpoint) at every accuracy check and
  Solver.resume(path, model, data), which continues a run to the same final
  parameters, bit for bit, as a run that was never interrupted;
- a non-finite loss stops training with a warning naming the iteration and
  leaves model.params at the best parameters so far.

Shapes: X_train (N, d1, ..., dk), y_train (N,) int in [0, C); the same for val.
"""

import importlib.util
import os
import sys
import uuid
import warnings

import numpy as np

from layers import NonFiniteError

from . import checkpoint, optim


class NonFiniteLossWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


# Keyword arguments of Solver with their defaults, in the order of the course Solver.
DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
    "seed": None,
    "overwrite": False,
}


class Solver:
    """Train model on data; see the module docstring.

    Required arguments:
    - model: an object with params (dict name -> array) and loss(X, y=None)
    - data: dict with X_train, y_train, X_val, y_val

    Optional keyword arguments (defaults in DEFAULTS):
    - update_rule: 'sgd', 'sgd_momentum', 'rmsprop', 'adam' or a function
      (w, dw, config) -> (next_w, config)
    - optim_config: hyperparameters for the update rule, copied per parameter
    - lr_decay: learning_rate is multiplied by it at each epoch end
    - batch_size, num_epochs
    - num_train_samples, num_val_samples: accuracy checks use this many
      samples (None: all)
    - checkpoint_name: write NAME.npz / NAME.json at every accuracy check
    - overwrite: let a checkpoint replace files another run wrote
    - print_every: iterations between loss lines; verbose: report at all
    - seed: int or np.random.Generator for sampling (None: numpy's global state)
    """

    label_ndim = 1                           # y (N,); a SequenceSolver takes y (N, T)

    def __init__(self, model, data, **kwargs):
        unknown = sorted(set(kwargs) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"Solver: unrecognized keyword arguments {unknown}")
        self.model = model
        self.X_train, self.y_train = _split(data, "train", self.label_ndim)
        self.X_val, self.y_val = _split(data, "val", self.label_ndim)
        options = {**DEFAULTS, **kwargs}
        for name, value in options.items():
            setattr(self, name, value)
        self.optim_config = dict(optim.check_config("Solver: optim_config", self.optim_config))
        self.update_rule = _update_rule(self.update_rule)
        self.batch_size = _count("batch_size", self.batch_size, 1)
        self.num_epochs = _count("num_epochs", self.num_epochs, 0)
        self.print_every = _count("print_every", self.print_every, 1)
        self.num_train_samples = _samples("num_train_samples", self.num_train_samples)
        self.num_val_samples = _samples("num_val_samples", self.num_val_samples)
        self.lr_decay = _positive("lr_decay", self.lr_decay)
        self._rng = _generator(self.seed)
        self._run_id = uuid.uuid4().hex
        self._reset()

    def _reset(self):
        """Start-of-run bookkeeping: counters, histories, one optimizer config per param."""
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.best_state = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.stop_reason = None
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    @property
    def run_id(self):
        """The id that this run's checkpoint files carry (kept by Solver.resume)."""
        return self._run_id

    @property
    def iterations_per_epoch(self):
        return max(len(self.X_train) // self.batch_size, 1)

    @property
    def num_iterations(self):
        return self.num_epochs * self.iterations_per_epoch

    def _choice(self, n, size):
        """size indices drawn from range(n) with replacement, as the course Solver does."""
        if self._rng is None:
            return np.random.choice(n, size)  # noqa: NPY002 - seed=None: the global stream
        return self._rng.choice(n, size)

    def _step(self):
        """One minibatch update. Returns the loss; a non-finite loss changes nothing."""
        batch = self._choice(len(self.X_train), self.batch_size)
        try:
            loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        except NonFiniteError:               # the scores overflowed before the loss
            return np.nan
        if not np.isfinite(loss):
            return loss
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            next_w, self.optim_configs[p] = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
        return loss

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of X whose predicted class (argmax of the scores) equals y.

        - X: (N, d1, ..., dk); y: (N,)
        - num_samples: score a random subsample of this many (with replacement)
        - batch_size: examples per call of model.loss
        """
        num_samples = _samples("check_accuracy's num_samples", num_samples)
        batch_size = _count("check_accuracy's batch_size", batch_size, 1)
        N = len(X)
        if num_samples is not None and num_samples < N:
            mask = self._choice(N, num_samples)
            X, y, N = X[mask], y[mask], num_samples
        y_pred = [
            np.argmax(self.model.loss(X[i : i + batch_size]), axis=1)
            for i in range(0, N, batch_size)
        ]
        return float(np.mean(np.concatenate(y_pred) == y))

    def train(self):
        """Run the remaining iterations of num_epochs epochs; leave model.params at the best."""
        report = _Report(self.verbose, self.print_every, self.num_iterations, self.iteration)
        try:
            while self.iteration < self.num_iterations:
                t = self.iteration
                loss = self._step()
                if not np.isfinite(loss):
                    self._stop(loss, t)
                    return
                self.iteration += 1
                report.loss(t, loss)
                epoch_end = self.iteration % self.iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    self._decay_learning_rate()
                if t == 0 or epoch_end or self.iteration == self.num_iterations:
                    self._check_all(report)
        finally:
            report.close()
        self._use_best_params()

    def _decay_learning_rate(self):
        for config in self.optim_configs.values():
            if "learning_rate" in config:
                config["learning_rate"] *= self.lr_decay

    def _check_all(self, report):
        """Accuracy on train and val subsamples, best params, checkpoint, report."""
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self._keep_best()
        if self.checkpoint_name is not None:
            self.save_checkpoint(self.checkpoint_name)
        report.accuracy(self.epoch, self.num_epochs, train_acc, val_acc)

    def _keep_best(self):
        """Snapshot the whole model state: params and the running statistics that go with them.

        A batchnorm net at its best epoch predicts with that epoch's running
        averages; the last epoch's averages with the best weights predict worse.
        """
        self.best_state = _model_state(self.model)
        self.best_params = {k: self.best_state[k] for k in self.model.params}

    def _use_best_params(self):
        """Put the best state back: model.params is best_params, the statistics follow."""
        if self.best_params:
            _load_model_state(self.model, self.best_state)
            self.model.params = self.best_params

    def _stop(self, loss, t):
        """Stop on a non-finite loss: best params so far, a reason, a warning."""
        if not self.best_params:
            self._keep_best()
        self._use_best_params()
        self.stop_reason = (
            f"Solver.train: the loss is {loss} at iteration {t + 1} / {self.num_iterations} "
            f"(epoch {self.epoch}); training stopped, model.params hold the best parameters "
            f"so far (val acc {self.best_val_acc:.4f}). Try a smaller learning_rate."
        )
        warnings.warn(self.stop_reason, NonFiniteLossWarning, stacklevel=3)

    # Checkpoints -------------------------------------------------------------------

    def save_checkpoint(self, name):
        """Write the whole training state to NAME.npz and NAME.json (solver.checkpoint)."""
        arrays = {f"model/{k}": v for k, v in _model_state(self.model).items()}
        arrays |= {f"best/{k}": v for k, v in self.best_state.items()}
        scalars = {}
        for p, config in self.optim_configs.items():
            arrays |= {f"optim/{p}/{k}": v for k, v in config.items() if _is_array(v)}
            scalars[p] = {k: v for k, v in config.items() if not _is_array(v)}
        _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()  # noqa: NPY002
        arrays["rng/legacy_keys"] = keys
        meta = {
            "epoch": self.epoch,
            "iteration": self.iteration,
            "num_train": len(self.X_train),
            "best_val_acc": self.best_val_acc,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
            "optim_scalars": scalars,
            "rng": None if self._rng is None else self._rng.bit_generator.state,
            "legacy_rng": {"pos": pos, "has_gauss": has_gauss, "cached_gaussian": cached_gaussian},
            "kwargs": self._kwargs(),
        }
        checkpoint.write(name, arrays, meta, self._run_id, self.overwrite)

    def _kwargs(self):
        """The constructor arguments, as JSON can hold them (a function by its name)."""
        rule = self.update_rule
        name = next((k for k, f in optim.UPDATE_RULES.items() if f is rule), None)
        kwargs = {k: getattr(self, k) for k in DEFAULTS if k not in ("seed", "overwrite")}
        kwargs["update_rule"] = name or f"custom:{rule.__module__}.{rule.__qualname__}"
        if self.checkpoint_name is not None:
            kwargs["checkpoint_name"] = os.fspath(self.checkpoint_name)
        return kwargs

    @classmethod
    def resume(cls, path, model, data, **overrides):
        """A Solver that continues the run saved in checkpoint path (.npz, .json or stem).

        model must have the architecture of the saved one and data the same
        X_train/y_train (its values are not stored); both are restored to the
        saved state, and so are the optimizer, the histories and the random
        states (the Solver's and numpy's global one, which dropout draws from).
        overrides replace saved arguments, e.g. num_epochs=20 to train longer,
        verbose=False, or update_rule=f for a run that used a custom function.
        train() then runs the remaining iterations.
        """
        arrays, meta = checkpoint.read(path)
        kwargs = dict(meta["kwargs"], checkpoint_name=checkpoint.paths(path)[0][:-4])
        if str(kwargs["update_rule"]).startswith("custom:") and "update_rule" not in overrides:
            raise ValueError(
                f"Solver.resume: {path!r} was trained with the function "
                f"{kwargs['update_rule'][7:]}; pass it again as update_rule=..."
            )
        solver = cls(model, data, **{**kwargs, **overrides})
        if len(solver.X_train) != meta["num_train"]:
            raise ValueError(
                f"Solver.resume: data['X_train'] has {len(solver.X_train)} examples but "
                f"{path!r} was trained on {meta['num_train']}; pass the same data"
            )
        solver._restore(arrays, meta)
        return solver

    def _restore(self, arrays, meta):
        """Put back what save_checkpoint wrote (model, optimizer, histories, RNGs)."""
        _load_model_state(self.model, checkpoint.group(arrays, "model"))
        best = checkpoint.group(arrays, "best")          # older checkpoints: params only
        self.best_state = {**_model_state(self.model), **best} if best else {}
        self.best_params = {k: v for k, v in best.items() if k in self.model.params}
        missing = [p for p in self.optim_configs if p not in meta["optim_scalars"]]
        if missing:
            raise checkpoint.CheckpointError(
                f"Solver.resume: the checkpoint holds no optimizer state for {missing}")
        for p in self.optim_configs:
            self.optim_configs[p] = {
                **meta["optim_scalars"][p], **checkpoint.group(arrays, f"optim/{p}")
            }
        for key in ("epoch", "iteration", "best_val_acc", "loss_history",
                    "train_acc_history", "val_acc_history"):
            setattr(self, key, meta[key])
        if meta["rng"] is not None:
            self._rng = _generator_from_state(meta["rng"])
        legacy = meta["legacy_rng"]
        np.random.set_state(  # noqa: NPY002 - dropout masks draw from the global state
            ("MT19937", arrays["rng/legacy_keys"], legacy["pos"], legacy["has_gauss"],
             legacy["cached_gaussian"])
        )
        self._run_id = meta["run_id"]


class _Report:
    """Progress of train(): a tqdm bar when someone watches, plain lines otherwise."""

    def __init__(self, verbose, print_every, total, initial):
        self.verbose, self.print_every, self.total = verbose, print_every, total
        self.bar = None
        if verbose and _interactive() and initial < total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="it", desc="train")

    def loss(self, t, loss):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        elif self.verbose and t % self.print_every == 0:
            print(f"(Iteration {t + 1} / {self.total}) loss: {loss:f}")

    def accuracy(self, epoch, num_epochs, train_acc, val_acc):
        if not self.verbose:
            return
        line = f"(Epoch {epoch} / {num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}"
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _interactive():
    """True on a terminal, or in a notebook kernel whose bar widgets are installed."""
    if sys.stderr is not None and sys.stderr.isatty():
        return True
    return "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is not None


def _split(data, part, label_ndim=1):
    """(X, y) = data['X_<part>'], data['y_<part>'] as arrays, checked for matching N."""
    if not hasattr(data, "keys") or f"X_{part}" not in data or f"y_{part}" not in data:
        keys = sorted(data) if hasattr(data, "keys") else type(data).__name__
        raise ValueError(f"Solver: data must hold X_{part} and y_{part}; got {keys}")
    X, y = np.asarray(data[f"X_{part}"]), np.asarray(data[f"y_{part}"])
    if y.ndim != label_ndim or len(X) != len(y) or len(X) == 0:
        expected = "(N,)" if label_ndim == 1 else f"(N, {', '.join('T' * (label_ndim - 1))})"
        raise ValueError(
            f"Solver: data['X_{part}'] has shape {X.shape} and data['y_{part}'] has shape "
            f"{y.shape}; expected (N, ...) and {expected} with N > 0"
        )
    return X, y


def _update_rule(rule):
    """A rule name from solver.optim, or a callable, as the function itself."""
    if callable(rule):
        return rule
    if rule not in optim.UPDATE_RULES:
        raise ValueError(
            f"Solver: update_rule {rule!r} is not one of {sorted(optim.UPDATE_RULES)} "
            "nor a function (w, dw, config) -> (next_w, config)"
        )
    return optim.UPDATE_RULES[rule]


def _count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Solver: {name} is {value!r}; expected an integer >= {minimum}")
    return int(value)


def _samples(name, value):
    """None (every sample) or a count >= 1 of samples to score."""
    return None if value is None else _count(name, value, 1)


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not 0 < value < np.inf:
        raise ValueError(f"Solver: {name} is {value!r}; expected a finite number > 0")
    return value


def _generator(seed):
    """None (numpy's global state), or a Generator from an int seed or given as is."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"Solver: seed must be an int, a numpy Generator or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"Solver: seed is {seed}; expected an integer >= 0")
    return np.random.default_rng(seed)


def _generator_from_state(state):
    """A Generator whose bit generator continues from a saved state dict."""
    name = state["bit_generator"]
    if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64"):
        raise checkpoint.CheckpointError(f"Solver.resume: cannot restore a {name} generator")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _is_array(value):
    return isinstance(value, np.ndarray)


def _model_state(model):
    """model.state_dict() (params and running statistics), or a copy of its params."""
    if hasattr(model, "state_dict"):
        return model.state_dict()
    return {k: np.array(v) for k, v in model.params.items()}


def _load_model_state(model, state):
    if hasattr(model, "load_state_dict"):
        model.load_state_dict(state)
        return
    if sorted(state) != sorted(model.params):
        raise ValueError(
            f"Solver.resume: the checkpoint holds params {sorted(state)} but the model has "
            f"{sorted(model.params)}"
        )
    model.params = {k: state[k].astype(model.params[k].dtype) for k in model.params}
