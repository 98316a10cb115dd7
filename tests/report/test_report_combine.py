"""report(): result JSONs from write_table combine into one table and its plots per experiment,
with every source's provenance; bad inputs fail with errors that say what is wrong."""

import csv
import hashlib
import json

import numpy as np
import pytest

from jaxunlearn.evaluate import roc_metrics
from jaxunlearn.report import load_result, report, roc_record, thin_roc, write_table

COLUMNS = ["method", "UA", "RA", "TA", "MIA"]


def roc(auc):
    return {"attack": "threshold", "description": "threshold on φ, forget vs test",
            "fpr": [0.0, 0.1, 1.0], "tpr": [0.0, 0.4, 1.0], "auc": auc,
            "tpr_at_fpr": {"0.01": 0.0}}


def result(directory, seed, *, experiment="unlearning", extra=None):
    rows = [
        {"method": "retrain", "UA": 5.0 + seed, "RA": 100.0, "TA": 94.0, "MIA": 12.0,
         "roc": roc(0.5), "hyperparams": {"sigma": 0.0}},
        {"method": "salun", "UA": 3.0 + seed, "RA": 99.6, "TA": 93.9, "MIA": 14.0,
         "roc": roc(0.6), "hyperparams": {"sigma": 0.1 * (seed + 1)}, "epsilon": 2.0 / (seed + 1)},
    ]
    for row in rows:
        row.update(extra or {})
    metadata = {"experiment": experiment, "seed": seed, "environment": {"packages": {"jax": "x"}}}
    return write_table(rows, COLUMNS, directory, "results", metadata=metadata)["json"]


def test_two_runs_of_one_experiment_make_one_table_with_provenance(tmp_path):
    first, second = result(tmp_path / "seed0", 0), result(tmp_path / "seed1", 1)
    written = report([first, second], tmp_path / "out")
    assert list(written) == ["unlearning"]
    out = written["unlearning"]
    payload = load_result(out["table"]["json"])
    assert [(row["method"], row["source"]) for row in payload["rows"]] == [
        ("retrain", "seed0"), ("salun", "seed0"), ("retrain", "seed1"), ("salun", "seed1")]
    sources = payload["metadata"]["sources"]
    assert [source["metadata"]["seed"] for source in sources] == [0, 1]
    with open(first, "rb") as handle:
        assert sources[0]["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert payload["metadata"]["report"]["environment"]["packages"]["jax"]
    assert payload["metadata"]["columns"] == ["method", "source", "UA", "RA", "TA", "MIA"]
    with open(out["table"]["csv"]) as handle:
        sources_in_csv = [row["source"] for row in csv.DictReader(handle)]
    assert sources_in_csv == ["seed0", "seed0", "seed1", "seed1"]
    assert out["markdown"].splitlines()[0] == "| method | source | UA | RA | TA | MIA |"
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["unlearning.csv", "unlearning.json", "unlearning.md",
                     "unlearning_metrics.png", "unlearning_roc_threshold.png"]
    # The combined JSON is a result table again.
    again = report(out["table"]["json"], tmp_path / "again", metrics=["UA"])
    assert again["unlearning"]["markdown"].splitlines()[0] == "| method | source | UA |"


def test_a_directory_contributes_its_result_tables_and_skips_other_json(tmp_path):
    result(tmp_path / "run", 0)
    (tmp_path / "run" / "splits.json").write_text(json.dumps({"forget_indices": [1, 2]}))
    result(tmp_path / "run2", 0, experiment="other")
    written = report([tmp_path / "run", tmp_path / "run2" / "results.json"], tmp_path / "out")
    assert sorted(written) == ["other", "unlearning"]
    assert "source" not in load_result(written["other"]["table"]["json"])["rows"][0]


def test_nested_roc_and_tradeoff(tmp_path):
    # A row's nested attack result (the quickstart's "ulira": {..., "roc": {...}}) gets an ROC
    # plot named after it; --x/--y draw the trade-off curve.
    path = result(tmp_path / "run", 0, extra={"ulira": {"balanced_accuracy": 0.6, "roc": roc(0.7)}})
    written = report(path, tmp_path / "out", x="hyperparams.sigma", y="TA", annotate="epsilon")
    names = {p.rsplit("/", 1)[-1] for p in written["unlearning"]["plots"]}
    assert names == {"unlearning_metrics.png", "unlearning_roc_threshold.png",
                     "unlearning_roc_ulira.png", "unlearning_tradeoff.png"}


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such result file"):
        report(tmp_path / "missing.json", tmp_path / "out")
    not_a_table = tmp_path / "config.json"
    not_a_table.write_text(json.dumps({"config": {"seed": 0}}))
    with pytest.raises(ValueError, match="not a result table"):
        report(not_a_table, tmp_path / "out")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        report(garbage, tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no result table"):
        report(empty, tmp_path / "out")
    path = result(tmp_path / "run", 0)
    with pytest.raises(ValueError, match="unknown metric 'XYZ'"):
        report(path, tmp_path / "out", metrics=["UA", "XYZ"])
    with pytest.raises(ValueError, match="give both"):
        report(path, tmp_path / "out", x="hyperparams.sigma")
    assert not (tmp_path / "out").exists()  # nothing written before the checks passed


def test_roc_record_is_compact_json_with_exact_low_fpr_rates():
    rng = np.random.default_rng(0)
    is_member = np.r_[np.ones(3000, bool), np.zeros(3000, bool)]
    scores = rng.normal(size=6000) + 0.5 * is_member
    record = roc_record(scores, is_member, attack="loss", description="loss threshold")
    full = roc_metrics(scores, is_member)
    assert len(record["fpr"]) <= 1001 < full["fpr"].size
    assert json.loads(json.dumps(record)) == record
    assert record["auc"] == full["auc"] and record["num_members"] == 3000
    fpr, tpr = np.array(record["fpr"]), np.array(record["tpr"])
    for target in (0.01, 0.001):  # the thinned curve keeps the TPR at these FPRs
        assert tpr[fpr <= target].max() == full["tpr_at_fpr"][target]
    assert record["tpr_at_fpr"]["0.01"] == full["tpr_at_fpr"][0.01]
    short = thin_roc([0.0, 0.5, 1.0], [0.0, 0.7, 1.0])
    assert short == ([0.0, 0.5, 1.0], [0.0, 0.7, 1.0])
