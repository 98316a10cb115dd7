"""Tables round-trip through CSV/JSON; charts are real PNG files."""

import csv
import json

from jaxunlearn.report import bar_chart, environment_info, format_markdown_table, write_table

ROWS = [
    {"method": "retrain", "UA": 5.2, "RA": 100.0, "extra": "kept in json"},
    {"method": "finetune", "UA": 1.25, "RA": 99.5},
]


def test_markdown_table_layout():
    table = format_markdown_table(ROWS, ["method", "UA", "RA"], digits=1)
    lines = table.splitlines()
    assert lines[0] == "| method | UA | RA |"
    assert lines[1] == "|---|---:|---:|"
    assert lines[3] == "| finetune | 1.2 | 99.5 |"  # 1.25 rounds half-to-even in format()


def test_write_table_round_trips(tmp_path):
    paths = write_table(ROWS, ["method", "UA", "RA"], tmp_path, "results", metadata={"seed": 3})
    with open(paths["csv"]) as handle:
        rows = list(csv.DictReader(handle))
    assert [row["method"] for row in rows] == ["retrain", "finetune"]
    assert float(rows[1]["UA"]) == 1.25
    payload = json.loads(open(paths["json"]).read())
    assert payload["metadata"] == {"seed": 3}
    assert payload["rows"][0]["extra"] == "kept in json"


def test_bar_chart_writes_a_png(tmp_path):
    path = bar_chart(ROWS, ["UA", "RA"], tmp_path / "sub" / "chart.png", title="t")
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_environment_info_records_versions_and_devices():
    info = environment_info()
    assert info["packages"]["jax"] and info["packages"]["optax"]
    assert info["device_count"] >= 1 and info["backend"]
