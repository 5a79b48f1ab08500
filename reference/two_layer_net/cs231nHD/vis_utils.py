"""Visualising weights as an image grid (cs231n's vis_utils.visualize_grid)."""

from __future__ import annotations

from math import ceil, sqrt

import numpy as np


def visualize_grid(Xs: np.ndarray, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """
    Reshape a 4D tensor of image data to a grid for easy visualization.

    Inputs:
    - Xs: Data of shape (N, H, W, C)
    - ubound: Output grid will have values scaled to the range [0, ubound]
    - padding: The number of blank pixels between elements of the grid

    Returns an array of shape (grid_height, grid_width, C); for MNIST weights
    (C = 1) squeeze it and show it with a grey colour map.
    """
    (N, H, W, C) = Xs.shape
    grid_size = int(ceil(sqrt(N)))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    next_idx = 0
    y0, y1 = 0, H
    for y in range(grid_size):
        x0, x1 = 0, W
        for x in range(grid_size):
            if next_idx < N:
                img = Xs[next_idx]
                low, high = np.min(img), np.max(img)
                # Each image is stretched to [0, ubound] on its own. A constant image
                # (e.g. the weights of a dead unit) would divide by zero in cs231n's
                # original; it is drawn black instead of as NaNs.
                if high > low:
                    grid[y0:y1, x0:x1] = ubound * (img - low) / (high - low)
                next_idx += 1
            x0 += W + padding
            x1 += W + padding
        y0 += H + padding
        y1 += H + padding
    return grid
