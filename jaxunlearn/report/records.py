"""What a result JSON records besides the metric values: attack ROC curves (compact, JSON-able)
and the definitions of the evaluation's columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxunlearn.evaluate.suite import GAP_DEFINITION

__all__ = ["roc_record", "thin_roc", "THRESHOLD_ATTACK", "EVALUATION_METRIC_DEFINITIONS"]

THRESHOLD_ATTACK = ("threshold attack on logit-scaled confidence (LiRA's statistic, no shadow "
                    "models): forget set = members, test set = non-members")

EVALUATION_METRIC_DEFINITIONS = {
    "UA": "100 * (1 - accuracy on the forget set)",
    "RA": "100 * accuracy on the retain set",
    "TA": "100 * accuracy on the test set",
    "MIA": "MIA-efficacy: % of the forget set an SVC on the model's own retain-vs-test "
           "confidences calls non-member (SalUn's protocol)",
    "agreement": "% of forget examples predicted as the retrained model predicts them",
    "tv_forget": "mean total-variation distance to the retrained model's outputs on D_f",
    "gap": GAP_DEFINITION,
    "forget_loss": "mean cross-entropy on the forget set",
    "attack_AUC": f"ROC AUC of the {THRESHOLD_ATTACK}",
    "attack_TPR@1%": "its true-positive rate at 1% false positives (attack_TPR@0.1%: at 0.1%)",
}


def thin_roc(fpr: Any, tpr: Any, max_points: int = 1000) -> tuple[list, list]:
    """At most about ``max_points`` operating points of a ROC staircase, as lists.

    At each FPR of a log grid (from the smallest positive FPR), a linear grid and the reporting
    rates 1e-5 … 1e-1, the point with the largest FPR not above it is kept, with both ends;
    curves with fewer points are kept whole. The TPR at FPR ≤ 1% (or 0.1%, …) read from the
    thinned curve is therefore the full curve's.

    >>> fpr, tpr = thin_roc(np.linspace(0, 1, 5001), np.linspace(0, 1, 5001) ** 0.5, 100)
    >>> len(fpr) <= 101 and fpr[0] == 0.0 and fpr[-1] == 1.0
    True
    """
    fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
    if fpr.size <= max_points:
        return fpr.tolist(), tpr.tolist()
    positive = fpr[fpr > 0]
    grid = np.r_[np.linspace(0.0, 1.0, max_points // 2), 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    if positive.size:
        grid = np.concatenate([np.geomspace(positive.min(), 1.0, max_points // 2), grid])
    keep = np.unique(np.r_[0, np.searchsorted(fpr, grid, side="right") - 1, fpr.size - 1])
    return fpr[keep].tolist(), tpr[keep].tolist()


def roc_record(scores: Any, is_member: Any, *, attack: str, description: str,
               max_points: int = 1000) -> dict:
    """A JSON-able record of an attack's ROC (:func:`jaxunlearn.evaluate.roc_metrics`).

    ``{"attack", "description", "auc", "balanced_accuracy", "tpr_at_fpr" (string keys),
    "fpr", "tpr" (thinned by :func:`thin_roc`), "num_members", "num_nonmembers"}`` — the form
    :func:`jaxunlearn.report.report` finds in a row's ``roc`` field and plots.
    """
    from jaxunlearn.evaluate import roc_metrics

    is_member = np.asarray(is_member, bool)
    metrics = roc_metrics(scores, is_member)
    fpr, tpr = thin_roc(metrics["fpr"], metrics["tpr"], max_points)
    return {"attack": attack, "description": description, "auc": metrics["auc"],
            "balanced_accuracy": metrics["balanced_accuracy"],
            "tpr_at_fpr": {str(k): v for k, v in metrics["tpr_at_fpr"].items()},
            "fpr": fpr, "tpr": tpr, "num_members": int(is_member.sum()),
            "num_nonmembers": int((~is_member).sum())}
