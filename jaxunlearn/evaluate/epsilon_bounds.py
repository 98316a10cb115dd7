"""Empirical lower bounds on ε from a membership attack's error rates (privacy auditing).

An (ε, δ)-DP mechanism forces every test between neighbouring inputs to satisfy
FPR + e^ε FNR ≥ 1 − δ and FNR + e^ε FPR ≥ 1 − δ (Kairouz, Oh & Viswanath 2015, Thm 2.1). An
attack run on finite samples only estimates FPR and FNR, so an auditing claim replaces them by
Clopper–Pearson upper confidence bounds (Jagielski, Ullman & Oprea, NeurIPS 2020, §3; Nasr et al.,
IEEE S&P 2021, §4):

    ε_lb = max over thresholds t of max(log((1 − δ − FPR_hi(t)) / FNR_hi(t)),
                                        log((1 − δ − FNR_hi(t)) / FPR_hi(t))).

Applied to unlearning, "members" are the attack scores of forget examples (or of models that saw
them) and "non-members" the scores of held-out examples (or of retrained models).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["clopper_pearson_upper", "clopper_pearson_lower", "clopper_pearson_interval",
           "epsilon_lower_bound"]


def _check_counts(successes, trials):
    successes = np.asarray(successes)
    trials = np.asarray(trials)
    if np.any(trials < 1):
        raise ValueError("trials must be >= 1")
    if np.any(successes < 0) or np.any(successes > trials):
        raise ValueError("successes must lie in [0, trials]")
    return successes.astype(np.float64), trials.astype(np.float64)


def _check_level(level: float, name: str) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"{name} must lie in (0, 1), got {level}")
    return level


def clopper_pearson_upper(successes, trials, level: float = 0.95):
    """One-sided upper Clopper–Pearson bound: P(p ≤ bound) ≥ ``level`` (Clopper & Pearson 1934).

    bound = Beta⁻¹(level; k + 1, n − k), and 1 when k = n.

    Example:
      >>> round(float(clopper_pearson_upper(0, 100, 0.95)), 4)
      0.0295
    """
    level = _check_level(level, "level")
    k, n = _check_counts(successes, trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = special.betaincinv(k + 1.0, np.maximum(n - k, 1e-300), level)
    return np.where(k >= n, 1.0, bound)


def clopper_pearson_lower(successes, trials, level: float = 0.95):
    """One-sided lower Clopper–Pearson bound: P(p ≥ bound) ≥ ``level``.

    bound = Beta⁻¹(1 − level; k, n − k + 1), and 0 when k = 0.

    Example:
      >>> round(float(clopper_pearson_lower(100, 100, 0.95)), 4)
      0.9705
    """
    level = _check_level(level, "level")
    k, n = _check_counts(successes, trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = special.betaincinv(np.maximum(k, 1e-300), n - k + 1.0, 1.0 - level)
    return np.where(k <= 0, 0.0, bound)


def clopper_pearson_interval(successes, trials, confidence: float = 0.95):
    """Two-sided Clopper–Pearson interval with coverage ≥ ``confidence``.

    Example:
      >>> low, high = clopper_pearson_interval(5, 10, 0.95)
      >>> round(float(low), 4), round(float(high), 4)
      (0.1871, 0.8129)
    """
    confidence = _check_level(confidence, "confidence")
    tail = (1.0 - confidence) / 2.0
    return (clopper_pearson_lower(successes, trials, 1.0 - tail),
            clopper_pearson_upper(successes, trials, 1.0 - tail))


def _as_scores(scores, name: str) -> np.ndarray:
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {scores.shape}")
    if scores.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{name} must be finite")
    return scores


def epsilon_lower_bound(scores_members, scores_nonmembers, delta: float,
                        confidence: float = 0.95, *, return_threshold: bool = False):
    """Audited lower bound on ε from attack scores (higher score = "member").

    Every distinct score is tried as a threshold (predict member when score ≥ t), plus one above
    all scores. At each threshold FPR = fraction of non-members flagged and FNR = fraction of
    members missed are replaced by one-sided Clopper–Pearson upper bounds at level
    1 − (1 − confidence)/2 each, so both hold jointly with probability ≥ ``confidence`` (union
    bound); the bound is the maximum over thresholds of the two hypothesis-testing inequalities,
    clipped at 0.

    Caveat: taking the maximum over thresholds on the same samples makes the stated confidence
    optimistic; for a strict audit choose the threshold on a separate split (Nasr et al. 2021)
    and call this with the held-out scores only.

    Args:
      scores_members: [n1] attack scores of member (forget / unlearned-model) samples.
      scores_nonmembers: [n0] attack scores of non-member (held-out / retrained) samples.
      delta: δ in (0, 1).
      confidence: joint confidence of the two rate bounds, in (0, 1).
      return_threshold: also return the maximising threshold.

    Returns:
      ε_lb ≥ 0 (float), or ``(ε_lb, threshold)``.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> members = rng.normal(4.0, 1.0, 2000)
      >>> nonmembers = rng.normal(0.0, 1.0, 2000)
      >>> 0.5 < epsilon_lower_bound(members, nonmembers, delta=1e-5) < 16.0
      True
    """
    members = _as_scores(scores_members, "scores_members")
    nonmembers = _as_scores(scores_nonmembers, "scores_nonmembers")
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    confidence = _check_level(confidence, "confidence")
    level = 1.0 - (1.0 - confidence) / 2.0
    thresholds = np.unique(np.concatenate([members, nonmembers]))
    thresholds = np.append(thresholds, np.inf)
    false_negatives = np.searchsorted(np.sort(members), thresholds, side="left")
    false_positives = nonmembers.size - np.searchsorted(np.sort(nonmembers), thresholds, "left")
    fpr = clopper_pearson_upper(false_positives, nonmembers.size, level)
    fnr = clopper_pearson_upper(false_negatives, members.size, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.fmax(np.log(1.0 - delta - fpr) - np.log(fnr),
                      np.log(1.0 - delta - fnr) - np.log(fpr))
    eps = np.where(np.isnan(eps), 0.0, np.clip(eps, 0.0, None))
    best = int(np.argmax(eps))
    if return_threshold:
        return float(eps[best]), float(thresholds[best])
    return float(eps[best])
