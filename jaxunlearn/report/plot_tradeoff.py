"""Trade-off curves: one quantity against another, one line per group, from result rows.

:func:`tradeoff_plot` (e.g. noise σ against test accuracy with ε written at each point; the
``report`` command's trade-off figure, :mod:`jaxunlearn.report.combine`) and :func:`lookup`,
which reads dotted keys into nested row fields. No paper of their own.

As everywhere in :mod:`jaxunlearn.report.plots` (which re-exports this module's public names),
a plot function writes a PNG and returns its path, or ``(path, figure)`` with
``return_figure=True``.
"""

from __future__ import annotations

import math
import os
from typing import Any, Mapping, Sequence

from jaxunlearn.report._plotting import _number, _pyplot, _save, _wrap

__all__ = ["lookup", "tradeoff_plot"]


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
