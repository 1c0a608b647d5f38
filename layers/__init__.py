"""handgrad layers: every forward returns (out, cache), every backward takes (dout, cache).

All public names of the API contract are importable from here.
"""

from ._checks import NonFiniteError
from .activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .affine import affine_backward, affine_forward
from .attention import (
    attention_backward,
    attention_forward,
    causal_mask,
    multihead_attention_backward,
    multihead_attention_forward,
    padding_mask,
    self_attention_backward,
    self_attention_forward,
)
from .conv import conv_backward_fast, conv_backward_naive, conv_forward_fast, conv_forward_naive
from .conv_sandwich import (
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
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
from .lstm import (
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .pool import (
    max_pool_backward_fast,
    max_pool_backward_naive,
    max_pool_forward_fast,
    max_pool_forward_naive,
)
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .sandwich import affine_relu_backward, affine_relu_forward
from .spatial_norm import (
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from .temporal import (
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
