"""Heatmaps of a grid of numbers, e.g. the gap to retraining over a method × add-on grid.

The figure of the feasible-update masks experiments (Dine et al. 2025, arXiv 2511.02435;
``experiments/masks/``): base methods down, add-ons across, the best cell of each row boxed.

As everywhere in :mod:`jaxunlearn.report.plots` (which re-exports this module's public names),
a plot function writes a PNG and returns its path, or ``(path, figure)`` with
``return_figure=True``.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from jaxunlearn.report._plotting import _pyplot, _save, _wrap

__all__ = ["heatmap"]


def heatmap(
    values: Any,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    path: str | os.PathLike,
    *,
    errors: Any = None,
    title: str = "",
    colorbar_label: str = "",
    lower_is_better: bool = True,
    return_figure: bool = False,
):
    """A grid of numbers as coloured cells, each written in its cell (``mean ± error``).

    For the masks grid: base methods down, add-ons across, the gap to retraining in each cell.
    The best cell of each row is boxed (the smallest with ``lower_is_better``). Non-finite
    cells are left grey and blank.

    Returns:
      The PNG's path, or ``(path, figure)`` with ``return_figure=True``.
    """
    plt = _pyplot()
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"values: need a non-empty 2-d grid, got shape {grid.shape}")
    if len(row_labels) != grid.shape[0] or len(column_labels) != grid.shape[1]:
        raise ValueError(f"row_labels, column_labels: need {grid.shape[0]} and {grid.shape[1]} "
                         f"labels, got {len(row_labels)} and {len(column_labels)}")
    spread = None if errors is None else np.asarray(errors, dtype=np.float64)
    if spread is not None and spread.shape != grid.shape:
        raise ValueError(f"errors: shape {spread.shape} differs from values' {grid.shape}")
    finite = np.isfinite(grid)
    figure, axis = plt.subplots(
        figsize=(1.8 + 1.25 * grid.shape[1], 1.2 + 0.5 * grid.shape[0]))
    cmap = plt.get_cmap("viridis_r" if lower_is_better else "viridis")
    cmap = cmap.with_extremes(bad="lightgrey")
    image = axis.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto")
    bar = figure.colorbar(image, ax=axis)
    if colorbar_label:
        bar.set_label(colorbar_label)
    low, high = (grid[finite].min(), grid[finite].max()) if finite.any() else (0.0, 1.0)
    middle = (low + high) / 2
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if not finite[i, j]:
                continue
            text = f"{grid[i, j]:.2f}"
            if spread is not None and np.isfinite(spread[i, j]):
                text += f"\n± {spread[i, j]:.2f}"
            dark = (grid[i, j] > middle) == lower_is_better
            axis.text(j, i, text, ha="center", va="center", fontsize=7,
                      color="white" if dark else "black")
        if finite[i].any():
            row = np.where(finite[i], grid[i], np.inf if lower_is_better else -np.inf)
            best = int(np.argmin(row) if lower_is_better else np.argmax(row))
            axis.add_patch(plt.Rectangle((best - 0.5, i - 0.5), 1, 1, fill=False,
                                         edgecolor="red", lw=1.6))
    axis.set_xticks(range(grid.shape[1]), [str(label) for label in column_labels],
                    rotation=30, ha="right", fontsize=8)
    axis.set_yticks(range(grid.shape[0]), [str(label) for label in row_labels], fontsize=8)
    if title:
        axis.set_title(_wrap(title), fontsize=9)
    figure.tight_layout()
    return _save(figure, path, return_figure)
