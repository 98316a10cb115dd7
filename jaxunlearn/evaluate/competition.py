"""The NeurIPS 2023 machine-unlearning competition score (forget quality × utility).

Triantafillou et al., "Are we making progress in unlearning? Findings from the first NeurIPS
unlearning competition" (arXiv 2406.09073, §3), as scored by the organisers' evaluation code
(google-deepmind/unlearning_evaluation, ``metric.py`` and ``main.py``):

1. For every forget example s, the logit-scaled confidence φ = log(p_y / (1 − p_y)) is collected
   under M unlearned models (one unlearning run each, same original model) and M models retrained
   on the retain set: arrays ``unlearned[M, S]`` and ``retrained[M, S]``.
2. Per example, an attacker tries many decision rules to tell the two samples apart; each rule has
   a false-positive rate FPR and false-negative rate FNR, and (ε, δ)-DP implies
   FPR + e^ε FNR ≥ 1 − δ and FNR + e^ε FPR ≥ 1 − δ (Kairouz, Oh & Viswanath 2015, Thm 2.1), so

       ε_rule = max(log(1 − δ − FPR) − log FNR, log(1 − δ − FNR) − log FPR), clipped at 0.

   The per-example ε is the maximum over rules, capped (50 by default).
3. Each ε earns points in buckets of width 0.5: [0, 0.5) → 1, [0.5, 1) → 1/2, … up to
   ⌈log(M − 1)⌉; larger ε earn 0. The forget quality F is the mean over the forget set.
4. Final score = F × (RA_u / RA_r) × (TA_u / TA_r), accuracies averaged over the M models.

Everything here is NumPy (float64): these are statistics of numbers, not of models.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

DEFAULT_DELTA = 1e-5
DEFAULT_CAP = 50.0
THRESHOLDS_PER_UNIT = 100
# Half-width (in φ units) of the window the double-threshold family explores around the
# peakier distribution, as in the reference metric.
_DOUBLE_BUFFER = 2.0
# If one side's range is below this fraction of the other's, the unlearned distribution is taken
# to be degenerate (e.g. collapsed) and the example scores the cap.
_RANGE_RATIO = 0.01
_RULES = ("single", "double")

__all__ = [
    "epsilon_from_rates",
    "per_example_epsilon",
    "forget_quality",
    "competition_score",
    "retrain_ceiling",
]


def _check_delta(delta: float) -> float:
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    return delta


def _rule_epsilons(fp: np.ndarray, fn: np.ndarray, num_neg: int, num_pos: int, delta: float,
                   fpr: np.ndarray | None = None, fnr: np.ndarray | None = None) -> np.ndarray:
    """ε per rule from error counts, with the reference metric's special cases.

    Both errors zero → +inf (perfect separation); exactly one zero → NaN (rule dropped, taken as
    a sign of too few samples); otherwise the two-sided hypothesis-testing bound clipped at 0.
    ``fpr``/``fnr`` may replace the point rates (e.g. by confidence bounds).
    """
    fp = np.asarray(fp)
    fn = np.asarray(fn)
    if fpr is None:
        fpr = fp / num_neg
    if fnr is None:
        fnr = fn / num_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.log(1.0 - delta - fpr) - np.log(fnr)
        second = np.log(1.0 - delta - fnr) - np.log(fpr)
        eps = np.clip(np.fmax(first, second), 0.0, None)
    both_zero = (fp == 0) & (fn == 0)
    one_zero = ((fp == 0) | (fn == 0)) & ~both_zero
    eps = np.where(one_zero, np.nan, eps)
    return np.where(both_zero, np.inf, eps)


def epsilon_from_rates(fpr, fnr, delta: float = DEFAULT_DELTA, cap: float = DEFAULT_CAP) -> float:
    """Largest ε implied by a family of tests with the given error rates (Kairouz et al. 2015).

    ε = max over rules of max(log((1 − δ − FPR)/FNR), log((1 − δ − FNR)/FPR)), clipped to
    [0, cap]. Rules with exactly one zero rate are dropped and both zero gives the cap, as in the
    competition metric. With the population rates of a Gaussian mechanism this is its exact ε(δ).

    Args:
      fpr, fnr: arrays of the same shape, one entry per decision rule, values in [0, 1].
      delta: δ in (0, 1).
      cap: upper clip of ε.

    Returns:
      ε as a float (0 if no rule survives).

    Example:
      >>> from scipy.stats import norm
      >>> t = np.linspace(-8.0, 9.0, 200_001)
      >>> eps = epsilon_from_rates(norm.sf(t), norm.cdf(t - 1.0), delta=1e-5)
      >>> round(eps, 3)
      4.377
    """
    delta = _check_delta(delta)
    fpr = np.asarray(fpr, np.float64)
    fnr = np.asarray(fnr, np.float64)
    if fpr.shape != fnr.shape:
        raise ValueError(f"fpr and fnr must have the same shape, got {fpr.shape} and {fnr.shape}")
    if fpr.size == 0:
        raise ValueError("fpr must not be empty")
    if np.any((fpr < 0) | (fpr > 1)) or np.any((fnr < 0) | (fnr > 1)):
        raise ValueError("fpr and fnr must lie in [0, 1]")
    eps = _rule_epsilons(fpr, fnr, 1, 1, delta, fpr, fnr)
    if np.all(np.isnan(eps)):
        return 0.0
    return float(np.clip(np.nanmax(eps), 0.0, cap))


def _count_in(sorted_values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """How many values lie in the closed interval [left, right] (0 when left > right)."""
    counts = (np.searchsorted(sorted_values, right, side="right")
              - np.searchsorted(sorted_values, left, side="left"))
    return np.maximum(counts, 0)


def _single_counts(pos: np.ndarray, neg: np.ndarray, per_unit: int):
    """Rule: predict positive when φ ≥ t, t on a grid of ``per_unit`` per unit of the pooled range."""
    pooled = np.concatenate([pos, neg])
    low, high = pooled.min(), pooled.max()
    thresholds = np.linspace(low, high, int(np.ceil((high - low) * per_unit)))
    fn = np.searchsorted(np.sort(pos), thresholds, side="left")           # pos < t
    fp = len(neg) - np.searchsorted(np.sort(neg), thresholds, side="left")  # neg ≥ t
    return fp, fn


def _double_counts(pos: np.ndarray, neg: np.ndarray, per_unit: int):
    """Rule: predict the peakier side when l ≤ φ ≤ r, over a grid of intervals around it."""
    pos_range = pos.max() - pos.min()
    neg_range = neg.max() - neg.min()
    width = min(pos_range, neg_range)
    # The peakier (narrower) distribution is the positive class of this family.
    peaky, other = (neg, pos) if pos_range >= neg_range else (pos, neg)
    low = peaky.min() + width - _DOUBLE_BUFFER
    high = peaky.max() + _DOUBLE_BUFFER
    right = np.linspace(low, high, int(np.ceil((high - low) * per_unit)))
    num_left = int(np.ceil(2 * _DOUBLE_BUFFER * per_unit))
    offsets = np.linspace(-width - _DOUBLE_BUFFER, -width + _DOUBLE_BUFFER, num_left)
    # The reference builds each left grid as linspace(r − w − b, r − w + b); r + offsets is the
    # same grid up to rounding.
    left = (right[:, None] + offsets[None, :]).reshape(-1)
    right = np.repeat(right, num_left)
    tp = _count_in(np.sort(peaky), left, right)
    fp = _count_in(np.sort(other), left, right)
    return fp, len(peaky) - tp, len(other), len(peaky)


def _example_epsilon(pos: np.ndarray, neg: np.ndarray, delta: float, cap: float,
                     rules: Sequence[str], per_unit: int, confidence: float | None) -> float:
    pos_range = pos.max() - pos.min()
    neg_range = neg.max() - neg.min()
    largest, smallest = max(pos_range, neg_range), min(pos_range, neg_range)
    if largest == 0.0:
        # Both sides constant: identical values cannot be told apart, different ones always can.
        return 0.0 if pos[0] == neg[0] else cap
    if smallest / largest < _RANGE_RATIO:
        return cap
    eps_parts = []
    if "double" in rules:
        fp, fn, num_neg, num_pos = _double_counts(pos, neg, per_unit)
        eps_parts.append(_epsilons_for_counts(fp, fn, num_neg, num_pos, delta, confidence))
    if "single" in rules:
        fp, fn = _single_counts(pos, neg, per_unit)
        eps_parts.append(_epsilons_for_counts(fp, fn, len(neg), len(pos), delta, confidence))
    eps = np.concatenate(eps_parts)
    if eps.size == 0 or np.all(np.isnan(eps)):
        return 0.0
    return float(np.clip(np.nanmax(eps), 0.0, cap))


def _epsilons_for_counts(fp, fn, num_neg, num_pos, delta, confidence):
    if confidence is None:
        return _rule_epsilons(fp, fn, num_neg, num_pos, delta)
    from jaxunlearn.evaluate.epsilon_bounds import clopper_pearson_upper

    # One-sided bounds for both rates, each at (1 − (1 − confidence)/2) (union bound).
    level = 1.0 - (1.0 - confidence) / 2.0
    fpr = clopper_pearson_upper(fp, num_neg, level)
    fnr = clopper_pearson_upper(fn, num_pos, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.fmax(np.log(1.0 - delta - fpr) - np.log(fnr),
                      np.log(1.0 - delta - fnr) - np.log(fpr))
    return np.clip(eps, 0.0, None)


def _as_confs(array, name: str) -> np.ndarray:
    array = np.asarray(array, np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape [num_models, num_examples], got {array.shape}")
    if array.shape[0] < 2 or array.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 models and 1 example, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def per_example_epsilon(
    unlearned,
    retrained,
    delta: float = DEFAULT_DELTA,
    cap: float = DEFAULT_CAP,
    *,
    rules: Sequence[str] = _RULES,
    thresholds_per_unit: int = THRESHOLDS_PER_UNIT,
    confidence: float | None = None,
) -> np.ndarray:
    """Per-forget-example ε of the competition metric (Triantafillou et al. 2024, §3).

    For example s the positive side is whichever of ``retrained[:, s]`` and ``unlearned[:, s]`` has
    the larger median (ties: unlearned). If one side's range is below 1% of the other's, ε = cap.
    Otherwise ε is the maximum of :func:`epsilon_from_rates` over two rule families, on empirical
    rates over the M + M samples:

    * ``"single"``: predict positive when φ ≥ t, t on a grid of 100 per unit over the pooled range;
    * ``"double"``: predict the peakier (narrower) side when l ≤ φ ≤ r, r on a 100-per-unit grid
      from min + w − 2 to max + 2 of the peakier side, l on 400 points in [r − w − 2, r − w + 2],
      w = the smaller range.

    Rules where exactly one error count is zero are dropped; both zero give ε = ∞, clipped to the
    cap. With finite samples the maximum over thousands of rules is biased upward (identical
    distributions give mean ε ≈ 1.2 at M = 512); compare with :func:`retrain_ceiling`.

    Args:
      unlearned: [M, S] logit-scaled confidences of the S forget examples under M unlearned models.
      retrained: [M, S] the same under M retrained models (M must match, as in the competition).
      delta: δ in (0, 1); the competition uses 1e-5.
      cap: maximum ε (50 in the competition).
      rules: subset of ``("single", "double")``.
      thresholds_per_unit: grid density (100 in the competition).
      confidence: if set, replace FPR and FNR by Clopper–Pearson upper bounds at this joint level
        (not part of the competition; gives an ε that holds with that confidence per rule).

    Returns:
      ε, a float64 array of shape [S] in [0, cap].

    Example:
      >>> rng = np.random.default_rng(0)
      >>> retrained = rng.normal(0.0, 1.0, (64, 3))
      >>> unlearned = rng.normal([0.0, 2.0, 6.0], 1.0, (64, 3))
      >>> eps = per_example_epsilon(unlearned, retrained)
      >>> bool(eps[0] < eps[1] < eps[2])
      True
    """
    unlearned = _as_confs(unlearned, "unlearned")
    retrained = _as_confs(retrained, "retrained")
    if unlearned.shape != retrained.shape:
        raise ValueError(
            "unlearned and retrained must have the same shape [num_models, num_examples], got "
            f"{unlearned.shape} and {retrained.shape}")
    delta = _check_delta(delta)
    if not cap > 0:
        raise ValueError(f"cap must be positive, got {cap}")
    rules = tuple(rules)
    if not rules or any(rule not in _RULES for rule in rules):
        raise ValueError(f"rules must be a non-empty subset of {_RULES}, got {rules}")
    if int(thresholds_per_unit) < 1:
        raise ValueError(f"thresholds_per_unit must be >= 1, got {thresholds_per_unit}")
    if confidence is not None and not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    retrain_is_positive = np.median(retrained, axis=0) > np.median(unlearned, axis=0)
    positive = np.where(retrain_is_positive, retrained, unlearned)
    negative = np.where(retrain_is_positive, unlearned, retrained)
    return np.array([
        _example_epsilon(positive[:, s], negative[:, s], delta, float(cap), rules,
                         int(thresholds_per_unit), confidence)
        for s in range(positive.shape[1])
    ])


def forget_quality(epsilons, num_models: int) -> float:
    """Forget quality F: mean bucket points of the per-example ε (Triantafillou et al. 2024, §3).

    Buckets of width 0.5 start at 0 and end at ⌈log(num_models − 1)⌉ (natural log; 7 for 512
    models, giving 14 buckets): ε in [k/2, (k+1)/2) earns 2^(−k), ε beyond the last bucket earns 0.

    Args:
      epsilons: [S] per-example ε (non-negative), e.g. from :func:`per_example_epsilon`.
      num_models: M, the number of models per side used to compute ε.

    Returns:
      F in [0, 1].

    Example:
      >>> forget_quality(np.array([0.2, 0.7, 6.9, 7.0]), num_models=512)
      0.3750305175...
    """
    epsilons = np.asarray(epsilons, np.float64)
    if epsilons.ndim != 1 or epsilons.size == 0:
        raise ValueError(f"epsilons must be a non-empty 1-D array, got shape {epsilons.shape}")
    if np.any(np.isnan(epsilons)) or np.any(epsilons < 0):
        raise ValueError("epsilons must be non-negative numbers")
    if int(num_models) != num_models or num_models < 2:
        raise ValueError(f"num_models must be an integer >= 2, got {num_models}")
    max_epsilon = np.ceil(np.log(num_models - 1))
    num_buckets = int(round(max_epsilon / 0.5))
    with np.errstate(invalid="ignore"):
        bucket = np.floor(np.minimum(epsilons, 1e6) / 0.5)
    points = np.where(bucket < num_buckets, 0.5 ** np.minimum(bucket, 1000), 0.0)
    return float(points.mean())


def _mean_accuracy(value, name: str) -> float:
    value = np.asarray(value, np.float64)
    if value.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.any(value < 0) or not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be finite and non-negative")
    return float(value.mean())


def competition_score(forget_quality_value: float, acc_unlearned_retain, acc_retrained_retain,
                      acc_unlearned_test, acc_retrained_test) -> float:
    """Final competition score F × (RA_u / RA_r) × (TA_u / TA_r) (Triantafillou et al. 2024, §3).

    Accuracies may be scalars or per-model arrays; arrays are averaged over models first, as the
    organisers' ``main.py`` does. Ratios are not capped, so an unlearned model more accurate than
    retraining is rewarded.

    Example:
      >>> competition_score(0.5, [0.9, 0.8], 0.9, 0.6, [0.75, 0.75])
      0.377...
    """
    forget_quality_value = float(forget_quality_value)
    if not 0.0 <= forget_quality_value <= 1.0:
        raise ValueError(f"forget_quality_value must lie in [0, 1], got {forget_quality_value}")
    ra_u = _mean_accuracy(acc_unlearned_retain, "acc_unlearned_retain")
    ra_r = _mean_accuracy(acc_retrained_retain, "acc_retrained_retain")
    ta_u = _mean_accuracy(acc_unlearned_test, "acc_unlearned_test")
    ta_r = _mean_accuracy(acc_retrained_test, "acc_retrained_test")
    if ra_r == 0.0:
        raise ValueError("acc_retrained_retain must be positive")
    if ta_r == 0.0:
        raise ValueError("acc_retrained_test must be positive")
    return forget_quality_value * (ra_u / ra_r) * (ta_u / ta_r)


def retrain_ceiling(retrained, other_retrained=None, *, num_models: int | None = None,
                    seed: int = 0, delta: float = DEFAULT_DELTA, cap: float = DEFAULT_CAP,
                    rules: Sequence[str] = _RULES) -> float:
    """Forget quality of retraining scored against retraining: the best F reachable at M models.

    Perfect unlearning does not score F = 1: the per-example ε is a maximum over many rules on
    finite samples (Triantafillou et al. 2024 report the same effect). Scoring two disjoint sets of
    retrained models against each other gives the value exact unlearning would get; report F next
    to it.

    Args:
      retrained: [M', S] confidences under retrained models. If ``other_retrained`` is None, two
        disjoint random groups of ``num_models`` models (default M' // 2) are drawn from it.
      other_retrained: optional second, independent [M'', S] set of retrained models.
      num_models: models per side (must match the F being compared); at most M' // 2 when
        splitting, at most min(M', M'') otherwise.
      seed: seed of the random split.

    Returns:
      The forget quality F of retrain-vs-retrain at ``num_models`` models.

    Example:
      >>> rng = np.random.default_rng(1)
      >>> ceiling = retrain_ceiling(rng.normal(size=(128, 20)), num_models=64)
      >>> 0.0 < ceiling < 0.6
      True
    """
    retrained = _as_confs(retrained, "retrained")
    rng = np.random.default_rng(seed)
    if other_retrained is None:
        available = retrained.shape[0] // 2
        num_models = available if num_models is None else int(num_models)
        if not 2 <= num_models <= available:
            raise ValueError(
                f"num_models must be in [2, {available}] to split {retrained.shape[0]} models")
        order = rng.permutation(retrained.shape[0])
        side_a = retrained[order[:num_models]]
        side_b = retrained[order[num_models:2 * num_models]]
    else:
        other_retrained = _as_confs(other_retrained, "other_retrained")
        if other_retrained.shape[1] != retrained.shape[1]:
            raise ValueError("other_retrained must have the same number of examples as retrained")
        available = min(retrained.shape[0], other_retrained.shape[0])
        num_models = available if num_models is None else int(num_models)
        if not 2 <= num_models <= available:
            raise ValueError(f"num_models must be in [2, {available}]")
        side_a = retrained[rng.permutation(retrained.shape[0])[:num_models]]
        side_b = other_retrained[rng.permutation(other_retrained.shape[0])[:num_models]]
    eps = per_example_epsilon(side_a, side_b, delta, cap, rules=rules)
    return forget_quality(eps, num_models)
