"""The common ending of every benchmark script: a header, a Markdown table and a JSON record."""

from __future__ import annotations

import json
import os
from typing import Sequence

from jaxunlearn.report.provenance import environment_info
from jaxunlearn.report.tables import format_markdown_table


def report_benchmark(rows: Sequence[dict], columns: Sequence[str], out: str, *, title: str,
                     arguments: dict, digits: int = 1) -> None:
    """Print ``title`` with the devices, the table of ``rows``, and write ``out`` as JSON with the
    rows, the environment (versions, devices) and the script's ``arguments``."""
    environment = environment_info()
    print(f"{title}; {environment['device_count']} x {environment['device_kind']}")
    print(format_markdown_table(rows, columns, digits=digits))
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as handle:
        json.dump({"rows": list(rows), "environment": environment, "arguments": arguments},
                  handle, indent=2)
    print(f"wrote {out}")
