"""Tables (Markdown, CSV, JSON) and plots of results, with what produced them."""

from jaxunlearn.report.benchmarks import report_benchmark
from jaxunlearn.report.plots import bar_chart
from jaxunlearn.report.provenance import environment_info
from jaxunlearn.report.tables import format_markdown_table, write_table

__all__ = [
    "bar_chart", "environment_info", "format_markdown_table", "report_benchmark", "write_table",
]
