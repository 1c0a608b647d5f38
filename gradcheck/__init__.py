"""gradcheck: numeric gradient checks of hand-written backward passes.

The CS231n helpers (eval_numerical_gradient, eval_numerical_gradient_array,
grad_check_sparse, rel_error) and structured checks that return results:
check_layer for a forward/backward pair, check_loss for a loss returning
(loss, dx), check_model for a model whose loss(X, y) returns (loss, grads),
and the recipe registry (gradcheck.recipes.RECIPES) with inputs for every
layer of the contract.
"""

from .check import check_layer, check_loss
from .model import check_model
from .numeric import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from .recipes import RECIPES, Recipe
from .report import GradientCheck, LayerCheck
