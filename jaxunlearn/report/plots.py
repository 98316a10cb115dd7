"""Plots of results (matplotlib, headless Agg backend): metric bars with the retrain line (a row
of panels, or a grid of panels with the models on the vertical axis), attack ROC curves on
log–log axes, trade-off curves and heatmaps of a method × add-on grid.

Every function writes a PNG and returns its path; with ``return_figure=True`` it returns
``(path, figure)`` and leaves the figure open, so a caller (or a test) can read what reached the
axes before closing it with ``matplotlib.pyplot.close(figure)``.

The figures are in one module per family, all re-exported here:

- :mod:`jaxunlearn.report.plot_bars`: :func:`bar_chart`, :func:`metric_grid`;
- :mod:`jaxunlearn.report.plot_roc`: :func:`roc_plot`, :func:`curve_summary`;
- :mod:`jaxunlearn.report.plot_tradeoff`: :func:`tradeoff_plot` (and :func:`lookup`);
- :mod:`jaxunlearn.report.plot_heatmap`: :func:`heatmap`;

with the helpers they share in :mod:`jaxunlearn.report._plotting`.
"""

from jaxunlearn.report.plot_bars import bar_chart, metric_grid
from jaxunlearn.report.plot_heatmap import heatmap
from jaxunlearn.report.plot_roc import curve_summary, roc_plot
from jaxunlearn.report.plot_tradeoff import lookup, tradeoff_plot

__all__ = ["bar_chart", "metric_grid", "roc_plot", "tradeoff_plot", "curve_summary", "heatmap",
           "lookup"]
