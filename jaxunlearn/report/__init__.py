"""Tables (Markdown, CSV, JSON) and plots of results, with what produced them."""

from jaxunlearn.report.benchmarks import report_benchmark
from jaxunlearn.report.combine import load_result, report
from jaxunlearn.report.plots import (
    bar_chart,
    curve_summary,
    heatmap,
    metric_grid,
    roc_plot,
    tradeoff_plot,
)
from jaxunlearn.report.provenance import environment_info
from jaxunlearn.report.records import roc_record, thin_roc
from jaxunlearn.report.tables import format_markdown_table, write_table

__all__ = [
    "bar_chart", "curve_summary", "environment_info", "format_markdown_table", "heatmap",
    "load_result", "metric_grid", "report", "report_benchmark", "roc_plot", "roc_record", "thin_roc",
    "tradeoff_plot", "write_table",
]
