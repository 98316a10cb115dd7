"""The benchmark and experiment scripts run end to end on tiny settings (their numbers are not
asserted). Slow tier: ``python -m pytest -m slow``."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_train_throughput_smoke(tmp_path):
    out = tmp_path / "throughput.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/benchmarks/train_throughput.py"), "--model",
         "small_cnn", "--batch-size", "16", "--steps", "2", "--warmup", "1", "--dataset-size", "64",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert result.returncode == 0, result.stderr
    assert "| small_cnn | float32 |" in result.stdout and "| small_cnn | bfloat16 |" in result.stdout
    rows = json.loads(out.read_text())["rows"]
    assert [row["dtype"] for row in rows] == ["float32", "bfloat16"]
    assert all(row["images_per_second"] > 0 and row["timed_steps"] == 2 for row in rows)


def test_unlearn_throughput_smoke(tmp_path):
    out = tmp_path / "unlearn.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/benchmarks/unlearn_throughput.py"), "--model",
         "small_cnn", "--batch-size", "16", "--steps", "2", "--warmup", "1", "--dataset-size",
         "320", "--methods", "finetune,neggrad_plus,trw", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert result.returncode == 0, result.stderr
    rows = {row["method"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"finetune", "neggrad_plus", "trw"}
    assert rows["finetune"]["images_per_step"] == 16          # retain batch only
    assert rows["neggrad_plus"]["images_per_step"] > 16       # retain + forget batches
    assert all(row["images_per_second"] > 0 for row in rows.values())


def test_shadow_models_smoke(tmp_path):
    out = tmp_path / "shadows.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/benchmarks/shadow_models.py"), "--models", "4",
         "--epochs", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    assert rows and all(value is not None for value in rows[0].values())


def test_run_all_gathers_the_benchmarks(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/benchmarks/run_all.py"), "--small", "--only",
         "shadow_models,unlearn_vs_retrain,unlearn_many", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1"),
    )
    assert result.returncode == 0, result.stderr
    combined = json.loads((tmp_path / "benchmarks.json").read_text())
    assert set(combined["benchmarks"]) == {"shadow_models", "unlearn_vs_retrain", "unlearn_many"}
    assert combined["failed"] == []
    rows = {row["method"]: row for row in combined["benchmarks"]["unlearn_vs_retrain"]["rows"]}
    assert rows["retrain"]["gap"] == 0.0 and rows["retrain"]["fraction_of_retrain"] == 1.0
    assert rows["finetune"]["seconds"] > 0 and rows["finetune"]["epochs"] in (1, 2)
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "## shadow_models" in markdown and "## unlearn_vs_retrain" in markdown
    paths = {row["method"] + "/" + row["path"]
             for row in combined["benchmarks"]["unlearn_many"]["rows"]}
    assert {"finetune/sequential", "finetune/vmapped"} <= paths


def test_run_all_rejects_unknown_benchmarks(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/benchmarks/run_all.py"), "--only", "nosuch",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "nosuch" in result.stderr


def test_cpu_vs_torch_smoke(tmp_path):
    """Runs with or without PyTorch installed (it is a benchmark-only extra)."""
    out = tmp_path / "cpu_vs_torch.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/benchmarks/cpu_vs_torch.py"), "--batch-size",
         "8", "--steps", "2", "--warmup", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    variants = {row["variant"] for row in rows}
    assert {"jax (now)", "jax (before issue 16)"} <= variants
    assert {row["step"] for row in rows} == {"train", "unlearn"}
    assert all(row["median_ms"] > 0 for row in rows)


def test_run_all_collect_tabulates_saved_jsons(tmp_path):
    """``--collect`` tables every saved benchmark JSON (not its own ``benchmarks.json``), with
    the device and arguments, and refuses a directory without one."""
    record = {"rows": [{"variant": "sgd", "median_step_ms": 8.4321}],
              "environment": {"device_count": 1, "device_kind": "NVIDIA H200",
                              "packages": {"jax": "0.11.2"}},
              "arguments": {"steps": 20, "out": "/elsewhere/x.json"}}
    (tmp_path / "transform_overhead.json").write_text(json.dumps(record))
    (tmp_path / "benchmarks.json").write_text(json.dumps({"benchmarks": {}}))
    (tmp_path / "notes.json").write_text(json.dumps({"no": "rows"}))
    script = str(ROOT / "experiments/benchmarks/run_all.py")
    result = subprocess.run([sys.executable, script, "--collect", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert markdown.count("## ") == 1 and "## transform_overhead" in markdown
    assert "1 x NVIDIA H200, jax 0.11.2" in markdown and '"steps": 20' in markdown
    assert "/elsewhere" not in markdown and "| sgd | 8.432 |" in markdown
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run([sys.executable, script, "--collect", str(empty)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "no benchmark JSON" in result.stderr
    assert not (empty / "benchmarks.md").exists()
