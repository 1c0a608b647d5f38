"""handgrad solver: update rules (solver.optim) and the Solver that trains a model with them."""

from . import optim
from .checkpoint import CheckpointError
from .sequence import SequenceSolver
from .solver import NonFiniteLossWarning, Solver
