"""Plots of results (matplotlib, headless)."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np


def bar_chart(
    rows: Sequence[dict],
    metrics: Sequence[str],
    path: str | os.PathLike,
    *,
    label_key: str = "method",
    title: str = "",
    ylabel: str = "%",
    reference: str | None = "retrain",
) -> str:
    """Grouped bars: one group per metric, one bar per row; the reference row is hatched.

    Returns the path of the written PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [str(row[label_key]) for row in rows]
    positions = np.arange(len(metrics))
    width = 0.8 / max(len(rows), 1)
    figure, axis = plt.subplots(figsize=(1.6 + 1.5 * len(metrics) + 0.3 * len(rows), 4.0))
    for i, row in enumerate(rows):
        values = [row[metric] for metric in metrics]
        bars = axis.bar(
            positions + (i - (len(rows) - 1) / 2) * width,
            values,
            width,
            label=labels[i],
            hatch="//" if labels[i] == reference else None,
            edgecolor="black" if labels[i] == reference else None,
        )
        axis.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    axis.set_xticks(positions, metrics)
    axis.set_ylabel(ylabel)
    axis.set_ylim(0, 105 if ylabel == "%" else None)
    if title:
        axis.set_title(title)
    axis.legend(fontsize=8, ncols=min(len(rows), 5), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    figure.tight_layout()
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
