"""Results of a comparison: mean ± std over seeds, metrics relative to the original, files.

:func:`aggregate_rows` turns the per-seed rows of :func:`jaxunlearn.compare.compare_methods`
into mean and sample standard deviation per method; :func:`add_relative_metrics` adds the
feasible-update masks paper's metrics relative to the original model (Dine et al., arXiv
2511.02435: relative unlearning accuracy, accuracy costs); :func:`write_comparison` writes the
tables (Markdown, CSV, JSON) and a bar chart. Re-exported by :mod:`jaxunlearn.compare`.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Sequence

import numpy as np

from jaxunlearn.report import bar_chart, write_table

__all__ = ["aggregate_rows", "add_relative_metrics", "write_comparison"]


def aggregate_rows(per_seed: Sequence[dict], metrics: Sequence[str]) -> list[dict]:
    """Mean and sample standard deviation over seeds of ``metrics``, one row per method.

    Each output row has ``method``, ``seeds``, ``<metric>_mean``, ``<metric>_std`` (0 for a single
    seed) and ``<metric>`` formatted as ``"mean ± std"`` for the Markdown table.
    """
    by_method: dict[str, list[dict]] = {}
    for row in per_seed:
        by_method.setdefault(row["method"], []).append(row)
    rows = []
    for method, group in by_method.items():
        row: dict[str, Any] = {"method": method, "seeds": len(group)}
        for metric in metrics:
            values = [float(r[metric]) for r in group if metric in r]
            if not values:
                continue
            mean = float(np.mean(values))
            std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
            row[metric] = f"{mean:.2f} ± {std:.2f}" if math.isfinite(mean) else "nan"
        rows.append(row)
    return rows


def add_relative_metrics(per_seed: list[dict]) -> list[str]:
    """Add, in place, the masks paper's metric families that are relative to the original
    (Dine et al., arXiv 2511.02435, abstract: "relative unlearning accuracy"; its definition
    was not in the text we could read, so this is our reading): per seed, against that seed's
    original (o) and retrained (r) models,

    - ``rel_UA`` = (UA − UA_o) / (UA_r − UA_o): the share of the retrained model's forgetting
      reached (0 = none, 1 = as much as retraining, > 1 = more);
    - ``RA_cost`` = RA_o − RA and ``TA_cost`` = TA_o − TA: accuracy points lost.

    Returns the names added (aggregate them with :func:`aggregate_rows`)."""
    by_seed: dict[Any, dict[str, dict]] = {}
    for row in per_seed:
        by_seed.setdefault(row["seed"], {})[row["method"]] = row
    for rows in by_seed.values():
        original, retrained = rows["original"], rows["retrain"]
        span = retrained["UA"] - original["UA"]
        for row in rows.values():
            row["rel_UA"] = (row["UA"] - original["UA"]) / span if span else float("nan")
            row["RA_cost"] = original["RA"] - row["RA"]
            row["TA_cost"] = original["TA"] - row["TA"]
    return ["rel_UA", "RA_cost", "TA_cost"]


def write_comparison(out_dir: str, name: str, per_seed, aggregated, record, *, title: str,
                     metadata: dict, chart_metrics: Sequence[str]) -> dict:
    """Write ``name.{md,csv,json}`` (mean ± std), ``name_per_seed.json`` and ``name.png``."""
    os.makedirs(out_dir, exist_ok=True)
    metric_columns = [key for key in ("UA", "RA", "TA", "MIA", "MIA-NN", "MIA-NN-logistic",
                                      "RMIA_AUC", "rel_UA", "RA_cost", "TA_cost", "tv_forget",
                                      "gap", "seconds") if key in aggregated[0]]
    paths = write_table(aggregated, ["method", "seeds", *metric_columns], out_dir, name,
                        metadata={**metadata, "comparison": record}, digits=3)
    per_seed_path = os.path.join(out_dir, f"{name}_per_seed.json")
    with open(per_seed_path, "w") as handle:
        json.dump(per_seed, handle, indent=1, default=float)
    chart_rows = [{"method": row["method"], **{m: row.get(f"{m}_mean", float("nan"))
                                                for m in chart_metrics}} for row in aggregated]
    chart = bar_chart(chart_rows, list(chart_metrics), os.path.join(out_dir, f"{name}.png"),
                      title=title)
    return {**paths, "per_seed": per_seed_path, "png": chart}
