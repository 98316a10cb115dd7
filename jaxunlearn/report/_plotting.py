"""Helpers shared by the plot modules of :mod:`jaxunlearn.report.plots`: the headless pyplot,
saving a figure, reading a number and wrapping a title. No paper of their own.
"""

from __future__ import annotations

import math
import os
import textwrap
from typing import Any


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


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _wrap(title: str, width: int = 70) -> str:
    return "\n".join(textwrap.wrap(title, width)) or title
