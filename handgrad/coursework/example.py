"""A complete miniature course, written into a folder: the tools' worked example.

    python -c "from handgrad.coursework.example import write; write('toycourse')"
    handgrad release toyrelease --solution toycourse
    handgrad grade toyrelease --solution toycourse --splice

It holds a package `toylib` with four blanks (affine_backward, relu_backward,
softmax_loss, sgd_momentum), public tests, hidden tests, a notebook with a
code blank and a Markdown answer, and coursework.toml scoring all of them.
"""

import json
from pathlib import Path

LIB = '''\
"""A toy layer library with solution markers."""

import numpy as np


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    # BEGIN SOLUTION affine_backward
    # HINT: dx = dout w^T, dw = x^T dout, db sums dout over the batch
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    # END SOLUTION
    return dx, dw, db


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    text = """
    # BEGIN SOLUTION this_is_a_string_not_a_marker
    """
    ### BEGIN SOLUTION [relu_backward]
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


def softmax_loss(x, y):
    # BEGIN SOLUTION softmax_loss
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = len(x)
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    # END SOLUTION
    return loss, dx


def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    # BEGIN SOLUTION sgd_momentum
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    # END SOLUTION
    config["velocity"] = v
    return next_w, config
'''

PUBLIC = '''\
import numpy as np

import toylib


def test_affine_forward_known():
    out, _ = toylib.affine_forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
    assert np.allclose(out, 3.0)


def test_relu_backward_known():
    _, cache = toylib.relu_forward(np.array([1.0, -2.0, 3.0, -1.0]))
    dx = toylib.relu_backward(np.array([4.0, -1.0, 5.0, 9.0]), cache)
    assert np.allclose(dx, [4.0, 0.0, 5.0, 0.0])
'''

HIDDEN = '''\
import numpy as np

import toylib


def test_relu_backward_zero_at_kink():
    _, cache = toylib.relu_forward(np.zeros(3))
    assert np.all(toylib.relu_backward(np.ones(3), cache) == 0)


def test_softmax_loss_stable():
    loss, dx = toylib.softmax_loss(np.array([[1e4, 0.0, -1e4]]), np.array([0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
'''

SPEC = '''\
[course]
name = "toy course"
public_tests = ["tests"]
hidden_tests = "tests/hidden"
instructor_only = ["NOTES.md"]
notebooks = ["notebooks/*.ipynb"]
packages = ["toylib"]
timeout = 20
memory_mb = 2048

[blanks]
affine_backward = { file = "toylib/__init__.py", about = "dx, dw, db of x @ w + b" }
relu_backward = { file = "toylib/__init__.py", about = "dx of max(0, x)" }
softmax_loss = { file = "toylib/__init__.py", about = "softmax cross-entropy and dx" }
sgd_momentum = { file = "toylib/__init__.py", about = "the momentum update" }

[[tests]]
name = "affine_backward"
blank = "affine_backward"
kind = "layer"
forward = "toylib:affine_forward"
backward = "toylib:affine_backward"
inputs = ["randn(4, 3)", "randn(3, 5)", "randn(5)"]
grads = ["dx", "dw", "db"]
points = { dx = 2, dw = 2, db = 1 }

[[tests]]
name = "relu_backward"
blank = "relu_backward"
kind = "layer"
forward = "toylib:relu_forward"
backward = "toylib:relu_backward"
inputs = ["randn(4, 6)"]
grads = ["dx"]
points = { dx = 2 }

[[tests]]
name = "softmax_loss"
blank = "softmax_loss"
kind = "loss"
function = "toylib:softmax_loss"
inputs = ["randn(5, 4)", "labels(5, 4)"]
grads = ["dx"]
points = { loss = 1, dx = 2 }

[[tests]]
name = "sgd_momentum"
blank = "sgd_momentum"
kind = "update"
function = "toylib:sgd_momentum"
inputs = ["randn(3, 4)", "randn(3, 4)"]
config = { learning_rate = 0.1 }
points = { next_w = 1, velocity = 1 }

[[tests]]
name = "relu_backward public example"
blank = "relu_backward"
kind = "layer"
forward = "toylib:relu_forward"
backward = "toylib:relu_backward"
inputs = ["array([1.0, -2.0, 3.0, -1.0])"]
grads = ["dx"]
points = { dx = 1 }

[[tests]]
name = "relu_backward at the kink"
blank = "relu_backward"
kind = "layer"
forward = "toylib:relu_forward"
backward = "toylib:relu_backward"
inputs = ["zeros(3)"]
grads = ["dx"]
points = { dx = 1 }
hidden = true

[[tests]]
name = "softmax_loss at 1e4"
blank = "softmax_loss"
kind = "loss"
function = "toylib:softmax_loss"
inputs = ["array([[1e4, 0.0, -1e4]])", "array([0])"]
grads = ["dx"]
points = { loss = 1 }
hidden = true
'''


def _notebook():
    def cell(kind, source):
        extra = {"outputs": [], "execution_count": None} if kind == "code" else {}
        return {"cell_type": kind, "metadata": {}, "source": source, **extra}

    cells = [
        cell("markdown", "# Toy notebook\n\nWhy does ReLU route the gradient?\n\n"
                         "<!-- BEGIN SOLUTION -->\nBecause max routes it to the larger input.\n"
                         "<!-- END SOLUTION -->"),
        cell("code", "import numpy as np\nimport toylib\n"
                     "x, w = np.ones((1, 2)), np.ones((2, 2))\n"
                     "print(toylib.affine_forward(x, w, np.zeros(2))[0])"),
        cell("code", "def double(v):\n    ### BEGIN SOLUTION\n    return 2 * v\n"
                     "    ### END SOLUTION\n\nassert double(2) == 4"),
    ]
    cells[1]["outputs"] = [{"name": "stdout", "output_type": "stream", "text": "[[2. 2.]]\n"}]
    cells[1]["execution_count"] = 1
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                         "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 4}


def write(root):
    """Write the example course into root (created); return root as a Path."""
    root = Path(root)
    files = {
        "coursework.toml": SPEC,
        "NOTES.md": "Instructor notes: never released.\n",
        "toylib/__init__.py": LIB,
        "tests/test_toy_public.py": PUBLIC,
        "tests/hidden/test_toy_hidden.py": HIDDEN,
        "notebooks/toy.ipynb": json.dumps(_notebook(), indent=1) + "\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root
