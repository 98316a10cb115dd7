"""The standard evaluation of several models against the retrained reference, in one pass.

For each model: UA / RA / TA and the per-split losses (SalUn / Unlearn-Sparse protocol), the
MIA-efficacy of a confidence attack fitted on the model's own retain (members, the first |D_t|
of them, so the classes are balanced as in SalUn's code) vs test (non-members) outputs and applied
to the forget set, and — against the retrained model — prediction agreement and the mean
total-variation distance of the output distributions on the forget set (the TRW paper's
metric). The gap averages |metric − retrain| over UA, RA, TA and MIA-efficacy (SalUn, "Avg. Gap").
``forget_auc`` is the AUC of a loss-threshold attack telling forget from test examples (AMUN's
criterion for random forgetting: 50 % is random guessing). A model whose outputs are not finite
(a run that diverged) gets a row of NaN metrics with ``diverged: True`` instead of stopping the
evaluation of the others.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from jaxunlearn.evaluate.accuracy import _accuracy_and_loss
from jaxunlearn.evaluate.class_metrics import prediction_agreement, tv_distance
from jaxunlearn.evaluate.mia import mia_efficacy, mia_features
from jaxunlearn.evaluate.roc import auc
from jaxunlearn.evaluate.signals import cross_entropy_loss, softmax
from jaxunlearn.train.steps import predict_logits

GAP_METRICS = ("UA", "RA", "TA", "MIA")
GAP_DEFINITION = ("mean |metric - retrain| over UA, RA, TA and MIA (MIA-efficacy), in "
                  "percentage points (SalUn's Avg. Gap)")
_ROW_METRICS = ("forget_accuracy", "forget_loss", "retain_accuracy", "retain_loss",
                "test_accuracy", "test_loss", "UA", "RA", "TA", "MIA", "forget_auc", "agreement",
                "tv_forget", "gap")


def gap_to_reference(metrics: dict[str, float], reference: dict[str, float]) -> float:
    """The gap to the retrained model: mean |metric − reference| over UA, RA, TA and MIA-efficacy
    (:data:`GAP_METRICS`; SalUn's "Avg. Gap", Table 3), in percentage points.

    The one definition of ``gap`` in the library: ``jaxunlearn unlearn`` / ``evaluate``, the
    quickstart and the experiments' tuning all report this number.

    >>> gap_to_reference({"UA": 5, "RA": 99, "TA": 90, "MIA": 10},
    ...                  {"UA": 2, "RA": 100, "TA": 92, "MIA": 12})
    2.0
    """
    missing = [key for key in GAP_METRICS if key not in metrics or key not in reference]
    if missing:
        raise ValueError(f"gap_to_reference: metrics {missing} missing; the gap needs "
                         f"{list(GAP_METRICS)} of both rows")
    return float(np.mean([abs(metrics[key] - reference[key]) for key in GAP_METRICS]))


def evaluate_models(
    apply_fn: Callable, models: dict[str, dict], splits: Any, *, reference: str = "retrain",
    feature: str = "confidence", attacker: str = "svc", batch_size: int = 512,
) -> list[dict]:
    """One row per model of ``models`` (name → variables); ``reference`` names the retrained one.

    Returns rows with ``UA, RA, TA`` (%), ``MIA`` (MIA-efficacy, %), ``forget_loss``,
    ``retain_loss``, ``test_loss``, ``agreement`` (% of forget examples predicted as the
    reference predicts), ``tv_forget`` (mean TV distance to the reference on D_f),
    ``forget_auc`` (%, forget vs test, loss threshold) and ``gap``; a diverged model's row has
    NaN metrics and ``diverged: True``.
    """
    if reference not in models:
        raise ValueError(f"reference: {reference!r} is not among the models {sorted(models)}")
    retain, test, forget = splits.retain_set, splits.test, splits.forget_set
    members = retain.subset(np.arange(min(len(test), len(retain))))
    logits: dict[str, dict[str, np.ndarray]] = {}
    for name, variables in models.items():
        logits[name] = {
            split: predict_logits(apply_fn, variables, dataset.inputs, batch_size=batch_size)
            for split, dataset in (("forget", forget), ("retain", retain), ("test", test),
                                   ("members", members))
        }
    finite = {name: all(np.isfinite(values).all() for values in outputs.values())
              for name, outputs in logits.items()}
    if not finite[reference]:
        raise ValueError(f"reference: the outputs of {reference!r} are not finite")
    rows = []
    for name, outputs in logits.items():
        row: dict[str, Any] = {"method": name}
        if not finite[name]:
            rows.append({**row, **dict.fromkeys(_ROW_METRICS, float("nan")), "diverged": True})
            continue
        for split, dataset in (("forget", forget), ("retain", retain), ("test", test)):
            accuracy, loss = _accuracy_and_loss(outputs[split], dataset.labels)
            row[f"{split}_accuracy"], row[f"{split}_loss"] = accuracy, loss
        row["UA"] = 100.0 * (1.0 - row["forget_accuracy"])
        row["RA"] = 100.0 * row["retain_accuracy"]
        row["TA"] = 100.0 * row["test_accuracy"]
        row["MIA"] = 100.0 * float(mia_efficacy(
            mia_features(outputs["members"], members.labels, feature=feature),
            mia_features(outputs["test"], test.labels, feature=feature),
            mia_features(outputs["forget"], forget.labels, feature=feature),
            attacker=attacker))
        losses = [cross_entropy_loss(outputs[split], dataset.labels)
                  for split, dataset in (("forget", forget), ("test", test))]
        row["forget_auc"] = 100.0 * auc(-np.concatenate(losses), np.concatenate(
            [np.ones(len(losses[0]), bool), np.zeros(len(losses[1]), bool)]))
        reference_forget = logits[reference]["forget"]
        row["agreement"] = 100.0 * float(prediction_agreement(outputs["forget"], reference_forget))
        row["tv_forget"] = float(np.mean(tv_distance(softmax(outputs["forget"]),
                                                     softmax(reference_forget))))
        rows.append(row)
    reference_row = next(row for row in rows if row["method"] == reference)
    for row in rows:
        if not row.get("diverged"):
            row["gap"] = gap_to_reference(row, reference_row)
    return rows
