"""Pictures of a training run: loss and accuracy curves, and the decision regions of a 2-D model.

Both use matplotlib.figure.Figure directly (no pyplot): they need no display and
leave pyplot's state alone. Save a figure with fig.savefig(path).
"""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure


def plot_history(solver, title="Training", subtitle=""):
    """Return a Figure of solver's loss per iteration and train/val accuracy per epoch.

    The accuracy check before the first update (epoch 0, chance level) is left
    out when later checks exist, so the axis spans the trained epochs and the
    train/val gap stays visible. A star marks the best validation epoch, the one
    whose parameters the Solver keeps. subtitle (e.g. the hyperparameters) goes
    under the title.
    """
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    fig.suptitle(f"{title}\n{subtitle}" if subtitle else title, fontsize=10)
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(range(1, len(solver.loss_history) + 1), solver.loss_history, lw=0.8)
    loss_ax.set(title="Training loss", xlabel="Iteration", ylabel="Loss")

    val = solver.val_acc_history
    first = 1 if len(val) > 1 else 0                     # skip epoch 0 when there is more
    epochs = np.arange(first, len(val))
    acc_ax.plot(epochs, solver.train_acc_history[first:], "o-", label="train")
    acc_ax.plot(epochs, val[first:], "o-", label="val")
    if val:
        best = first + int(np.argmax(val[first:]))
        acc_ax.plot(best, val[best], "*", ms=14, color="C3",
                    label=f"best val {val[best]:.3f} (epoch {best})")
    acc_ax.set(title="Accuracy", xlabel="Epoch", ylabel="Accuracy")
    acc_ax.legend(loc="lower right")
    return fig


def plot_decision_boundary(model, X, y, title="Decision regions", resolution=200):
    """Return a Figure of the class model.loss predicts over the plane, with the points on top.

    - model: predicts from 2-D inputs, model.loss(X) -> scores (N, C)
    - X: points of shape (N, 2); y: their labels of shape (N,)
    - resolution: grid points per axis
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X has shape {X.shape}; expected (N, 2)")
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low) + 1e-3
    xs, ys = (np.linspace(low[i] - margin[i], high[i] + margin[i], resolution) for i in (0, 1))
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(X.dtype)
    regions = np.argmax(model.loss(points), axis=1).reshape(grid_x.shape)

    K = int(max(regions.max(), np.max(y))) + 1
    colors = ListedColormap([f"C{k % 10}" for k in range(K)])   # class k: one colour in both
    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.subplots()
    ax.contourf(grid_x, grid_y, regions, levels=np.arange(K + 1) - 0.5, cmap=colors, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=colors, vmin=-0.5, vmax=K - 0.5, s=10,
               edgecolors="k", linewidths=0.3)
    ax.set(title=title, xlabel="x1", ylabel="x2", aspect="equal")
    return fig
