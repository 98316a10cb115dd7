"""Compare unlearning methods over several seeds against the retrained model: mean ± std tables.

The shared engine of the experiment scripts (``experiments/<paper>/``): for every seed, train the
original model on D, retrain on D_r as the reference, run every variant (a method with add-ons
and hyperparameters) from the same original, and evaluate all of them with
:func:`~jaxunlearn.evaluate.evaluate_models` (UA / RA / TA / MIA-efficacy / agreement / TV
distance / gap); for class unlearning also MIA-NN (TRW's attack: an SVM on logits, the
neighbour class by vote of all seeds' retrained models) and MIA-NN-logistic (an earlier logistic
attack on neighbour log-probabilities), each with its gap to the retrained model. Rows are
aggregated over seeds as mean and sample standard deviation.

When the model is small, the original recipe is plain (no spectral clipping) and vmapping pays
(:func:`vmap_pays`: not for convolutional networks on CPU), the originals and
the retrained references of all seeds are trained vmapped, in one compiled program each
(:func:`~jaxunlearn.train.train_many`), and every variant whose method and add-ons allow it
unlearns all seeds' originals in one vmapped program too
(:func:`~jaxunlearn.methods.unlearn_many`, each seed the run, to float rounding, that
:func:`~jaxunlearn.methods.unlearn` would make with key = the seed); otherwise one seed at a time
with :func:`~jaxunlearn.train.train` and :func:`~jaxunlearn.methods.unlearn`.

The code is in four modules; everything public is importable from here:

- :mod:`jaxunlearn.compare` (this one): :class:`Variant`, the run loop :func:`compare_methods`
  and the class attacks (MIA-NN of TRW, Wang et al. 2025);
- :mod:`jaxunlearn.compare_models`: the originals and retrained references, vmapped or not, and
  their cache (:func:`cached_models`, :func:`trained_pairs`, :func:`vmap_pays`);
- :mod:`jaxunlearn.compare_recipes`: the paper experiments' recipes and hyperparameters
  (:func:`standard_experiment`, :func:`method_hyperparams`, :func:`load_tuned`);
- :mod:`jaxunlearn.compare_results`: mean ± std rows, metrics relative to the original and the
  written tables (:func:`aggregate_rows`, :func:`add_relative_metrics`,
  :func:`write_comparison`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable, Sequence

import numpy as np

from jaxunlearn.compare_models import (
    VMAP_MAX_PARAMS,
    _originals,
    cached_models,
    trained_pairs,
    vmap_pays,
)
from jaxunlearn.compare_recipes import (
    DATASETS,
    MEMORISING_SIZES,
    SETTINGS,
    load_tuned,
    method_hyperparams,
    standard_experiment,
)
from jaxunlearn.compare_results import add_relative_metrics, aggregate_rows, write_comparison
from jaxunlearn.config import ExperimentConfig
from jaxunlearn.evaluate import evaluate_models
from jaxunlearn.evaluate.class_metrics import mia_nn, mia_nn_logistic, nearest_classes
from jaxunlearn.evaluate.signals import softmax
from jaxunlearn.train.pools import unstack_model
from jaxunlearn.methods import ADDONS, can_vmap, get_method, unlearn, unlearn_many
from jaxunlearn.methods.run import forget_classes
from jaxunlearn.pipeline import prepare
from jaxunlearn.train import predict_logits

__all__ = ["Variant", "compare_methods", "aggregate_rows", "write_comparison", "load_tuned",
           "standard_experiment", "method_hyperparams", "cached_models", "add_relative_metrics",
           "trained_pairs", "vmap_pays", "DATASETS",
           "MEMORISING_SIZES", "SETTINGS", "VMAP_MAX_PARAMS"]


@dataclasses.dataclass(frozen=True)
class Variant:
    """One row of a comparison: ``method`` with ``addons`` and hyperparameter overrides.

    ``name`` labels the row (default ``method`` or ``method+addon+...``).
    """

    method: str
    addons: tuple = ()
    hyperparams: dict | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or "+".join([self.method, *[str(a) for a in self.addons]])


def _check_variants(variants: Sequence[Variant], class_unlearning: bool) -> None:
    if not variants:
        raise ValueError("variants: need at least one method to compare")
    labels = [variant.label for variant in variants]
    if len(set(labels)) != len(labels) or "original" in labels or "retrain" in labels:
        raise ValueError(f"variants: labels must be unique and not 'original'/'retrain', got "
                         f"{labels}")
    for variant in variants:
        method = get_method(variant.method)
        if method.class_unlearning and not class_unlearning:
            raise ValueError(f"variants: {variant.method!r} unlearns whole classes; set "
                             "data.forget_classes")
        for addon in variant.addons:
            name = addon[0] if isinstance(addon, tuple) else addon
            if isinstance(name, str) and name not in ADDONS:
                raise ValueError(f"variants: unknown add-on {name!r}; available: {sorted(ADDONS)}")


def _unlearn_variant(setup, variant: Variant, pairs, stacked, seeds, progress, echo):
    """Every seed's unlearned variables and seconds for ``variant``: one vmapped program over
    the stacked originals when the method and add-ons allow it (:func:`unlearn_many`; each
    seed's seconds are then the shared run's time divided by the number of seeds), else one
    :func:`unlearn` per seed. Returns ``(variables per seed, seconds per seed, vmapped)``."""
    splits = setup.splits
    if stacked is not None and can_vmap(variant.method, variant.addons, module=setup.module):
        started = time.perf_counter()
        result = unlearn_many(setup.model_fns, stacked, splits, variant.method,
                              keys=list(seeds), addons=variant.addons,
                              hyperparams=variant.hyperparams, module=setup.module,
                              progress=progress)
        seconds = (time.perf_counter() - started) / len(seeds)
        vmapped = bool(result.logs[0].get("vmapped"))
        echo(f"{variant.label}: {len(seeds)} seed(s) "
             f"{'vmapped' if vmapped else 'in sequence'} in {seconds * len(seeds):.1f} s")
        return ([unstack_model(result.variables, i) for i in range(len(seeds))],
                [seconds] * len(seeds), vmapped)
    variables, seconds = [], []
    for seed, (original, _) in zip(seeds, pairs):
        started = time.perf_counter()
        result = unlearn(setup.model_fns, original, splits, variant.method,
                         addons=variant.addons, hyperparams=variant.hyperparams, key=seed,
                         module=setup.module, progress=progress)
        seconds.append(time.perf_counter() - started)
        variables.append(result.variables)
        echo(f"seed {seed}: {variant.label} in {seconds[-1]:.1f} s")
    return variables, seconds, False


CLASS_ATTACKS = ("MIA-NN", "MIA-NN-logistic")
"""The class-unlearning attacks of a comparison: TRW's MIA-NN (:func:`mia_nn`) and the logistic
attack this library reported before (:func:`mia_nn_logistic`)."""


def _class_neighbours(apply_fn, retrained: Sequence[dict], splits) -> np.ndarray:
    """MIA-NN's neighbour classes: for each forgotten class, its nearest remaining class by vote
    of all the retrained models (one per seed) on its held-out inputs (:func:`nearest_classes`,
    ``rule="vote"``), as the paper identifies it from several retrained models."""
    classes = forget_classes(splits)
    test = splits.test
    neighbours = set()
    for forgotten in classes:
        inputs = test.inputs[test.labels == forgotten]
        if len(inputs) == 0:
            continue
        probs = np.stack([softmax(predict_logits(apply_fn, variables, inputs))
                          for variables in retrained])
        neighbours.update(int(c) for c in nearest_classes(probs, forgotten, k=1, rule="vote"))
    return np.array(sorted(neighbours - set(classes)), np.int64)


def _class_attack(apply_fn, models: dict, splits, reference: str,
                  neighbours: np.ndarray) -> dict[str, dict[str, float]]:
    """Both class attacks (balanced accuracy, %) of every model on held-out inputs of the
    forgotten classes vs their nearest classes.

    ``"MIA-NN"``: an SVM on logits (:func:`mia_nn`) against ``neighbours``
    (:func:`_class_neighbours`). ``"MIA-NN-logistic"``: :func:`mia_nn_logistic` against the 2
    nearest classes by this seed's ``reference`` model's mean probabilities (as before)."""
    classes = forget_classes(splits)
    test = splits.test
    in_forget = np.isin(test.labels, classes)
    if not in_forget.any():
        return {}
    logistic_neighbours = set()
    for forgotten in classes:
        inputs = test.inputs[test.labels == forgotten]
        probs = softmax(predict_logits(apply_fn, models[reference], inputs))
        logistic_neighbours.update(int(c) for c in nearest_classes(probs, forgotten, k=2,
                                                                     rule="mean"))
    logistic_neighbours = np.array(sorted(logistic_neighbours - set(classes)))
    in_logistic = np.isin(test.labels, logistic_neighbours)
    in_neighbours = np.isin(test.labels, neighbours)
    scores = {attack: {} for attack in CLASS_ATTACKS}
    for name, variables in models.items():
        logits = predict_logits(apply_fn, variables, test.inputs)
        probs = softmax(logits)
        finite = bool(np.isfinite(probs).all() and np.isfinite(logits).all())  # else diverged
        scores["MIA-NN"][name] = (100.0 * mia_nn(logits[in_forget], logits[in_neighbours])
                                  if finite else float("nan"))
        scores["MIA-NN-logistic"][name] = (
            100.0 * mia_nn_logistic(probs[in_forget], probs[in_logistic], logistic_neighbours)
            if finite else float("nan"))
    return scores


def compare_methods(
    experiment: ExperimentConfig,
    variants: Sequence[Variant],
    *,
    seeds: Sequence[int] = (0,),
    reference_hyperparams: dict | None = None,
    progress: bool = False,
    echo: Callable[[str], None] = print,
    cache_dir: str | os.PathLike | None = None,
    attack: Callable[[Callable, dict, Any], dict] | None = None,
) -> tuple[list[dict], list[dict], dict]:
    """Run every variant from the same originals for every seed and evaluate against retraining.

    Args:
      experiment: data (with the forget set), model and the original's training recipe; the
        splits are the same for every seed (``data.seed``), the seeds vary the training.
      variants: the methods to compare (:class:`Variant`).
      seeds: training seeds; each gives an original, a retrained reference and one run per
        variant (unlearning key = the seed).
      reference_hyperparams: recorded with the results (the references are trained with
        ``experiment.train``, without spectral clipping).
      cache_dir: keep the originals and references there (:func:`cached_models`): experiments
        that share them (the forgetting settings of one dataset share the originals) or a rerun
        train them once.
      attack: ``attack(apply_fn, models, splits) -> {model name: {metric: value}}``, run per
        seed on every model (``"original"``, ``"retrain"`` and the variants' labels), e.g. an
        RMIA forget-vs-test AUC; its metrics join the rows and the aggregates.

    Returns:
      ``(per_seed_rows, aggregated_rows, record)``: every model's metrics per seed (with
      ``seed`` and ``seconds``), the mean ± std rows (:func:`aggregate_rows`) and a JSON-able
      record of what ran (how the originals were trained, seconds).
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: need distinct seeds, got {seeds}")
    setup = prepare(experiment)
    splits = setup.splits
    class_unlearning = bool(forget_classes(splits))
    _check_variants(variants, class_unlearning)
    started = time.perf_counter()
    pairs, stacked, how = _originals(setup, experiment.train, seeds, progress, cache_dir)
    originals_seconds = time.perf_counter() - started
    echo(f"originals and references of {len(seeds)} seed(s): {how}, {originals_seconds:.1f} s")
    unlearned, vmapped = {}, {}
    for variant in variants:
        variables, times, vmapped[variant.label] = _unlearn_variant(
            setup, variant, pairs, stacked, seeds, progress, echo)
        unlearned[variant.label] = (variables, times)
    neighbours = (_class_neighbours(setup.model_fns.apply, [r for _, r in pairs], splits)
                  if class_unlearning else None)
    per_seed, extra_metrics = [], {}
    for index, (seed, (original, retrained)) in enumerate(zip(seeds, pairs)):
        models = {"original": original, "retrain": retrained}
        seconds = {"original": float("nan"), "retrain": float("nan")}
        for label, (variables, times) in unlearned.items():
            models[label], seconds[label] = variables[index], times[index]
        rows = evaluate_models(setup.model_fns.apply, models, splits, reference="retrain")
        scores = _class_attack(setup.model_fns.apply, models, splits, "retrain",
                               neighbours) if class_unlearning else {}
        extra = attack(setup.model_fns.apply, models, splits) if attack is not None else {}
        for name, values in extra.items():
            for metric, value in values.items():
                scores.setdefault(metric, {})[name] = float(value)
                extra_metrics.setdefault(metric, None)
        for row in rows:
            row["seed"], row["seconds"] = seed, seconds[row["method"]]
            if row.get("diverged"):
                echo(f"seed {seed}: {row['method']} diverged (non-finite outputs); its metrics "
                     "are NaN")
            for metric, values in scores.items():
                row[metric] = values[row["method"]]
                row[f"{metric}_gap"] = abs(values[row["method"]] - values["retrain"])
        per_seed.extend(rows)
    metrics = ["UA", "RA", "TA", "MIA", "forget_auc", "agreement", "tv_forget", "forget_loss",
               "gap", "seconds"] + ([name for attack in CLASS_ATTACKS
                                     for name in (attack, f"{attack}_gap")]
                                    if class_unlearning else []) + [
        name for metric in extra_metrics for name in (metric, f"{metric}_gap")]
    record = {"seeds": seeds, "originals": how, "originals_seconds": originals_seconds,
              "unlearning_vmapped": vmapped,
              "variants": [dataclasses.asdict(variant) | {"label": variant.label}
                           for variant in variants],
              "class_unlearning": class_unlearning, "splits": splits.summary(),
              "reference_hyperparams": reference_hyperparams}
    if class_unlearning:
        record["mia_nn_neighbours"] = [int(c) for c in neighbours]
    return per_seed, aggregate_rows(per_seed, metrics), record
