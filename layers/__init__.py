"""handgrad layers: every forward returns (out, cache), every backward takes (dout, cache).

All public names of the API contract are importable from here.
"""

from .activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .affine import affine_backward, affine_forward
from .dropout import dropout_backward, dropout_forward
from .gates import (
    add_backward,
    add_forward,
    max_backward,
    max_forward,
    multiply_backward,
    multiply_forward,
)
from .losses import mse_loss, softmax_loss, svm_loss
from .normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .sandwich import affine_relu_backward, affine_relu_forward
