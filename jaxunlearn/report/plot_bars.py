"""Metric bars with the retrained model's value as a reference line.

:func:`bar_chart`: a row of panels, one per metric, one bar per model; :func:`metric_grid`: a
grid of panels with the models on the vertical axis. Figures of the method comparisons of
:mod:`jaxunlearn.compare` (UA / RA / TA / MIA against retraining); no paper of their own.

As everywhere in :mod:`jaxunlearn.report.plots` (which re-exports this module's public names),
a plot function writes a PNG and returns its path, or ``(path, figure)`` with
``return_figure=True``.
"""

from __future__ import annotations

import math
import os
from typing import Mapping, Sequence

import numpy as np

from jaxunlearn.report._plotting import _number, _pyplot, _save

__all__ = ["bar_chart", "metric_grid"]


def bar_chart(
    rows: Sequence[dict],
    metrics: Sequence[str],
    path: str | os.PathLike,
    *,
    label_key: str = "method",
    title: str = "",
    reference: str | None = "retrain",
    reference_key: str | None = None,
    return_figure: bool = False,
):
    """One panel per metric, one bar per row, each panel on its own scale.

    Metrics as different as UA (near 0) and RA (near 100) stay readable side by side. The
    reference rows (the retrained model: ``row[reference_key] == reference``, ``reference_key``
    defaulting to ``label_key``) are hatched and each drawn as a dashed horizontal line across
    every panel, so the distance of each method to it is what the eye reads. Missing or
    non-finite values leave an empty slot. Returns the PNG's path.
    """
    plt = _pyplot()
    if not rows:
        raise ValueError("rows: nothing to plot")
    if not metrics:
        raise ValueError("metrics: name at least one metric")
    reference_key = reference_key or label_key
    labels = [str(row[label_key]) for row in rows]
    is_reference = [reference is not None and str(row.get(reference_key)) == reference
                    for row in rows]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figure, axes = plt.subplots(
        1, len(metrics), figsize=(2.2 + (0.9 + 0.3 * len(rows)) * len(metrics), 3.8),
        squeeze=False,
    )
    crowded = len(rows) > 5
    for axis, metric in zip(axes[0], metrics):
        values = [_number(row.get(metric)) for row in rows]
        finite = [value for value in values if math.isfinite(value)]
        bars = axis.bar(
            range(len(rows)),
            [value if math.isfinite(value) else 0.0 for value in values],
            color=[colours[i % len(colours)] for i in range(len(rows))],
            hatch=["//" if ref else None for ref in is_reference],
            edgecolor=["black" if ref else "none" for ref in is_reference],
        )
        texts = [f"{value:.3g}" if math.isfinite(value) else "" for value in values]
        axis.bar_label(bars, labels=texts, fontsize=6 if crowded else 7, padding=1,
                       rotation=90 if crowded else 0)
        for value, ref in zip(values, is_reference):
            if ref and math.isfinite(value):
                axis.axhline(value, color="black", lw=0.8, ls="--")
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if low > 0.5 * high > 0:  # all values far from zero (accuracies near 100): zoom in
            span = max(high - low, 0.01 * high)
            axis.set_ylim(low - 1.5 * span, high + (0.8 if crowded else 0.5) * span)
        else:
            low = min(low, 0.0)
            span = (high - low) or 1.0
            axis.set_ylim(low - 0.02 * span, high + (0.3 if crowded else 0.15) * span)
        axis.set_title(metric)
        axis.set_xticks([])
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[i % len(colours)])
               for i in range(len(rows))]
    legend_labels = list(labels)
    if any(is_reference):
        handles.append(plt.Line2D([], [], color="black", lw=0.8, ls="--"))
        legend_labels.append(f"{reference} (line)")
    figure.legend(handles, legend_labels, loc="lower center",
                  ncols=min(len(legend_labels), 6), fontsize=8, frameon=False)
    if title:
        figure.suptitle(title)
    rows_of_legend = math.ceil(len(legend_labels) / 6)
    figure.tight_layout(rect=(0, 0.04 + 0.04 * rows_of_legend, 1, 1))
    return _save(figure, path, return_figure)


def metric_grid(
    rows: Sequence[dict],
    metrics: Sequence[str],
    path: str | os.PathLike,
    *,
    label_key: str = "method",
    title: str = "",
    reference: str = "retrain",
    columns: int = 3,
    descriptions: Mapping[str, str] | None = None,
    return_figure: bool = False,
):
    """A grid of panels, one per metric, with the models on the vertical axis of every panel.

    Each panel is a horizontal bar per row, its value written at the bar's end, and the
    reference row's value (the retrained model) drawn as a dashed vertical line, so how far each
    method lands from it reads at a glance. ``descriptions`` adds a short subtitle to a metric's
    panel (e.g. "higher: forgot more"). Missing or non-finite values leave an empty slot.
    Returns the PNG's path.
    """
    plt = _pyplot()
    if not rows:
        raise ValueError("rows: nothing to plot")
    if not metrics:
        raise ValueError("metrics: name at least one metric")
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int, got {columns!r}")
    labels = [str(row[label_key]) for row in rows]
    is_reference = [label == reference for label in labels]
    columns = min(columns, len(metrics))
    grid_rows = math.ceil(len(metrics) / columns)
    figure, axes = plt.subplots(
        grid_rows, columns, figsize=(3.4 * columns + 1.6, 0.32 * len(rows) * grid_rows + 1.4),
        squeeze=False, sharey=True)
    positions = np.arange(len(rows))[::-1]  # the first row on top
    for index, axis in enumerate(axes.flat):
        if index >= len(metrics):
            axis.set_visible(False)
            continue
        metric = metrics[index]
        values = [_number(row.get(metric)) for row in rows]
        finite = [value for value in values if math.isfinite(value)]
        colours = ["0.55" if ref else "tab:blue" for ref in is_reference]
        bars = axis.barh(positions, [v if math.isfinite(v) else 0.0 for v in values],
                         color=colours, height=0.7)
        axis.bar_label(bars, labels=[f"{v:.3g}" if math.isfinite(v) else "" for v in values],
                       fontsize=7, padding=2)
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if low > 0.5 * high > 0:  # all far from zero (accuracies near 100): zoom in
            span = max(high - low, 0.01 * high)
            axis.set_xlim(low - 1.0 * span, high + 0.35 * span)
        else:
            low = min(low, 0.0)
            axis.set_xlim(low, high + 0.3 * ((high - low) or 1.0))
        for value, ref in zip(values, is_reference):
            if ref and math.isfinite(value):
                axis.axvline(value, color="black", lw=1.0, ls="--")
        subtitle = (descriptions or {}).get(metric)
        axis.set_title(metric + (f"\n{subtitle}" if subtitle else ""), fontsize=9)
        axis.set_yticks(positions, labels, fontsize=8)
        axis.xaxis.set_major_locator(plt.MaxNLocator(5))
        axis.tick_params(axis="x", labelsize=7)
        axis.grid(axis="x", lw=0.3, alpha=0.5)
    if any(is_reference):
        figure.legend([plt.Line2D([], [], color="black", lw=1.0, ls="--")],
                      [f"the {reference} row's value (grey bar): closer is better"],
                      loc="lower center",
                      fontsize=8, frameon=False)
    if title:
        figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.05 if any(is_reference) else 0, 1, 1))
    return _save(figure, path, return_figure)
