"""ROC summaries of a membership attack: AUC, balanced accuracy and TPR at low FPR.

The reporting of Carlini et al. (S&P 2022, "Membership Inference Attacks From First Principles",
§III-B and ``mi_lira_2021/plot.py``): the full ROC curve, its area, the best balanced accuracy
max_t 1 − (FPR_t + FNR_t)/2, and the true-positive rate at fixed low false-positive rates. Higher
score = more likely a member. The AUC is the Mann–Whitney U statistic divided by n₁n₀ with ties
counted one half (Hanley & McNeil, Radiology 1982, eq. 1), which equals the trapezoidal area of the
ROC curve through all distinct thresholds.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import stats

__all__ = ["roc_metrics", "roc_curve", "auc", "null_auc_standard_error", "DEFAULT_FPR_TARGETS"]

DEFAULT_FPR_TARGETS = (1e-2, 1e-3, 1e-5)


def _check(scores: Any, is_member: Any) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member)
    if scores.ndim != 1:
        raise ValueError(f"scores: expected a 1-D array, got shape {scores.shape}")
    if is_member.shape != scores.shape:
        raise ValueError(f"is_member: shape {is_member.shape} does not match scores {scores.shape}")
    if np.any(np.isnan(scores)):
        raise ValueError("scores: contain NaN")
    if is_member.dtype != bool:
        if not np.all((is_member == 0) | (is_member == 1)):
            raise ValueError("is_member: expected booleans or 0/1 values")
        is_member = is_member.astype(bool)
    if is_member.all() or not is_member.any():
        raise ValueError("is_member: need at least one member and one non-member")
    return scores, is_member


def auc(scores: Any, is_member: Any) -> float:
    """Area under the ROC curve, Pr[s_member > s_nonmember] + ½ Pr[tie] (Mann–Whitney).

    >>> auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    """
    scores, is_member = _check(scores, is_member)
    ranks = stats.rankdata(scores)  # average ranks: ties count one half
    num_members = int(is_member.sum())
    num_nonmembers = is_member.size - num_members
    rank_sum = ranks[is_member].sum()
    u_statistic = rank_sum - num_members * (num_members + 1) / 2.0
    return float(u_statistic / (num_members * num_nonmembers))


def roc_curve(scores: Any, is_member: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC operating points for the rule "member iff score ≥ t" over every distinct score t.

    Returns ``(fpr, tpr, thresholds)``, each of length (distinct scores + 1); the first point is
    (0, 0) with threshold +inf, the last is (1, 1).

    >>> fpr, tpr, _ = roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    scores, is_member = _check(scores, is_member)
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    sorted_members = is_member[order]
    true_positives = np.cumsum(sorted_members)
    false_positives = np.cumsum(~sorted_members)
    # Keep the last position of each run of equal scores: a threshold admits all tied examples.
    last_of_run = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    tpr = np.r_[0.0, true_positives[last_of_run] / true_positives[-1]]
    fpr = np.r_[0.0, false_positives[last_of_run] / false_positives[-1]]
    thresholds = np.r_[np.inf, sorted_scores[last_of_run]]
    return fpr, tpr, thresholds


def roc_metrics(
    scores: Any, is_member: Any, fpr_targets: Sequence[float] = DEFAULT_FPR_TARGETS
) -> dict[str, Any]:
    """AUC, best balanced accuracy, TPR at low FPR and the ROC curve of an attack.

    Carlini et al. (S&P 2022), §III-B: TPR at FPR ≤ target is the largest TPR over the
    thresholds whose FPR does not exceed the target (0 when only the empty rule qualifies, which
    happens whenever target < 1/number of non-members). Balanced accuracy is
    max_t ½(TPR_t + 1 − FPR_t), the figure LiRA and U-LiRA report as "attack accuracy".

    Args:
      scores: ``[N]`` attack scores, higher = member.
      is_member: ``[N]`` booleans (or 0/1), True for members.
      fpr_targets: the false-positive rates at which to read the TPR.

    Returns:
      ``{"auc", "balanced_accuracy", "tpr_at_fpr": {target: tpr}, "fpr", "tpr", "thresholds"}``.

    >>> metrics = roc_metrics([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    >>> metrics["auc"], metrics["balanced_accuracy"], metrics["tpr_at_fpr"][0.01]
    (0.75, 0.75, 0.5)
    """
    fpr, tpr, thresholds = roc_curve(scores, is_member)
    tpr_at_fpr = {}
    for target in fpr_targets:
        target = float(target)
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"fpr_targets: {target} is not a rate in [0, 1]")
        tpr_at_fpr[target] = float(np.max(tpr[fpr <= target]))
    return {
        "auc": auc(scores, is_member),
        "balanced_accuracy": float(np.max(0.5 * (tpr + 1.0 - fpr))),
        "tpr_at_fpr": tpr_at_fpr,
        "fpr": fpr,
        "tpr": tpr,
        "thresholds": thresholds,
    }


def null_auc_standard_error(num_members: int, num_nonmembers: int) -> float:
    """Standard error of the AUC of an attack with no signal (continuous scores).

    Under H₀ (member and non-member scores identically distributed) the Mann–Whitney U has
    variance n₁n₀(n₁ + n₀ + 1)/12, so the AUC = U/(n₁n₀) has standard error
    √((n₁ + n₀ + 1)/(12 n₁ n₀)) (Mann & Whitney 1947; Hanley & McNeil 1982). An attack whose AUC
    lies within 0.5 ± 3.3 s.e. is indistinguishable from guessing at the 0.1% level.

    >>> round(null_auc_standard_error(1000, 1000), 5)
    0.01291
    """
    for name, value in (("num_members", num_members), ("num_nonmembers", num_nonmembers)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value}")
    n1, n0 = float(num_members), float(num_nonmembers)
    return float(np.sqrt((n1 + n0 + 1.0) / (12.0 * n1 * n0)))
