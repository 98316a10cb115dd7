"""U-LiRA from model pools: the glue between stacked variables and :func:`~jaxunlearn.evaluate.ulira_game`.

U-LiRA (Hayes, Shumailov, Triantafillou, Khalifa & Papernot, SaTML 2025, §4) asks, for a target
model and an example x it was trained on: was x unlearned, or never seen? It needs two pools
evaluated on the same examples: models trained on x and then unlearned with the method under
test, and models that never saw x (retrained on D \\ {x}; in LiRA terms the shadow pool's OUT
models). :func:`ulira_models` takes the two pools as stacked variables (a leading model axis, as
:func:`~jaxunlearn.train.train_many` returns them), computes LiRA's logit-scaled confidence of
every model on every example (vmapped over models) and plays the held-out-target game.

A perfect unlearning method scores an attack balanced accuracy of 0.5; a method that leaves x's
influence in place scores near 1.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from jaxunlearn.evaluate.lira import ulira_game
from jaxunlearn.evaluate.shadows import model_outputs
from jaxunlearn.train.pools import num_models
from jaxunlearn.evaluate.signals import logit_confidence

__all__ = ["ulira_models"]


def ulira_models(
    apply_fn: Callable,
    unlearned: Any,
    retrained: Any,
    dataset: Any,
    *,
    num_targets: int | None = None,
    key: Any = 0,
    batch_size: int = 512,
    fix_variance: bool = False,
) -> dict[str, Any]:
    """U-LiRA between a pool of unlearned models and a pool of models that never saw ``dataset``.

    Every model of ``unlearned`` must have been trained on all of ``dataset`` (the forget set) and
    then have unlearned it; no model of ``retrained`` may have seen any of it. The statistic is
    LiRA's logit-scaled confidence φ(x) = log p_y / (1 − p_y) (Carlini et al. 2022, §IV-B); the
    game (:func:`~jaxunlearn.evaluate.ulira_game`) holds out ``num_targets`` target models, half
    from each pool, and scores each with the other models as shadows, less one companion from
    the other pool, so that both kinds of target see equally many shadows of each kind.

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      unlearned: stacked variables of ``M ≥ 2`` unlearned models (leading model axis).
      retrained: stacked variables of ``M' ≥ 2`` models that never saw ``dataset``.
      dataset: a :class:`~jaxunlearn.data.Dataset` (the forget set): ``inputs``, ``labels``.
      num_targets: held-out targets, ⌈T/2⌉ unlearned and ⌊T/2⌋ retrained (default
        ``2 (min(M, M') − 1)``).
      key: seed of the choice of targets.
      batch_size: inputs per evaluation chunk.
      fix_variance: one variance per pool instead of one per example (LiRA's "fixed variance",
        better with few shadow models).

    Returns:
      ``{"balanced_accuracy"`` (of the likelihood-ratio decision Λ > 0), ``"best_balanced_accuracy"``
      (max over thresholds), ``"auc", "tpr_at_fpr", "num_trials", "num_unlearned",
      "num_retrained", "num_targets"}`` (plain Python numbers, JSON-able).
    """
    sizes = {}
    for name, pool in (("unlearned", unlearned), ("retrained", retrained)):
        sizes[name] = num_models(pool)
        if sizes[name] < 2:
            raise ValueError(f"{name}: U-LiRA needs at least 2 models in the pool, got "
                             f"{sizes[name]}")
    if len(dataset.labels) == 0:
        raise ValueError("dataset: the forget set is empty")
    if num_targets is None:
        num_targets = 2 * (min(sizes.values()) - 1)
    if isinstance(num_targets, bool) or not isinstance(num_targets, (int, np.integer)):
        raise TypeError(f"num_targets must be an int, got {type(num_targets).__name__}")
    most = min(2 * sizes["unlearned"] - 1, 2 * sizes["retrained"]) - 1
    if not 2 <= num_targets <= most:
        raise ValueError(f"num_targets: must be in [2, {most}] so that every held-out target "
                         f"leaves a shadow of each kind, got {num_targets}")
    labels = np.asarray(dataset.labels)
    stats = {}
    for name, pool in (("unlearned", unlearned), ("retrained", retrained)):
        logits = model_outputs(apply_fn, pool, dataset.inputs, batch_size=batch_size)
        stats[name] = logit_confidence(logits, np.broadcast_to(labels, logits.shape[:2]))
    result = ulira_game(
        stats["unlearned"], np.ones(stats["unlearned"].shape, bool),
        stats["retrained"], np.ones(stats["retrained"].shape, bool),
        num_targets=int(num_targets), key=key, fix_variance=fix_variance)
    return {
        "balanced_accuracy": float(result["balanced_accuracy"]),
        "best_balanced_accuracy": float(result["best_balanced_accuracy"]),
        "auc": float(result["auc"]),
        "tpr_at_fpr": {str(k): float(v) for k, v in result["tpr_at_fpr"].items()},
        "num_trials": int(result["num_trials"]),
        "num_unlearned": sizes["unlearned"],
        "num_retrained": sizes["retrained"],
        "num_targets": int(num_targets),
    }
