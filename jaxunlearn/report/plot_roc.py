"""Attack ROC curves on log–log axes, and the AUC / TPR-at-low-FPR summary of a curve.

The presentation and the low-FPR summary of Carlini, Chien, Nasr, Song, Terzis, Tramèr,
"Membership Inference Attacks From First Principles" (S&P 2022, §III-B, Fig. 1 onwards), for
the curves of :func:`jaxunlearn.evaluate.roc_metrics` (LiRA, U-LiRA, RMIA, ...).

As everywhere in :mod:`jaxunlearn.report.plots` (which re-exports this module's public names),
a plot function writes a PNG and returns its path, or ``(path, figure)`` with
``return_figure=True``.
"""

from __future__ import annotations

import math
import os
from typing import Any, Mapping

import numpy as np

from jaxunlearn.report._plotting import _number, _pyplot, _save, _wrap

__all__ = ["curve_summary", "roc_plot"]


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
