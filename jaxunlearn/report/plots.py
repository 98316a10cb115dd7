"""Plots of results (matplotlib, headless)."""

from __future__ import annotations

import os
from typing import Sequence


def bar_chart(
    rows: Sequence[dict],
    metrics: Sequence[str],
    path: str | os.PathLike,
    *,
    label_key: str = "method",
    title: str = "",
    reference: str | None = "retrain",
) -> str:
    """One panel per metric, one bar per row, each panel on its own scale.

    Metrics as different as UA (near 0) and RA (near 100) stay readable side by side. The
    ``reference`` row (the retrained model) is hatched and drawn as a dashed line across its
    panel, so the distance of each method to it is what the eye reads. Returns the PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [str(row[label_key]) for row in rows]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figure, axes = plt.subplots(
        1, len(metrics), figsize=(2.2 + (0.9 + 0.3 * len(rows)) * len(metrics), 3.8),
        squeeze=False,
    )
    crowded = len(rows) > 5
    for axis, metric in zip(axes[0], metrics):
        values = [float(row[metric]) for row in rows]
        bars = axis.bar(
            range(len(rows)),
            values,
            color=[colours[i % len(colours)] for i in range(len(rows))],
            hatch=["//" if label == reference else None for label in labels],
            edgecolor=["black" if label == reference else "none" for label in labels],
        )
        axis.bar_label(bars, fmt="%.3g", fontsize=6 if crowded else 7, padding=1,
                       rotation=90 if crowded else 0)
        if reference in labels:
            axis.axhline(values[labels.index(reference)], color="black", lw=0.8, ls="--")
        low, high = min(values), max(values)
        if low > 0.5 * high > 0:  # all values far from zero (accuracies near 100): zoom in
            span = max(high - low, 0.01 * high)
            axis.set_ylim(low - 1.5 * span, high + (0.8 if crowded else 0.5) * span)
        else:
            low = min(low, 0.0)
            span = (high - low) or 1.0
            axis.set_ylim(low - 0.02 * span, high + (0.3 if crowded else 0.15) * span)
        axis.set_title(metric)
        axis.set_xticks([])
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[i % len(colours)]) for i in range(len(rows))]
    figure.legend(handles, labels, loc="lower center", ncols=min(len(rows), 6), fontsize=8,
                  frameon=False)
    if title:
        figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
