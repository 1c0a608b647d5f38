"""Training curves of a Solver: loss per iteration, train/val accuracy per epoch."""

from matplotlib.figure import Figure


def plot_history(solver, title="Training"):
    """Return a matplotlib Figure of solver's loss and accuracy histories.

    Uses matplotlib.figure.Figure directly (no pyplot): it needs no display and
    leaves pyplot's state alone. Save it with fig.savefig(path).
    """
    fig = Figure(figsize=(10, 4), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(range(1, len(solver.loss_history) + 1), solver.loss_history, lw=0.8)
    loss_ax.set(title=f"{title}: training loss", xlabel="Iteration", ylabel="Loss")
    epochs = range(len(solver.train_acc_history))
    acc_ax.plot(epochs, solver.train_acc_history, "o-", label="train")
    acc_ax.plot(epochs, solver.val_acc_history, "o-", label="val")
    acc_ax.set(title=f"{title}: accuracy", xlabel="Epoch", ylabel="Accuracy")
    acc_ax.legend(loc="lower right")
    return fig
