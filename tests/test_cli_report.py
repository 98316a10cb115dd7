"""`jaxunlearn evaluate` prints the full table and writes the bars and the ROC plot with its
provenance; `jaxunlearn report` combines result JSONs, and its errors say what is wrong."""

import json
import pathlib

import pytest

from jaxunlearn.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "configs" / "digits_mlp.py"


def test_evaluate_then_report(tmp_path, capsys):
    # An original, a retrained and a fine-tuned digits MLP (3 epochs; in-process, so the
    # compiled steps are shared).
    common = ["--config", str(CONFIG), "--set", "train.epochs=3", "--no-progress"]
    assert main(["train", "--workdir", str(tmp_path / "original"), *common]) == 0
    assert main(["train", "--workdir", str(tmp_path / "retrained"), "--subset", "retain",
                 *common]) == 0
    assert main(["unlearn", "--from", str(tmp_path / "original"), "--method", "finetune",
                 "--epochs", "1", "--key", "3", "--out", str(tmp_path / "finetune"),
                 "--no-progress"]) == 0

    out = tmp_path / "evaluation"
    capsys.readouterr()
    assert main(["evaluate", "--original", str(tmp_path / "original"), "--retrained",
                 str(tmp_path / "retrained"), "--unlearned", str(tmp_path / "finetune"),
                 "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert ("| method | UA | RA | TA | MIA | agreement | tv_forget | gap | attack_AUC | "
            "attack_TPR@1% | forget_loss |") in printed
    for method in ("original", "retrain", "finetune"):
        assert f"| {method} |" in printed
    for name in ("evaluation.md", "evaluation.csv", "evaluation.json", "evaluation.png",
                 "evaluation_roc.png"):
        assert (out / name).read_bytes(), name
    assert (out / "evaluation_roc.png").read_bytes()[:4] == b"\x89PNG"
    payload = json.loads((out / "evaluation.json").read_text())
    rows = {row["method"]: row for row in payload["rows"]}
    for row in rows.values():
        assert 0.0 <= row["attack_AUC"] <= 1.0 and 0.0 <= row["attack_TPR@1%"] <= 1.0
        curve = row["roc"]
        assert curve["fpr"][0] == 0.0 and curve["fpr"][-1] == 1.0
        assert len(curve["fpr"]) == len(curve["tpr"]) and curve["auc"] == row["attack_AUC"]
        assert curve["num_members"] == 144  # the forget set: 10% of 1,437 digits
    assert rows["retrain"]["agreement"] == 100.0 and rows["retrain"]["gap"] == 0.0
    metadata = payload["metadata"]
    assert metadata["experiment"] == "evaluate"
    assert metadata["environment"]["packages"]["jax"]
    assert metadata["config"]["train"]["epochs"] == 3
    assert metadata["retrained_config"]["train"]["seed"] == metadata["config"]["train"]["seed"]
    (run,) = metadata["unlearned_runs"]
    assert run["method"] == "finetune" and run["log"]["key"] == 3
    assert "learning_rate" in run["log"]["hyperparams"] and "history" not in run["log"]
    assert "logit-scaled confidence" in metadata["metric_definitions"]["attack_AUC"]

    # jaxunlearn report on that result: the chosen columns, the bars, the attack's ROC curves
    # (carried in the rows) and a trade-off plot.
    report_dir = tmp_path / "report"
    assert main(["report", str(out / "evaluation.json"), "--out", str(report_dir),
                 "--metrics", "UA,RA,TA,MIA", "--x", "forget_loss", "--y", "TA"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "| method | UA | RA | TA | MIA |"
    for name in ("evaluate.md", "evaluate.csv", "evaluate.json", "evaluate_metrics.png",
                 "evaluate_roc_threshold_logit_confidence.png", "evaluate_tradeoff.png"):
        assert (report_dir / name).exists(), name
    combined = json.loads((report_dir / "evaluate.json").read_text())
    assert combined["metadata"]["sources"][0]["metadata"]["unlearned_runs"] == [run]


@pytest.mark.parametrize("make, args, message", [
    (None, ["--out", "o"], "no such result file"),
    ("config", ["--out", "o"], "not a result table"),
    ("table", ["--out", "o", "--metrics", "UA,XYZ"], "unknown metric 'XYZ'"),
    ("table", ["--out", "o", "--x", "UA"], "--x and --y"),
    ("table", ["--out", "o", "--metrics", ","], "--metrics"),
])
def test_report_errors(tmp_path, capsys, make, args, message):
    path = tmp_path / "input.json"
    if make == "config":
        path.write_text(json.dumps({"config": {"seed": 0}}))
    elif make == "table":
        path.write_text(json.dumps({"rows": [{"method": "retrain", "UA": 5.0}], "metadata": {}}))
    args = [a if a != "o" else str(tmp_path / "out") for a in args]
    assert main(["report", str(path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # ~18 s: keeps the default suite under its 10-minute budget
def test_evaluate_an_image_to_image_model(tmp_path, capsys):
    # A digits autoencoder (3 epochs), its retrained reference and an i2i_decouple run:
    # evaluate switches to the reconstruction metrics.
    config = ROOT / "experiments" / "i2i" / "digits_autoencoder.py"
    common = ["--config", str(config), "--set", "train.epochs=3", "--no-progress"]
    assert main(["train", "--workdir", str(tmp_path / "original"), *common]) == 0
    assert main(["train", "--workdir", str(tmp_path / "retrained"), "--subset", "retain",
                 *common]) == 0
    assert main(["unlearn", "--from", str(tmp_path / "original"), "--method", "i2i_decouple",
                 "--steps", "6", "--hp", "decouple_steps=3",
                 "--out", str(tmp_path / "decouple"), "--no-progress"]) == 0
    out = tmp_path / "evaluation"
    capsys.readouterr()
    assert main(["evaluate", "--original", str(tmp_path / "original"), "--retrained",
                 str(tmp_path / "retrained"), "--unlearned", str(tmp_path / "decouple"),
                 "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert ("| method | forget_error | retain_error | test_error | ood_auroc | ood_gap | "
            "to_retrain | attack_AUC | attack_TPR@1% |") in printed
    payload = json.loads((out / "evaluation.json").read_text())
    rows = {row["method"]: row for row in payload["rows"]}
    assert set(rows) == {"original", "retrain", "i2i_decouple"}
    assert payload["metadata"]["image_to_image"] is True
    assert rows["retrain"]["ood_gap"] == 0.0 and rows["retrain"]["to_retrain"] == 0.0
    for row in rows.values():
        # the attack scores −error, so its AUC is the complement of the OOD AUROC
        assert row["attack_AUC"] == pytest.approx(1.0 - row["ood_auroc"], abs=1e-9)
        assert row["roc"]["num_members"] == 142  # digit 0 of the training split
    assert rows["original"]["to_retrain"] > 0
    assert (out / "evaluation_roc.png").read_bytes()[:4] == b"\x89PNG"
