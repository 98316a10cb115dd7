"""LiRA and U-LiRA: per-example likelihood-ratio membership tests from shadow models.

LiRA (Carlini, Chien, Nasr, Song, Terzis, Tramèr, "Membership Inference Attacks From First
Principles", S&P 2022, Algorithm 1 and §IV-C): for each example x, fit Gaussians to its statistic
φ (:func:`jaxunlearn.evaluate.signals.logit_confidence`) over shadow models trained with x (IN)
and without x (OUT), then score the target model's φ

* online:  Λ = log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²)  (Algorithm 1, line 13);
* offline: Λ = −log Pr[Z > φ], Z ~ N(μ_out, σ_out²) — the paper's one-sided test (§IV-C), on
  the −log survival scale so that extreme members keep distinct scores.

With A queries (augmentations) per example the Gaussians are fitted per query and the score is the
mean over queries (``mi_lira_2021/plot.py``). Higher score = member.

U-LiRA (Hayes, Shumailov, Triantafillou, Khalifa, Papernot, "Inexact Unlearning Needs More
Careful Evaluations to Avoid a False Sense of Privacy", SaTML 2025, §4): the same test with IN =
shadow models that were trained on x and then unlearned it, OUT = models that never saw x; the
target is either an unlearned or a retrained model, and the attack's balanced accuracy measures
how far unlearning is from retraining (0.5 = indistinguishable).

Everything here is NumPy/SciPy on arrays of statistics; compute the statistics with a vmapped
model once and keep them as ``[M, N, A]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from jaxunlearn.evaluate.holdout import (
    BALANCE_MODES,
    companion_drop,
    generator,
    resolve_balance,
)
from jaxunlearn.evaluate.roc import roc_metrics

__all__ = ["masked_gaussian_fit", "lira", "lira_game", "ulira", "ulira_game"]

_CENTERS = ("median", "mean")


def _as_stats(name: str, values: Any, ndim: tuple[int, ...]) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in ndim:
        raise ValueError(f"{name}: expected {' or '.join(f'{d}-D' for d in ndim)} statistics, "
                         f"got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return values


def _as_mask(name: str, mask: Any, shape: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"{name}: expected shape {shape} (models, examples), got {mask.shape}")
    if mask.dtype != bool:
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"{name}: expected booleans or 0/1 values")
        mask = mask.astype(bool)
    return mask


def _queries_last(values: np.ndarray, batched: bool) -> np.ndarray:
    """Adds a query axis of length 1 to statistics given without one."""
    return values[..., None] if values.ndim == (2 if batched else 1) else values


def _check_pool(target: np.ndarray, pool: np.ndarray, name: str) -> None:
    if pool.ndim != target.ndim + 1:
        raise ValueError(f"{name}: expected shape [M, *stat_target.shape] = [M, "
                         f"{', '.join(map(str, target.shape))}], got {pool.shape}")
    if pool.shape[1:] != target.shape:
        raise ValueError(f"{name}: shape {pool.shape} does not match stat_target {target.shape} "
                         "after the model axis")
    if pool.shape[0] == 0:
        raise ValueError(f"{name}: holds no models")


def masked_gaussian_fit(
    stat: Any, mask: Any, center: str = "median"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-example Gaussian fit to the statistics of the models selected by a mask.

    LiRA's per-example estimates (Carlini et al. 2022, Algorithm 1, lines 9–10): location =
    median (``mi_lira_2021/plot.py``) or mean of φ over the selected models, scale = the maximum
    likelihood standard deviation √(Σ (φ − mean)² / n) (ddof = 0, as ``np.std`` and
    ``scipy.stats.norm.fit``). Each example uses all of its selected models (the reference code
    truncates every example to the smallest count).

    Args:
      stat: ``[M, N]`` or ``[M, N, A]`` statistics of M models on N examples (A queries).
      mask: ``[M, N]`` booleans, True where model m is in the sample for example n.
      center: ``"median"`` or ``"mean"``.

    Returns:
      ``(location, scale, count)``: ``[N(, A)]``, ``[N(, A)]`` and ``[N]`` (models per example);
      NaN location/scale where the count is 0.

    >>> import numpy as np
    >>> stat = np.array([[1.0, 5.0], [3.0, 7.0], [8.0, 9.0]])
    >>> mask = np.array([[True, True], [True, True], [False, True]])
    >>> location, scale, count = masked_gaussian_fit(stat, mask, center="mean")
    >>> location.tolist(), scale.tolist(), count.tolist()
    ([2.0, 7.0], [1.0, 1.632993161855452], [2, 3])
    """
    if center not in _CENTERS:
        raise ValueError(f"center: expected one of {_CENTERS}, got {center!r}")
    stat = _as_stats("stat", stat, (2, 3))
    mask = _as_mask("mask", mask, stat.shape[:2])
    weights = mask.reshape(mask.shape + (1,) * (stat.ndim - 2)).astype(np.float64)
    count = mask.sum(axis=0)
    safe = np.maximum(count, 1).reshape(count.shape + (1,) * (stat.ndim - 2))
    mean = np.sum(weights * stat, axis=0) / safe
    variance = np.sum(weights * (stat - mean) ** 2, axis=0) / safe
    scale = np.sqrt(variance)
    if center == "median":
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                location = np.nanmedian(np.where(weights > 0, stat, np.nan), axis=0)
    else:
        location = mean
    empty = (count == 0).reshape(count.shape + (1,) * (stat.ndim - 2))
    location = np.where(empty, np.nan, location)
    scale = np.where(empty, np.nan, scale)
    return location, scale, count


def _pooled_scale(stat: np.ndarray, mask: np.ndarray, location: np.ndarray) -> float:
    """One within-example standard deviation pooled over all examples and queries."""
    weights = mask[..., None].astype(np.float64)
    squared = np.where(weights > 0, (stat - np.nan_to_num(location)) ** 2, 0.0)
    return float(np.sqrt(squared.sum() / (weights.sum() * stat.shape[-1])))


def _fit_side(stat: np.ndarray, mask: np.ndarray, center: str, fix_variance: bool,
              min_std: float) -> tuple[np.ndarray, np.ndarray]:
    location, scale, _ = masked_gaussian_fit(stat, mask, center)
    if fix_variance:
        scale = np.full_like(scale, _pooled_scale(stat, mask, location))
    return location, np.maximum(scale, min_std)


def _require_models(mask: np.ndarray, name: str, what: str) -> None:
    missing = np.flatnonzero(mask.sum(axis=0) == 0)
    if missing.size:
        raise ValueError(f"{name}: {missing.size} example(s) have no {what} model "
                         f"(first indices {missing[:5].tolist()})")


def _likelihood_ratio(target, in_loc, in_scale, out_loc, out_scale) -> np.ndarray:
    log_in = stats.norm.logpdf(target, in_loc, in_scale)
    log_out = stats.norm.logpdf(target, out_loc, out_scale)
    return np.mean(log_in - log_out, axis=-1)


def _check_common(center: str, min_std: float) -> None:
    if center not in _CENTERS:
        raise ValueError(f"center: expected one of {_CENTERS}, got {center!r}")
    if not min_std > 0:
        raise ValueError(f"min_std: must be positive, got {min_std}")


def lira(
    stat_target: Any,
    stat_shadow: Any,
    in_mask: Any = None,
    mode: str = "online",
    fix_variance: bool = False,
    *,
    center: str = "median",
    min_std: float = 1e-6,
) -> np.ndarray:
    """LiRA membership scores of a target model (Carlini et al., S&P 2022, Algorithm 1).

    Online: Λ(x) = mean_a [log N(φ_a; μ_in, σ_in²) − log N(φ_a; μ_out, σ_out²)], the log
    likelihood ratio of Algorithm 1 (line 13). Offline (§IV-C): only OUT shadows;
    Λ(x) = mean_a −log Pr[Z > φ_a], Z ~ N(μ_out, σ_out²), the one-sided test of the paper (the
    reference repository instead scores with −log N(φ; μ_out, σ_out²), a two-sided test).
    ``fix_variance`` replaces the per-example σ by one within-example σ pooled over all examples
    and queries, separately for IN and OUT (the "fixed variance" variant, better below ~64
    shadows). Scales are floored at ``min_std`` so that one shadow model still gives a score.

    Args:
      stat_target: ``[N]`` or ``[N, A]`` statistics (φ) of the target model.
      stat_shadow: ``[M, N]`` or ``[M, N, A]`` statistics of M shadow models.
      in_mask: ``[M, N]`` booleans, True where shadow m was trained on example n. May be None in
        offline mode (every shadow is OUT).
      mode: ``"online"`` or ``"offline"``.
      fix_variance: pool the variance over examples.
      center: ``"median"`` (the reference code) or ``"mean"`` for μ.
      min_std: lower bound on σ.

    Returns:
      ``[N]`` scores, higher = member.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> in_mask = rng.random((32, 4)) < 0.5
    >>> shadow = rng.normal(in_mask * 3.0, 1.0)  # IN models have a higher statistic
    >>> scores = lira(np.array([3.0, 3.0, 0.0, 0.0]), shadow, in_mask)
    >>> bool(scores[:2].min() > 0 > scores[2:].max())
    True
    """
    if mode not in ("online", "offline"):
        raise ValueError(f"mode: expected 'online' or 'offline', got {mode!r}")
    _check_common(center, min_std)
    target = _as_stats("stat_target", stat_target, (1, 2))
    shadow = _as_stats("stat_shadow", stat_shadow, (2, 3))
    _check_pool(target, shadow, "stat_shadow")
    num_models, num_examples = shadow.shape[:2]
    if in_mask is None:
        if mode == "online":
            raise ValueError("in_mask: required in online mode")
        in_mask = np.zeros((num_models, num_examples), dtype=bool)
    in_mask = _as_mask("in_mask", in_mask, (num_models, num_examples))
    target = _queries_last(target, batched=False)
    shadow = _queries_last(shadow, batched=True)
    _require_models(~in_mask, "in_mask", "OUT (shadow not trained on it)")
    out_loc, out_scale = _fit_side(shadow, ~in_mask, center, fix_variance, min_std)
    if mode == "offline":
        return np.mean(-stats.norm.logsf(target, out_loc, out_scale), axis=-1)
    _require_models(in_mask, "in_mask", "IN (shadow trained on it)")
    in_loc, in_scale = _fit_side(shadow, in_mask, center, fix_variance, min_std)
    return _likelihood_ratio(target, in_loc, in_scale, out_loc, out_scale)


def _ulira_scores(target, unlearned, forgot_mask, retrained, out_mask, center, fix_variance,
                  min_std) -> np.ndarray:
    in_loc, in_scale = _fit_side(unlearned, forgot_mask, center, fix_variance, min_std)
    out_loc, out_scale = _fit_side(retrained, out_mask, center, fix_variance, min_std)
    return _likelihood_ratio(target, in_loc, in_scale, out_loc, out_scale)


def _check_ulira_pools(stat_unlearned, forgot_mask, stat_retrained, out_mask, target_shape=None):
    unlearned = _as_stats("stat_unlearned", stat_unlearned, (2, 3))
    retrained = _as_stats("stat_retrained", stat_retrained, (2, 3))
    if unlearned.shape[0] == 0:
        raise ValueError("stat_unlearned: holds no models")
    if retrained.shape[0] == 0:
        raise ValueError("stat_retrained: holds no models")
    if retrained.shape[1:] != unlearned.shape[1:]:
        raise ValueError(f"stat_retrained: shape {retrained.shape} does not match stat_unlearned "
                         f"{unlearned.shape} after the model axis")
    if target_shape is not None and unlearned.shape[1:] != target_shape:
        raise ValueError(f"stat_unlearned: shape {unlearned.shape} does not match stat_target "
                         f"{target_shape} after the model axis")
    forgot_mask = _as_mask("forgot_mask", forgot_mask, unlearned.shape[:2])
    out_mask = _as_mask("out_mask", out_mask, retrained.shape[:2])
    return (_queries_last(unlearned, True), forgot_mask, _queries_last(retrained, True), out_mask)


def ulira(
    stat_target: Any,
    stat_unlearned: Any,
    forgot_mask: Any,
    stat_retrained: Any,
    out_mask: Any,
    *,
    fix_variance: bool = False,
    center: str = "median",
    min_std: float = 1e-6,
) -> np.ndarray:
    """U-LiRA scores (Hayes et al., SaTML 2025, §4): was x unlearned from the target, or never seen?

    The LiRA online log likelihood ratio with IN = unlearned shadow models that were trained on x
    and then unlearned it, and OUT = models that never saw x (exact retrains, or the ordinary
    shadow pool's models that held x out).

    Args:
      stat_target: ``[N]`` or ``[N, A]`` statistics of the target model.
      stat_unlearned: ``[M, N(, A)]`` statistics of M unlearned shadow models.
      forgot_mask: ``[M, N]`` True where unlearned model m was trained on x_n and then unlearned it.
      stat_retrained: ``[M', N(, A)]`` statistics of M' models.
      out_mask: ``[M', N]`` True where model m' never saw x_n.
      fix_variance, center, min_std: as in :func:`lira`.

    Returns:
      ``[N]`` scores, higher = "unlearned" (the target saw x and unlearned it).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> unlearned = rng.normal(1.0, 0.5, (16, 3)); retrained = rng.normal(0.0, 0.5, (16, 3))
    >>> masks = np.ones((16, 3), bool)
    >>> scores = ulira(np.array([1.0, 0.0, 1.0]), unlearned, masks, retrained, masks)
    >>> (scores > 0).tolist()
    [True, False, True]
    """
    _check_common(center, min_std)
    target = _as_stats("stat_target", stat_target, (1, 2))
    unlearned, forgot_mask, retrained, out_mask = _check_ulira_pools(
        stat_unlearned, forgot_mask, stat_retrained, out_mask, target_shape=target.shape)
    _require_models(forgot_mask, "forgot_mask", "unlearned (IN)")
    _require_models(out_mask, "out_mask", "never-trained (OUT)")
    return _ulira_scores(_queries_last(target, False), unlearned, forgot_mask, retrained, out_mask,
                         center, fix_variance, min_std)


def _game_result(scores: list, labels: list, examples: list, num_examples: int,
                 what: str) -> dict[str, Any]:
    """ROC summary, likelihood-ratio balanced accuracy and per-example vulnerability of a game."""
    if not scores:
        raise ValueError(f"{what}: no target has a trial example with shadows on both sides")
    scores, labels, examples = map(np.concatenate, (scores, labels, examples))
    if labels.all() or not labels.any():
        raise ValueError("num_targets: the trials hold only one kind of target; use more targets")
    metrics = roc_metrics(scores, labels)
    decided = scores > 0
    hits_in = np.bincount(examples, weights=labels & decided, minlength=num_examples)
    trials_in = np.bincount(examples, weights=labels, minlength=num_examples)
    hits_out = np.bincount(examples, weights=~labels & ~decided, minlength=num_examples)
    trials_out = np.bincount(examples, weights=~labels, minlength=num_examples)
    with np.errstate(invalid="ignore", divide="ignore"):
        vulnerability = 0.5 * (hits_in / trials_in + hits_out / trials_out)
    vulnerability[(trials_in == 0) | (trials_out == 0)] = np.nan
    return {
        "balanced_accuracy": float(0.5 * (decided[labels].mean() + (~decided[~labels]).mean())),
        "best_balanced_accuracy": metrics["balanced_accuracy"],
        "auc": metrics["auc"],
        "tpr_at_fpr": metrics["tpr_at_fpr"],
        "roc": metrics,
        "per_example_vulnerability": vulnerability,
        "num_trials": int(scores.size),
    }


def _check_game(num_targets: Any, balance: str, center: str, min_std: float) -> None:
    if isinstance(num_targets, (bool, np.bool_)) or int(num_targets) != num_targets \
            or num_targets < 2:
        raise ValueError(f"num_targets: expected an integer ≥ 2, got {num_targets}")
    if balance not in BALANCE_MODES:
        raise ValueError(f"balance: expected one of {BALANCE_MODES}, got {balance!r}")
    _check_common(center, min_std)


def lira_game(
    stat: Any,
    in_mask: Any,
    *,
    num_targets: int,
    key: Any,
    balance: str = "auto",
    fix_variance: bool = False,
    center: str = "median",
    min_std: float = 1e-6,
) -> dict[str, Any]:
    """The LiRA game on one pool: each held-out model is the target, the others its shadows.

    Carlini et al. (S&P 2022, §V; ``mi_lira_2021/plot.py``) train M shadow models on random halves
    of a pool and attack each model in turn with the rest. Each of ``num_targets`` models drawn
    without replacement is scored on every example by :func:`lira` (online); its label is its
    own membership. With ``balance`` (:mod:`~jaxunlearn.evaluate.holdout`), a companion of the
    opposite membership is held out per example as well, so that an IN and an OUT target leave
    the same numbers of IN and OUT shadows: ``"auto"`` does this when every example is IN for
    the same number of models (the balanced ``keep`` matrix of
    :func:`~jaxunlearn.evaluate.shadows.membership_masks`) and not for independent memberships,
    where the target alone is already neutral.

    Args:
      stat: ``[M, N]`` or ``[M, N, A]`` statistics of M models.
      in_mask: ``[M, N]`` True where model m was trained on example n.
      num_targets: models to attack (2 ≤ T ≤ M).
      key: an int seed, a ``numpy.random.Generator`` or a JAX PRNG key (targets, companions).
      balance: ``"auto"``, ``"companion"`` or ``"none"`` (plain leave-one-out).
      fix_variance, center, min_std: as in :func:`lira`.

    Returns:
      ``{"balanced_accuracy"`` (of the likelihood-ratio decision Λ > 0), ``"best_balanced_accuracy"``
      (max over thresholds, optimistic), ``"auc", "tpr_at_fpr", "roc", "per_example_vulnerability",
      "num_trials", "targets"}``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> in_mask = np.argsort(rng.random((8, 400)), axis=0) < 4  # every example IN for 4 models
    >>> result = lira_game(rng.normal(in_mask * 2.0, 1.0), in_mask, num_targets=8, key=0,
    ...                    fix_variance=True)
    >>> result["auc"] > 0.8
    True
    """
    _check_game(num_targets, balance, center, min_std)
    values = _as_stats("stat", stat, (2, 3))
    num_models, num_examples = values.shape[:2]
    in_mask = _as_mask("in_mask", in_mask, (num_models, num_examples))
    values = _queries_last(values, batched=True)
    if num_targets > num_models or num_models < 3:
        raise ValueError(f"num_targets: expected at most {num_models} targets among {num_models} "
                         "models (and at least 3 models, so that a target leaves shadows)")
    companions = resolve_balance(balance, in_mask)
    rng = generator(key)
    targets = rng.choice(num_models, int(num_targets), replace=False)
    scores, labels, examples = [], [], []
    for index in targets:
        label = in_mask[index]
        shadows = np.delete(values, index, axis=0)
        shadow_in = np.delete(in_mask, index, axis=0)
        keep = np.ones_like(shadow_in)
        if companions:  # a model of the opposite membership, per example
            keep = ~companion_drop(shadow_in != label[None, :], rng)
        ins, outs = shadow_in & keep, ~shadow_in & keep
        columns = np.flatnonzero(ins.any(axis=0) & outs.any(axis=0))
        if columns.size == 0:
            continue
        in_loc, in_scale = _fit_side(shadows[:, columns], ins[:, columns], center, fix_variance,
                                     min_std)
        out_loc, out_scale = _fit_side(shadows[:, columns], outs[:, columns], center,
                                       fix_variance, min_std)
        scores.append(_likelihood_ratio(values[index, columns], in_loc, in_scale, out_loc,
                                        out_scale))
        labels.append(label[columns])
        examples.append(columns)
    result = _game_result(scores, labels, examples, num_examples, "in_mask")
    result["targets"] = np.sort(targets)
    result["balanced"] = companions
    return result


def ulira_game(
    stat_unlearned: Any,
    forgot_mask: Any,
    stat_retrained: Any,
    out_mask: Any,
    *,
    num_targets: int,
    key: Any,
    balance: str = "auto",
    fix_variance: bool = False,
    center: str = "median",
    min_std: float = 1e-6,
) -> dict[str, Any]:
    """The U-LiRA game (Hayes et al., SaTML 2025, §4): held-out targets, half unlearned, half retrained.

    ``num_targets`` target models are drawn without replacement, ⌈num_targets/2⌉ from the
    unlearned pool and ⌊num_targets/2⌋ from the retrained pool. For an unlearned target the
    trials are its forgotten examples (label 1); for a retrained target, the examples it never saw
    (label 0). Each target is scored by :func:`ulira` with the other models as shadows, less one
    *companion* per example from the other pool (an eligible one: a retrained model that never
    saw the example, or an unlearned one that forgot it), so that both kinds of target leave
    the same number of shadows in each pool (:mod:`~jaxunlearn.evaluate.holdout`). Holding out
    the target alone leaves the target's own pool one model short, which biases every
    likelihood ratio towards the other pool: identical pools of 4 models scored an AUC of 0.47.
    ``balance="none"`` restores that plain leave-one-out; ``"auto"`` and ``"companion"`` hold
    out companions (the pools are separate, so the correction holds for any masks).

    Examples left without an IN or an OUT shadow are skipped. The pooled trials give the ROC
    summary. ``balanced_accuracy`` is that of the likelihood-ratio decision "unlearned iff
    Λ > 0" (0.5 in expectation for indistinguishable pools; ``best_balanced_accuracy``, the
    maximum over thresholds, is biased upwards by the choice); the per-example vulnerability is
    the same decision's balanced accuracy over that example's trials (NaN for examples without
    trials of both kinds).

    Args:
      stat_unlearned, forgot_mask, stat_retrained, out_mask: as in :func:`ulira`.
      num_targets: number of held-out target models (≥ 2).
      key: an int seed, a ``numpy.random.Generator`` or a JAX PRNG key choosing the targets
        and their companions.
      balance: ``"auto"``, ``"companion"`` or ``"none"``.
      fix_variance, center, min_std: as in :func:`lira`.

    Returns:
      ``{"balanced_accuracy", "best_balanced_accuracy", "auc", "tpr_at_fpr", "roc" (the
      :func:`roc_metrics` dict), "per_example_vulnerability" [N], "num_trials",
      "unlearned_targets", "retrained_targets"}``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> forgot = rng.random((20, 50)) < 0.5; out = rng.random((20, 50)) < 0.5
    >>> same = lambda: rng.normal(0.0, 1.0, (20, 50))  # exact retraining as "unlearning"
    >>> result = ulira_game(same(), forgot, same(), out, num_targets=10, key=0)
    >>> abs(result["balanced_accuracy"] - 0.5) < 0.1
    True
    """
    unlearned, forgot_mask, retrained, out_mask = _check_ulira_pools(
        stat_unlearned, forgot_mask, stat_retrained, out_mask)
    _check_game(num_targets, balance, center, min_std)
    num_unlearned, num_examples = forgot_mask.shape
    num_retrained = out_mask.shape[0]
    unlearned_count, retrained_count = (num_targets + 1) // 2, num_targets // 2
    if unlearned_count >= num_unlearned:
        raise ValueError(f"num_targets: {unlearned_count} unlearned targets leave no unlearned "
                         f"shadow among {num_unlearned} models")
    if retrained_count >= num_retrained:
        raise ValueError(f"num_targets: {retrained_count} retrained targets leave no retrained "
                         f"shadow among {num_retrained} models")
    companions = balance != "none"
    rng = generator(key)
    unlearned_targets = rng.choice(num_unlearned, unlearned_count, replace=False)
    retrained_targets = rng.choice(num_retrained, retrained_count, replace=False)

    scores, labels, examples = [], [], []
    for pool, index in [("unlearned", t) for t in unlearned_targets] + [
            ("retrained", t) for t in retrained_targets]:
        keep_forgot, keep_out = forgot_mask.copy(), out_mask.copy()
        if pool == "unlearned":
            target, trials = unlearned[index], forgot_mask[index]
            keep_forgot[index] = False
            if companions:
                keep_out &= ~companion_drop(out_mask & trials[None, :], rng)
        else:
            target, trials = retrained[index], out_mask[index]
            keep_out[index] = False
            if companions:
                keep_forgot &= ~companion_drop(forgot_mask & trials[None, :], rng)
        usable = trials & keep_forgot.any(axis=0) & keep_out.any(axis=0)
        if not usable.any():
            continue
        columns = np.flatnonzero(usable)
        scores.append(_ulira_scores(
            target[columns], unlearned[:, columns], keep_forgot[:, columns],
            retrained[:, columns], keep_out[:, columns], center, fix_variance, min_std))
        labels.append(np.full(columns.size, pool == "unlearned"))
        examples.append(columns)
    result = _game_result(scores, labels, examples, num_examples,
                          "forgot_mask (forgotten or never-seen examples)")
    result["unlearned_targets"] = np.sort(unlearned_targets)
    result["retrained_targets"] = np.sort(retrained_targets)
    return result
