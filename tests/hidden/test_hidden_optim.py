"""Hidden grading tests (never released): the update rules' state."""

import numpy as np

from solver.optim import adam


def test_adam_first_step_is_bias_corrected():
    w, dw = np.zeros(3), np.array([1.0, -2.0, 0.5])
    next_w, config = adam(w, dw, {"learning_rate": 0.1})
    assert config["t"] == 1
    assert np.allclose(next_w, -0.1 * np.sign(dw), rtol=1e-6)
