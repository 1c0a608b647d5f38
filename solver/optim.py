"""First-order update rules: each is (w, dw, config=None) -> (next_w, config).

- w: the current weights, any shape
- dw: the gradient of the loss with respect to w, same shape
- config: a dict of hyperparameters (learning_rate, momentum, ...) and of the
  rule's state between steps (velocity, cache, m, v, t). It is updated in place
  and returned; pass the same dict again at the next step. Missing entries get
  their defaults.

next_w is a new array of w's dtype (float32 weights stay float32); w, dw and
the state arrays the caller put in config are never modified.
"""

import numpy as np

from layers._checks import as_float, check_same_shape


# Hyperparameters the rules read: the test each value must pass, and its wording.
def _fraction(v):
    return 0 <= v < 1


BOUNDS = {
    "learning_rate": (lambda v: 0 <= v < np.inf, "a finite number >= 0"),
    "momentum": (_fraction, "a number in [0, 1)"),
    "decay_rate": (_fraction, "a number in [0, 1)"),
    "beta1": (_fraction, "a number in [0, 1)"),
    "beta2": (_fraction, "a number in [0, 1)"),
    "epsilon": (lambda v: 0 < v < np.inf, "a finite number > 0"),
}


def check_config(func, config):
    """Require config to be a dict (or None) whose known hyperparameters are in range.

    learning_rate >= 0; momentum, decay_rate, beta1, beta2 in [0, 1) (1 would
    never forget, and adam divides by 1 - beta1**t = 0); epsilon > 0. Returns
    config ({} for None); other keys (the rules' state) are not looked at.
    """
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise TypeError(f"{func}: config must be a dict or None, got {type(config).__name__}")
    for key, (valid, expected) in BOUNDS.items():
        value = config.get(key, 0.5)              # absent: the rule's default, valid
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{func}: {key} is {value!r}; expected {expected}")
        if not valid(value):
            raise ValueError(f"{func}: {key} is {value!r}; expected {expected}")
    return config


def _check(func, w, dw, config):
    """Return (w, dw as w's dtype, config): the common first lines of every rule."""
    w = as_float(func, "w", w)
    dw = as_float(func, "dw", dw, like=w)
    check_same_shape(func, "w", w, "dw", dw)
    config = check_config(func, config)
    return w, dw.astype(w.dtype, copy=False), config


def _state(config, key, w):
    """The state array config[key] as w's dtype, or zeros like w when absent."""
    state = config.get(key)
    return np.zeros_like(w) if state is None else np.asarray(state, dtype=w.dtype)


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w <- w - learning_rate * dw.

    config: learning_rate (1e-2).
    """
    w, dw, config = _check("sgd", w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w.astype(w.dtype, copy=False), config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

        v <- momentum * v - learning_rate * dw
        w <- w + v

    config: learning_rate (1e-2), momentum (0.9), velocity (zeros like w).
    """
    w, dw, config = _check("sgd_momentum", w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = _state(config, "velocity", w)
    # BEGIN SOLUTION sgd_momentum
    # HINT: v = momentum * v - learning_rate * dw, stored in config["velocity"] in w's dtype;
    # HINT: then next_w = w + v
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v.astype(w.dtype, copy=False)
    next_w = w + config["velocity"]
    # END SOLUTION
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: divide the step by a running root mean square of the gradient.

        cache <- decay_rate * cache + (1 - decay_rate) * dw**2
        w <- w - learning_rate * dw / (sqrt(cache) + epsilon)

    config: learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8),
    cache (zeros like w).
    """
    w, dw, config = _check("rmsprop", w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    decay = config["decay_rate"]
    # BEGIN SOLUTION rmsprop
    # HINT: the running average of dw**2 starts from _state(config, "cache", w) and goes back
    # HINT: into config["cache"] in w's dtype; divide the step by its root plus epsilon
    cache = decay * _state(config, "cache", w) + (1 - decay) * dw**2
    config["cache"] = cache.astype(w.dtype, copy=False)
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    # END SOLUTION
    return next_w.astype(w.dtype, copy=False), config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient and on its square, both bias-corrected.

        t <- t + 1                       (before it is used below)
        m <- beta1 * m + (1 - beta1) * dw
        v <- beta2 * v + (1 - beta2) * dw**2
        w <- w - learning_rate * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + epsilon)

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    m and v (zeros like w), t (0).
    """
    w, dw, config = _check("adam", w, dw, config)
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    beta1, beta2 = config["beta1"], config["beta2"]
    # BEGIN SOLUTION adam
    # HINT: count the step first (t starts at 0 in config), update m and v from
    # HINT: _state(config, "m", w) and _state(config, "v", w), store all three, bias-correct
    t = int(config.get("t", 0)) + 1
    m = beta1 * _state(config, "m", w) + (1 - beta1) * dw
    v = beta2 * _state(config, "v", w) + (1 - beta2) * dw**2
    config["m"] = m.astype(w.dtype, copy=False)
    config["v"] = v.astype(w.dtype, copy=False)
    config["t"] = t
    m_hat = config["m"] / (1 - beta1**t)             # bias correction: m starts at 0
    v_hat = config["v"] / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    # END SOLUTION
    return next_w.astype(w.dtype, copy=False), config


UPDATE_RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam}
