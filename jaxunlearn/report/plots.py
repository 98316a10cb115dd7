"""Plots of results (matplotlib, headless Agg backend): metric bars with the retrain line (a row
of panels, or a grid of panels with the models on the vertical axis), attack ROC curves on
log–log axes, trade-off curves and heatmaps of a method × add-on grid.

Every function writes a PNG and returns its path; with ``return_figure=True`` it returns
``(path, figure)`` and leaves the figure open, so a caller (or a test) can read what reached the
axes before closing it with ``matplotlib.pyplot.close(figure)``.
"""

from __future__ import annotations

import math
import os
import textwrap
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["bar_chart", "metric_grid", "roc_plot", "tradeoff_plot", "curve_summary", "heatmap"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path, return_figure: bool):
    plt = _pyplot()
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=120)
    if return_figure:
        return path, figure
    plt.close(figure)
    return path


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


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def curve_summary(fpr: Any, tpr: Any, fpr_target: float = 0.01) -> tuple[float, float]:
    """(AUC, TPR at FPR ≤ ``fpr_target``) of ROC operating points sorted by FPR.

    The area is the trapezoidal one through the points (equal to the Mann–Whitney AUC when the
    points are every threshold, as :func:`jaxunlearn.evaluate.roc_curve` returns them); the TPR
    is the largest one among points with FPR ≤ target (Carlini et al. 2022, §III-B).

    >>> curve_summary([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    (0.75, 0.5)
    """
    fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    allowed = tpr[fpr <= fpr_target]
    return area, float(allowed.max()) if allowed.size else 0.0


def _as_curve(name: str, curve: Any) -> tuple[np.ndarray, np.ndarray, float, float]:
    if isinstance(curve, Mapping):
        if "fpr" not in curve or "tpr" not in curve:
            raise ValueError(f"curves[{name!r}]: a mapping needs 'fpr' and 'tpr' (a roc_metrics "
                             f"result), got keys {sorted(curve)}")
        fpr, tpr = curve["fpr"], curve["tpr"]
    else:
        try:
            fpr, tpr = curve
        except (TypeError, ValueError):
            raise ValueError(f"curves[{name!r}]: expected (fpr, tpr) or a roc_metrics "
                             "result") from None
    fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
    if fpr.ndim != 1 or fpr.shape != tpr.shape or fpr.size < 2:
        raise ValueError(f"curves[{name!r}]: fpr and tpr must be 1-D of the same length >= 2, "
                         f"got {fpr.shape} and {tpr.shape}")
    if not (np.all(np.isfinite(fpr)) and np.all(np.isfinite(tpr))):
        raise ValueError(f"curves[{name!r}]: fpr and tpr must be finite")
    if np.any(np.diff(fpr) < 0) or fpr.min() < 0 or fpr.max() > 1 or tpr.min() < 0 or tpr.max() > 1:
        raise ValueError(f"curves[{name!r}]: fpr must be non-decreasing rates in [0, 1]")
    area, tpr_at_1 = curve_summary(fpr, tpr, 0.01)
    if isinstance(curve, Mapping):
        area = float(curve.get("auc", area))
        tpr_at_1 = float(_tpr_at(curve.get("tpr_at_fpr"), 0.01, tpr_at_1))
    return fpr, tpr, area, tpr_at_1


def _tpr_at(table: Any, target: float, default: float) -> float:
    if not isinstance(table, Mapping):
        return default
    for key, value in table.items():  # keys are floats, or strings after a JSON round trip
        if math.isclose(_number(key), target):
            return float(value)
    return default


def roc_plot(
    curves: Mapping[str, Any],
    path: str | os.PathLike,
    title: str = "",
    *,
    min_fpr: float | None = None,
    return_figure: bool = False,
):
    """Attack ROC curves on log–log axes, several on one axes, with the chance diagonal.

    The presentation of Carlini et al. (S&P 2022, Fig. 1 onwards): log scales show the
    low-FPR regime where an attack is confidently right. The axes run from ``min_fpr`` to 1;
    by default from 1e-3, or from 1/N (the smallest positive FPR among the curves, N the number
    of non-members) when that is smaller, down to 1e-5. Points with FPR or TPR below the axis
    are drawn on its edge. Each legend entry reads "name (AUC a, TPR@1% t)".

    Args:
      curves: name → ``(fpr, tpr)`` arrays, or name → a :func:`jaxunlearn.evaluate.roc_metrics`
        result (its ``auc`` and ``tpr_at_fpr[0.01]`` are used when present).
      path: the PNG to write.
      title: the figure title (say which attack and which sets).

    Returns:
      The PNG's path, or ``(path, figure)`` with ``return_figure=True``.
    """
    plt = _pyplot()
    if not curves:
        raise ValueError("curves: nothing to plot")
    prepared = {str(name): _as_curve(str(name), curve) for name, curve in curves.items()}
    if min_fpr is None:
        positive = [fpr[fpr > 0].min() for fpr, *_ in prepared.values() if np.any(fpr > 0)]
        min_fpr = max(min([1e-3, *positive]), 1e-5)
    if not 0.0 < min_fpr < 1.0:
        raise ValueError(f"min_fpr must lie in (0, 1), got {min_fpr}")
    figure, axis = plt.subplots(figsize=(5.0, 4.6))
    for name, (fpr, tpr, area, tpr_at_1) in prepared.items():
        axis.plot(np.maximum(fpr, min_fpr), np.maximum(tpr, min_fpr), lw=1.4,
                  label=f"{name} (AUC {area:.3f}, TPR@1% {tpr_at_1:.3f})")
    axis.plot([min_fpr, 1.0], [min_fpr, 1.0], color="grey", lw=0.8, ls=":", label="chance")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlim(min_fpr, 1.0)
    axis.set_ylim(min_fpr, 1.0)
    axis.set_xlabel("false-positive rate")
    axis.set_ylabel("true-positive rate")
    axis.legend(fontsize=7, loc="lower right")
    if title:
        axis.set_title(_wrap(title), fontsize=8)
    figure.tight_layout()
    return _save(figure, path, return_figure)


def _wrap(title: str, width: int = 70) -> str:
    return "\n".join(textwrap.wrap(title, width)) or title


def lookup(row: Mapping, key: str) -> Any:
    """``row[key]``, where a dotted key reads nested mappings (``"hyperparams.noise"``)."""
    if key in row:
        return row[key]
    value: Any = row
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def tradeoff_plot(
    rows: Sequence[Mapping],
    x: str,
    y: str,
    path: str | os.PathLike,
    *,
    group: str | None = None,
    y2: str | None = None,
    annotate: str | None = None,
    xlog: bool = False,
    ylog: bool = False,
    title: str = "",
    return_figure: bool = False,
):
    """A trade-off curve: ``y`` (and optionally ``y2`` on a second axis) against ``x``.

    For instance noise σ against test accuracy with ε written at each point
    (``annotate="epsilon"``), one line per method (``group="method"``). Keys may be dotted
    paths into nested row fields (:func:`lookup`). Each group's points are joined in order of
    ``x``; rows without a numeric ``x`` or ``y`` are left out, but at least one row must have
    both. ``y2`` is drawn dashed on a right-hand axis with its own scale.

    Returns:
      The PNG's path, or ``(path, figure)`` with ``return_figure=True``.
    """
    plt = _pyplot()
    if not rows:
        raise ValueError("rows: nothing to plot")
    for name, key in (("x", x), ("y", y), ("y2", y2), ("annotate", annotate), ("group", group)):
        if key is not None and all(lookup(row, key) is None for row in rows):
            raise ValueError(f"{name}: no row has {key!r}")
    groups: dict[str, list] = {}
    for row in rows:
        x_value, y_value = _number(lookup(row, x)), _number(lookup(row, y))
        if not (math.isfinite(x_value) and math.isfinite(y_value)):
            continue
        label = "" if group is None else str(lookup(row, group))
        groups.setdefault(label, []).append((x_value, y_value, row))
    if not groups:
        raise ValueError(f"x, y: no row has numeric values for both {x!r} and {y!r}")
    figure, axis = plt.subplots(figsize=(5.6, 4.2))
    right = axis.twinx() if y2 else None
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (label, points) in enumerate(sorted(groups.items())):
        points.sort(key=lambda point: point[0])
        colour = colours[index % len(colours)]
        xs, ys = [point[0] for point in points], [point[1] for point in points]
        axis.plot(xs, ys, marker="o", color=colour, label=f"{label} {y}".strip())
        if annotate:
            for x_value, y_value, row in points:
                value = lookup(row, annotate)
                text = f"{value:.3g}" if isinstance(value, (int, float)) else str(value)
                axis.annotate(f"{annotate}={text}", (x_value, y_value), fontsize=6,
                              textcoords="offset points", xytext=(3, 4))
        if right is not None:
            second = [(point[0], _number(lookup(point[2], y2))) for point in points]
            second = [point for point in second if math.isfinite(point[1])]
            if second:
                right.plot(*zip(*second), marker="s", ls="--", color=colour,
                           label=f"{label} {y2}".strip())
    if xlog:
        axis.set_xscale("log")
    if ylog:
        axis.set_yscale("log")
    axis.set_xlabel(x)
    axis.set_ylabel(y)
    handles, labels = axis.get_legend_handles_labels()
    if right is not None:
        right.set_ylabel(f"{y2} (dashed)")
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if len(labels) > 1 or group is not None:
        axis.legend(handles, labels, fontsize=7, loc="best")
    axis.set_title(_wrap(title or f"{y} vs {x}"), fontsize=8)
    figure.tight_layout()
    return _save(figure, path, return_figure)


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
