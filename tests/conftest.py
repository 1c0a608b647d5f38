"""Fixtures shared by the whole test suite."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A generator from a fixed seed: every test sees the same numbers on every run."""
    return np.random.default_rng(231)
