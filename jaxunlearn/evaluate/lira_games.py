"""The LiRA and U-LiRA games: every held-out model of a pool attacked with the others as shadows.

The attack orchestration of :mod:`jaxunlearn.evaluate.lira` (which re-exports everything here):
targets drawn from a model pool, companions held out for balance
(:mod:`~jaxunlearn.evaluate.holdout`), the trials scored by the likelihood ratios of
:mod:`jaxunlearn.evaluate.lira_scores` and summarised by ROC metrics, the balanced accuracy of
the decision Λ > 0 and a per-example vulnerability.

- :func:`lira_game`: the LiRA evaluation on one pool (Carlini, Chien, Nasr, Song, Terzis,
  Tramèr, "Membership Inference Attacks From First Principles", S&P 2022, §V;
  ``mi_lira_2021/plot.py``).
- :func:`ulira_game`: the U-LiRA game between an unlearned and a retrained pool (Hayes,
  Shumailov, Triantafillou, Khalifa, Papernot, "Inexact Unlearning Needs More Careful
  Evaluations to Avoid a False Sense of Privacy", SaTML 2025, §4); 0.5 balanced accuracy =
  unlearning indistinguishable from retraining.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxunlearn.evaluate.holdout import (
    BALANCE_MODES,
    companion_drop,
    generator,
    resolve_balance,
)
from jaxunlearn.evaluate.lira_scores import (
    _as_mask,
    _as_stats,
    _check_common,
    _check_ulira_pools,
    _fit_side,
    _likelihood_ratio,
    _queries_last,
    _ulira_scores,
)
from jaxunlearn.evaluate.roc import roc_metrics

__all__ = ["lira_game", "ulira_game"]


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
