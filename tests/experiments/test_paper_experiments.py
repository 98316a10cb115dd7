"""The per-paper experiment commands run end to end on their tiny settings (slow tier)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(script, out, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / script), "--small", "--out", str(out), *args],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1"))


def test_amun_experiment_small(tmp_path):
    result = _run("experiments/amun/run.py", tmp_path, "--methods", "amun,finetune")
    assert result.returncode == 0, result.stderr[-3000:]
    for label in ("plain", "fastclip"):
        payload = json.loads((tmp_path / f"amun_{label}.json").read_text())
        methods = [row["method"] for row in payload["rows"]]
        assert methods == ["original", "retrain", "amun", "finetune"]
        assert payload["metadata"]["originals"] == label
        assert (tmp_path / f"amun_{label}.png").exists()
    assert "smallest gap to retraining" in result.stdout


def test_trw_experiment_small(tmp_path):
    result = _run("experiments/trw/run.py", tmp_path, "--methods", "trw,finetune")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {row["method"]: row for row in json.loads((tmp_path / "trw.json").read_text())["rows"]}
    assert set(rows) == {"original", "retrain", "trw", "finetune"}
    assert rows["retrain"]["UA_mean"] == 100.0 and "MIA-NN_mean" in rows["trw"]
    # TRW sends the forgotten class where the retrained model does: closer than the original
    assert rows["trw"]["tv_forget_mean"] < rows["original"]["tv_forget_mean"]


def test_masks_grid_small_random_and_class(tmp_path):
    result = _run("experiments/masks/grid.py", tmp_path, "--settings", "random10,class",
                  "--methods", "random_label,srl", "--masks", "none,and_mask")
    assert result.returncode == 0, result.stderr[-3000:]
    for setting in ("random10", "class"):
        payload = json.loads((tmp_path / f"grid_{setting}.json").read_text())
        assert [row["method"] for row in payload["rows"]] == [
            "original", "retrain", "random_label", "random_label+and_mask", "srl",
            "srl+and_mask"]
        assert payload["metadata"]["setting"] == setting
        gap = (tmp_path / f"grid_{setting}_gap.md").read_text()
        assert "| random_label |" in gap and "| srl |" in gap
        assert (tmp_path / f"grid_{setting}_gap.png").exists()
    rows = {row["method"]: row for row in
            json.loads((tmp_path / "grid_class.json").read_text())["rows"]}
    assert rows["retrain"]["UA_mean"] == 100.0  # the forgotten class is never predicted


def test_masks_grid_rejects_unknown_names(tmp_path):
    for flag, value in (("--settings", "random20"), ("--methods", "retrain"),
                        ("--masks", "or_mask")):
        result = _run("experiments/masks/grid.py", tmp_path, flag, value)
        assert result.returncode == 2 and flag in result.stderr


def test_tune_keeps_the_smallest_gap_per_method_and_writes_it(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/tune.py"), "--data", "digits", "--setting",
         "class", "--methods", "gradient_ascent,random_label+and_mask", "--learning-rates",
         "1e-3,3e-2",
         "--epochs", "1", "--original-epochs", "3", "--write", "--tuned-dir", str(tmp_path),
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((tmp_path / "tune_digits_class.json").read_text())["rows"]
    assert len(rows) == 4
    chosen = json.loads((tmp_path / "digits_class.json").read_text())
    for method in ("gradient_ascent", "random_label+and_mask"):
        candidates = [row for row in rows if row["method"] == method]
        best = min(candidates, key=lambda row: row["gap"])
        assert chosen["methods"][method]["learning_rate"] == float(best["learning_rate"])
        assert chosen["provenance"][method]["selection_seed"] == 100


def test_tune_times_multiplies_the_base_methods_rate_not_the_variants_last_choice(tmp_path):
    """``--learning-rates times:1,3`` tries multiples of the base method's tuned rate, so a rerun
    tries the same rates (it used to multiply the variant's own earlier choice, compounding)."""
    tuned = {"methods": {"random_label": {"learning_rate": 0.01, "epochs": 1},
                         "random_label+and_mask": {"learning_rate": 0.5, "epochs": 1}}}
    (tmp_path / "digits_class.json").write_text(json.dumps(tuned))
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments/tune.py"), "--data", "digits", "--setting",
         "class", "--methods", "random_label+and_mask", "--learning-rates", "times:1,3",
         "--epochs", "1", "--original-epochs", "3", "--tuned-dir", str(tmp_path),
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((tmp_path / "tune_digits_class.json").read_text())["rows"]
    assert sorted(float(row["learning_rate"]) for row in rows) == [0.01, 0.03]
