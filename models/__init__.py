"""handgrad models: `params`, `reg` and `loss(X, y=None)`, plus save/load of their state.

load_model(path) rebuilds a saved model (or the best one of a `handgrad train`
run folder) in one call.
"""

from .base import Model, load_model
from .bigram import BigramLM
from .charlm import CharRNN, CharTransformer
from .cnn import ThreeLayerConvNet
from .fc_net import FullyConnectedNet, TwoLayerNet
from .rnn import CaptioningRNN
