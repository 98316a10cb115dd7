"""Result tables: one row per method, written as Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import json
import os
from typing import Any, Sequence


def _format(value: Any, digits: int) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "" if value is None else str(value)


def format_markdown_table(
    rows: Sequence[dict], columns: Sequence[str], *, digits: int = 2
) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` restricted to ``columns``."""
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"
    body = [
        "| " + " | ".join(_format(row.get(column), digits) for column in columns) + " |"
        for row in rows
    ]
    return "\n".join([header, rule, *body])


def write_table(
    rows: Sequence[dict],
    columns: Sequence[str],
    out_dir: str | os.PathLike,
    name: str,
    *,
    metadata: dict | None = None,
    digits: int = 2,
) -> dict[str, str]:
    """Write ``name.md``, ``name.csv`` and ``name.json`` under ``out_dir``; return their paths.

    The JSON holds every field of every row plus ``metadata`` (config, seeds, versions), so a
    result records what produced it.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {ext: os.path.join(out_dir, f"{name}.{ext}") for ext in ("md", "csv", "json")}
    with open(paths["md"], "w") as handle:
        handle.write(format_markdown_table(rows, columns, digits=digits) + "\n")
    with open(paths["csv"], "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with open(paths["json"], "w") as handle:
        json.dump({"rows": list(rows), "metadata": metadata or {}}, handle, indent=2)
    return paths
