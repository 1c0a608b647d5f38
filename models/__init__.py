"""handgrad models: `params`, `reg` and `loss(X, y=None)`, plus save/load of their state."""

from .base import Model
from .cnn import ThreeLayerConvNet
from .fc_net import FullyConnectedNet, TwoLayerNet
from .rnn import CaptioningRNN
