"""LiRA and U-LiRA scores of one target model: per-example Gaussian fits and likelihood ratios.

The scoring maths of :mod:`jaxunlearn.evaluate.lira` (which re-exports everything here).

LiRA (Carlini, Chien, Nasr, Song, Terzis, Tramèr, "Membership Inference Attacks From First
Principles", S&P 2022, Algorithm 1 and §IV-C): :func:`masked_gaussian_fit` fits, per example,
a Gaussian to its statistic φ over the shadow models trained with it (IN) and without it (OUT);
:func:`lira` scores the target model's φ by the online log likelihood ratio or the offline
one-sided test. U-LiRA (Hayes, Shumailov, Triantafillou, Khalifa, Papernot, "Inexact Unlearning
Needs More Careful Evaluations to Avoid a False Sense of Privacy", SaTML 2025, §4): :func:`ulira`
is the same likelihood ratio with IN = unlearned shadow models, OUT = models that never saw x.

The games that hold out each model of a pool in turn as the target are in
:mod:`jaxunlearn.evaluate.lira_games`. NumPy/SciPy on arrays of statistics ``[M, N(, A)]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["masked_gaussian_fit", "lira", "ulira"]

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
