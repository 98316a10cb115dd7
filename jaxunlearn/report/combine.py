"""Combine result JSONs (from :func:`~jaxunlearn.report.tables.write_table`) into one report per
experiment: a table (Markdown, CSV, JSON with every source's provenance) and its plots.

A result JSON is ``{"rows": [{"method": ..., metric: value, ...}, ...], "metadata": {...}}``.
Rows from files of the same experiment (``metadata["experiment"]``, else the file's name without
``.json``) go into one table, each tagged with its ``source`` when there are several files. The
plots: the metric bars with the retrained model's value as a dashed line per panel; an ROC plot
per attack whose curves the rows carry (``row["roc"]`` = ``{"fpr", "tpr", ...}``, or
``row[name]["roc"]``, e.g. the quickstart's ``ulira``); and, when asked, a trade-off curve.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import json
import os
from typing import Any, Sequence

from jaxunlearn.report.plots import bar_chart, roc_plot, tradeoff_plot
from jaxunlearn.report.provenance import environment_info
from jaxunlearn.report.tables import format_markdown_table, write_table

__all__ = ["report", "load_result", "PREFERRED_METRICS", "BAR_METRICS"]

# Table columns, in this order, when the caller names none (those present in the rows).
PREFERRED_METRICS = ("UA", "RA", "TA", "MIA", "U-LiRA", "agreement", "tv_forget", "forget_loss",
                     "gap", "attack_AUC", "attack_TPR@1%", "seconds")
BAR_METRICS = ("UA", "RA", "TA", "MIA")


def load_result(path: str | os.PathLike) -> dict:
    """Read one result JSON; ValueError unless it holds ``rows`` (a list of mappings with a
    ``method``) and a ``metadata`` mapping."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such result file")
    try:
        with open(path) as handle:
            payload = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from None
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if (not isinstance(rows, list) or not rows
            or not all(isinstance(row, dict) and "method" in row for row in rows)
            or not isinstance(payload.get("metadata", {}), dict)):
        raise ValueError(f"{path}: not a result table (expected {{'rows': [{{'method': ...}}, "
                         "...], 'metadata': {...}}, as write_table writes)")
    return payload


def _expand(results: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Files as given; a directory contributes its result tables (other JSON is skipped)."""
    items = [results] if isinstance(results, (str, os.PathLike)) else list(results)
    if not items:
        raise ValueError("results: give at least one result JSON or directory")
    paths = []
    for item in map(os.fspath, items):
        if os.path.isdir(item):
            found = []
            for candidate in sorted(glob.glob(os.path.join(item, "*.json"))):
                try:
                    load_result(candidate)
                except ValueError:
                    continue
                found.append(candidate)
            if not found:
                raise ValueError(f"{item}: the directory holds no result table JSON")
            paths.extend(found)
        elif not os.path.exists(item):
            raise FileNotFoundError(f"{item}: no such result file or directory")
        else:
            paths.append(item)
    return paths


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _source_labels(paths: list[str]) -> list[str]:
    """Short distinct labels: the parent directory's name, else the file name, else the path."""
    for label in ([os.path.basename(os.path.dirname(os.path.abspath(p))) for p in paths],
                  [os.path.splitext(os.path.basename(p))[0] for p in paths],
                  [os.path.abspath(p) for p in paths]):
        if len(set(label)) == len(label):
            return label
    return [f"{i}:{p}" for i, p in enumerate(paths)]


def _roc_curves(rows: list[dict], labels: list[str]) -> dict[str, dict[str, dict]]:
    """attack → {row label → roc dict} for every ROC curve the rows carry: ``row["roc"]`` (named
    by its ``attack`` field) or ``row[name]["roc"]`` (named ``name``)."""
    attacks: dict[str, dict[str, dict]] = {}
    for row, label in zip(rows, labels):
        for key, value in row.items():
            roc = value if key == "roc" else value.get("roc") if isinstance(value, dict) else None
            if (isinstance(roc, dict) and isinstance(roc.get("fpr"), list)
                    and isinstance(roc.get("tpr"), list)):
                attack = str(roc.get("attack") or "attack") if key == "roc" else key
                attacks.setdefault(attack, {})[label] = roc
    return attacks


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "experiment"


def report(
    results: str | os.PathLike | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    metrics: Sequence[str] | None = None,
    x: str | None = None,
    y: str | None = None,
    group: str | None = None,
    annotate: str | None = None,
    xlog: bool = False,
    ylog: bool = False,
    digits: int = 3,
) -> dict[str, dict]:
    """Write one combined table and its plots per experiment found in ``results``.

    Args:
      results: result JSON files and/or directories (each directory contributes every result
        table JSON in it).
      out_dir: where ``<experiment>.{md,csv,json}`` and the PNGs go.
      metrics: the table's metric columns (after ``method`` and ``source``) and the bars'
        panels; default: the :data:`PREFERRED_METRICS` present in the rows (bars: UA, RA, TA,
        MIA). ValueError for a metric that no row of an experiment has.
      x, y: draw ``y`` against ``x`` as a trade-off curve (``<experiment>_tradeoff.png``);
        dotted keys read nested fields, e.g. ``hyperparams.noise_multiplier``.
      group: one trade-off line per value of this key (default ``method``).
      annotate: write this key's value at each trade-off point (e.g. ``epsilon``).
      xlog, ylog: log axes of the trade-off plot.

    Returns:
      experiment → ``{"table": {"md", "csv", "json"}, "plots": [paths], "markdown": str}``.
      The combined JSON is itself a result table: its ``metadata["sources"]`` lists every
      source's path, SHA-256 and metadata (the provenance of each row), and
      ``metadata["report"]`` what produced the report.
    """
    if (x is None) != (y is None):
        raise ValueError("x and y: give both for a trade-off plot, or neither")
    paths = _expand(results)
    experiments: dict[str, list[tuple[str, dict]]] = {}
    for path in paths:
        payload = load_result(path)
        name = payload.get("metadata", {}).get("experiment")
        if not isinstance(name, str) or not name:
            name = os.path.splitext(os.path.basename(path))[0]
        experiments.setdefault(name, []).append((path, payload))
    written = {}
    for name, sources in experiments.items():
        written[name] = _report_one(name, sources, out_dir, metrics=metrics, x=x, y=y,
                                    group=group, annotate=annotate, xlog=xlog, ylog=ylog,
                                    digits=digits)
    return written


def _report_one(name, sources, out_dir, *, metrics, x, y, group, annotate, xlog, ylog, digits):
    several = len(sources) > 1
    source_labels = _source_labels([path for path, _ in sources])
    rows, labels = [], []
    for label, (path, payload) in zip(source_labels, sources):
        for row in payload["rows"]:
            row = dict(row)
            if several:  # a row that already names its source (a combined table) keeps it
                row["source"] = f"{label}/{row['source']}" if "source" in row else label
            rows.append(row)
            labels.append(f"{row['method']} [{row['source']}]" if "source" in row
                          else str(row["method"]))
    with_source = any("source" in row for row in rows)
    available = [key for key in dict.fromkeys(k for row in rows for k in row)
                 if any(_numeric(row.get(key)) for row in rows)]
    recorded = {tuple(payload.get("metadata", {}).get("columns") or ()) for _, payload in sources}
    if metrics is None:
        # The sources' own column order when they all record the same one, else the standard.
        own = next(iter(recorded)) if len(recorded) == 1 else ()
        columns = ([c for c in own if c in available]
                   or [m for m in PREFERRED_METRICS if m in available] or available)
        bars = [m for m in BAR_METRICS if m in available] or columns[:4]
    else:
        unknown = [m for m in metrics if m not in available]
        if unknown:
            raise ValueError(f"metrics: unknown metric {unknown[0]!r} for experiment {name!r}; "
                             f"the rows have {available}")
        columns = bars = list(metrics)
    table_columns = ["method", *(["source"] if with_source else []), *columns]
    metadata = {
        "experiment": name,
        "columns": table_columns,
        "sources": [{"label": label, "path": os.path.abspath(path), "sha256": _digest(path),
                     "metadata": payload.get("metadata", {})}
                    for label, (path, payload) in zip(source_labels, sources)],
        "report": {
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "arguments": {"metrics": metrics, "x": x, "y": y, "group": group,
                          "annotate": annotate, "xlog": xlog, "ylog": ylog},
            "environment": environment_info(),
        },
    }
    stem = _safe(name)
    table = write_table(rows, table_columns, out_dir, stem, metadata=metadata, digits=digits)
    plots = []
    if bars:
        plotted = [dict(row, _label=label) for row, label in zip(rows, labels)]
        plots.append(bar_chart(plotted, bars, os.path.join(out_dir, f"{stem}_metrics.png"),
                               label_key="_label", reference_key="method",
                               title=f"{name}: dashed line = retrained model"))
    for attack, curves in _roc_curves(rows, labels).items():
        description = next(iter(curves.values())).get("description") or attack
        plots.append(roc_plot(curves, os.path.join(out_dir, f"{stem}_roc_{_safe(attack)}.png"),
                              title=f"{name}: {description}"))
    if x is not None:
        plots.append(tradeoff_plot(
            rows, x, y, os.path.join(out_dir, f"{stem}_tradeoff.png"),
            group=group or "method", annotate=annotate, xlog=xlog, ylog=ylog,
            title=f"{name}: {y} vs {x}"))
    markdown = format_markdown_table(rows, table_columns, digits=digits)
    return {"table": table, "plots": plots, "markdown": markdown}

