"""Tile many small images into one, as the course's vis_utils does (names and behaviour).

Shapes: N images of H x W pixels and C channels, channels last: Xs is (N, H, W, C).
First-layer weights W1 of shape (D, H1) become images with
W1.T.reshape(-1, C, H, W).transpose(0, 2, 3, 1); conv filters (F, C, HH, WW) with
w.transpose(0, 2, 3, 1). The result goes to plt.imshow (C = 1: take [:, :, 0]).
"""

import math

import numpy as np


def _images(func, Xs):
    """Xs as a float array of shape (N, H, W, C) with N >= 1."""
    Xs = np.asarray(Xs)
    if Xs.dtype.kind not in "biuf":
        raise TypeError(f"{func}: Xs must be a numeric array, got dtype {Xs.dtype}")
    if Xs.ndim != 4 or len(Xs) == 0:
        raise ValueError(f"{func}: Xs has shape {Xs.shape}; expected (N, H, W, C) with N >= 1")
    return Xs


def _rescale(img, low, high, ubound=1.0):
    """ubound * (img - low) / (high - low); a constant image (high == low) becomes zeros."""
    if high == low:
        return np.zeros(img.shape)
    return ubound * (img - low) / (high - low)


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Square grid of the N images, each rescaled on its own to [0, ubound].

    Inputs:
    - Xs: images of shape (N, H, W, C)
    - ubound: the largest value of each rescaled image (255.0; 1.0 for imshow of floats)
    - padding: pixels of zeros between neighbours

    Returns the grid, float64 of shape (G * H + (G - 1) * padding, G * W + (G - 1) * padding, C)
    with G = ceil(sqrt(N)); cells past the N-th stay 0.
    """
    Xs = _images("visualize_grid", Xs)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"visualize_grid: padding is {padding!r}; expected an integer >= 0")
    N, H, W, C = Xs.shape
    G = math.ceil(math.sqrt(N))
    grid = np.zeros((G * H + (G - 1) * padding, G * W + (G - 1) * padding, C))
    for n, img in enumerate(Xs):
        top, left = (n // G) * (H + padding), (n % G) * (W + padding)
        grid[top:top + H, left:left + W] = _rescale(img, img.min(), img.max(), ubound)
    return grid


def vis_grid(Xs):
    """Square grid of the N images with a 1-pixel border, rescaled together to [0, 1].

    Inputs:
    - Xs: images of shape (N, H, W, C)

    Returns the grid of shape (G * (H + 1), G * (W + 1), C), G = ceil(sqrt(N)), in
    Xs's dtype when it is a float dtype (float64 otherwise); borders and empty
    cells take the smallest value of Xs before the rescaling, so they end up 0.
    """
    Xs = _images("vis_grid", Xs)
    N = len(Xs)
    G = math.ceil(math.sqrt(N))
    rows = [list(Xs[i:i + G]) for i in range(0, N, G)]
    return _tile("vis_grid", rows, G, Xs.min())


def vis_nn(rows):
    """Rows of images (e.g. one row per network, one column per filter) in one picture.

    Inputs:
    - rows: a list of N lists of D images, each of shape (H, W, C)

    Returns the picture of shape (N * (H + 1), D * (W + 1), C), rescaled together
    to [0, 1]; the 1-pixel borders start as 1 before the rescaling.
    """
    if len(rows) == 0 or len(rows[0]) == 0:
        raise ValueError("vis_nn: rows is empty; expected a list of lists of (H, W, C) images")
    return _tile("vis_nn", rows, len(rows[0]), 1.0)


def _tile(func, rows, columns, fill):
    """Paste rows of (H, W, C) images into a grid with 1-pixel borders of fill; scale to [0, 1]."""
    first = _images(func, np.asarray(rows[0][0])[None])[0]
    H, W, C = first.shape
    dtype = first.dtype if first.dtype.kind == "f" else np.float64
    picture = np.full((len(rows) * (H + 1), columns * (W + 1), C), fill, dtype=dtype)
    for y, row in enumerate(rows):
        if len(row) > columns:
            raise ValueError(f"{func}: row {y} has {len(row)} images; expected at most {columns}")
        for x, img in enumerate(row):
            img = np.asarray(img)
            if img.shape != (H, W, C):
                raise ValueError(f"{func}: image ({y}, {x}) has shape {img.shape}; expected "
                                 f"{(H, W, C)} like the first")
            picture[y * (H + 1):(y + 1) * (H + 1) - 1, x * (W + 1):(x + 1) * (W + 1) - 1] = img
    return _rescale(picture, picture.min(), picture.max()).astype(dtype, copy=False)
