"""The course's vis_utils: visualize_grid, vis_grid, vis_nn (layout and rescaling)."""

import numpy as np
import pytest

from datasets import vis_grid, vis_nn, visualize_grid
from datasets.vis_utils import visualize_grid as visualize_grid_from_module


def test_visualize_grid_places_each_image_rescaled_on_its_own(rng):
    Xs = rng.normal(size=(5, 3, 4, 2))                    # G = 3: a 3 x 3 grid, 4 cells empty
    grid = visualize_grid(Xs, ubound=255.0, padding=1)
    assert grid.shape == (3 * 3 + 2, 3 * 4 + 2, 2)
    for n, img in enumerate(Xs):
        top, left = (n // 3) * 4, (n % 3) * 5
        cell = grid[top:top + 3, left:left + 4]
        np.testing.assert_allclose(cell, 255 * (img - img.min()) / (img.max() - img.min()))
        np.testing.assert_allclose([cell.min(), cell.max()], [0, 255])
    assert not grid[3].any()                             # the padding stays 0
    assert not grid[:, 4].any()
    assert not grid[8:, 5:].any()                        # cells after the fifth image stay 0
    assert visualize_grid_from_module is visualize_grid


def test_visualize_grid_of_first_layer_weights_as_the_notebooks_call_it(rng):
    W1 = rng.normal(size=(8 * 8, 10))                    # digits: D = 64, 10 hidden units
    grid = visualize_grid(W1.T.reshape(-1, 1, 8, 8).transpose(0, 2, 3, 1), padding=3)
    assert grid.shape == (4 * 8 + 3 * 3, 4 * 8 + 3 * 3, 1)
    np.testing.assert_allclose(grid.max(), 255.0)


def test_visualize_grid_of_a_constant_image_is_zeros_not_nan():
    grid = visualize_grid(np.ones((1, 2, 2, 1)), ubound=1.0, padding=0)
    np.testing.assert_array_equal(grid, np.zeros((2, 2, 1)))


def test_vis_grid_borders_take_the_minimum_and_all_is_scaled_together():
    Xs = np.arange(3 * 2 * 2 * 1, dtype=np.float32).reshape(3, 2, 2, 1) + 5
    grid = vis_grid(Xs)
    assert (grid.shape, grid.dtype) == ((2 * 3, 2 * 3, 1), np.float32)
    expected = (Xs - 5) / (Xs.max() - 5)                 # one scale for every image
    np.testing.assert_allclose(grid[0:2, 0:2], expected[0])
    np.testing.assert_allclose(grid[0:2, 3:5], expected[1])
    np.testing.assert_allclose(grid[3:5, 0:2], expected[2])
    assert not grid[2].any()
    assert not grid[3:5, 3:5].any()


def test_vis_nn_lays_out_rows_with_borders_of_one():
    rows = [[np.zeros((2, 2, 1)), np.full((2, 2, 1), 0.5)], [np.full((2, 2, 1), 0.25)] * 2]
    picture = vis_nn(rows)
    assert picture.shape == (2 * 3, 2 * 3, 1)
    np.testing.assert_allclose(picture[0:2, 3:5], 0.5)  # the border value 1 is the maximum
    np.testing.assert_allclose(picture[3:5, 0:2], 0.25)
    np.testing.assert_allclose(picture[2], 1.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: visualize_grid(np.zeros((2, 3, 3))), ValueError,
         r"visualize_grid: Xs has shape \(2, 3, 3\); expected \(N, H, W, C\)"),
        (lambda: visualize_grid(np.ones((1, 2, 2, 1)), padding=-1), ValueError,
         r"visualize_grid: padding is -1; expected an integer >= 0"),
        (lambda: vis_grid(np.array([["a"]])), TypeError, r"vis_grid: Xs must be a numeric"),
        (lambda: vis_nn([]), ValueError, r"vis_nn: rows is empty"),
        (lambda: vis_nn([[np.zeros((2, 2, 1)), np.zeros((3, 2, 1))]]), ValueError,
         r"vis_nn: image \(0, 1\) has shape \(3, 2, 1\); expected \(2, 2, 1\)"),
    ],
)
def test_vis_utils_reject_bad_input_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()
