"""Datasets for handgrad: each loader returns NumPy arrays, each get_*_data a
dict with X_train, y_train, X_val, y_val, X_test, y_test for the Solver.

- digits (embedded, the default): get_digits_data, load_digits
- Fashion-MNIST (IDX files): get_fashion_mnist_data, load_fashion_mnist
- CIFAR-10 (python or binary version): get_CIFAR10_data, load_CIFAR10
- the 2-D spiral: make_spiral, get_spiral_data
- pictures of many small images (the course's vis_utils): visualize_grid,
  vis_grid, vis_nn
- English words as character sequences (wamerican or the embedded sample):
  get_words_data, load_words

Missing files raise DataNotFoundError (a FileNotFoundError) saying how to get
them; corrupt files raise DataFormatError (a ValueError) naming the file.
"""

from ._common import DataFormatError, DataNotFoundError, stratified_split
from .cifar10 import get_CIFAR10_data, load_CIFAR10
from .digits import get_digits_data, load_digits
from .fashion_mnist import get_fashion_mnist_data, load_fashion_mnist, read_idx
from .spiral import get_spiral_data, make_spiral
from .vis_utils import vis_grid, vis_nn, visualize_grid
from .words import get_words_data, load_words

__all__ = [
    "DataFormatError",
    "DataNotFoundError",
    "get_CIFAR10_data",
    "get_digits_data",
    "get_fashion_mnist_data",
    "get_spiral_data",
    "get_words_data",
    "load_CIFAR10",
    "load_digits",
    "load_fashion_mnist",
    "load_words",
    "make_spiral",
    "read_idx",
    "stratified_split",
    "vis_grid",
    "vis_nn",
    "visualize_grid",
]
