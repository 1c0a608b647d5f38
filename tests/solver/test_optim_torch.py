"""solver.optim against torch.optim: the same trajectory over several steps."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from solver import optim  # noqa: E402

pytestmark = pytest.mark.torch

STEPS = 7


def torch_trajectory(make_optimizer, w0, grads):
    w = torch.tensor(w0, requires_grad=True)
    opt = make_optimizer([w])
    for dw in grads:
        w.grad = torch.tensor(dw)
        opt.step()
    return w.detach().numpy()


def our_trajectory(rule, config, w0, grads):
    w = w0
    for dw in grads:
        w, config = rule(w, dw, config)
    return w


CASES = {
    "sgd": (lambda p: torch.optim.SGD(p, lr=0.05), optim.sgd, {"learning_rate": 0.05}),
    "sgd_momentum": (
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        optim.sgd_momentum,
        {"learning_rate": 0.05, "momentum": 0.9},
    ),
    "rmsprop": (
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8),
        optim.rmsprop,
        {"learning_rate": 0.01, "decay_rate": 0.99, "epsilon": 1e-8},
    ),
    "adam": (
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8),
        optim.adam,
        {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_matches_torch_optim(name, dtype, rtol, rng):
    make_optimizer, rule, config = CASES[name]
    w0 = rng.standard_normal((6, 5)).astype(dtype)
    grads = [rng.standard_normal((6, 5)).astype(dtype) for _ in range(STEPS)]
    expected = torch_trajectory(make_optimizer, w0, grads)
    ours = our_trajectory(rule, dict(config), w0, grads)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * 1e-2)
