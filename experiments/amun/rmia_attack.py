"""The AMUN authors' audit: online RMIA (Zarifzadeh et al., ICML 2024) with reference models
trained on random halves of train ∪ test, scoring forget versus test examples of each unlearned
model; its AUC is 50 % when the forget set looks like unseen data (``Ali-E/AMUN``,
``rmia_evaluate.py``: 128 references, γ = 2, AUC of forget vs test).

Here the references come in complementary pairs (a random half of the pool and the other half),
so every audited example has exactly R/2 IN and R/2 OUT references, and the population z
(the denominator of RMIA's likelihood ratio) is a set of images no model was trained on. The
signal is the probability of the true class, RMIA's default (the authors use a soft-margin
variant of it).
"""

from __future__ import annotations

import dataclasses
import hashlib

import jax
import numpy as np

from jaxunlearn.compare import cached_models, vmap_pays
from jaxunlearn.evaluate.roc import auc
from jaxunlearn.evaluate.rmia import rmia
from jaxunlearn.evaluate.signals import true_label_prob
from jaxunlearn.train.pools import stack_models, train_many, unstack_model
from jaxunlearn.train import predict_logits, train


def _true_class_probability(apply_fn, variables, dataset) -> np.ndarray:
    logits = np.asarray(predict_logits(apply_fn, variables, dataset.inputs), np.float64)
    return true_label_prob(logits, dataset.labels)  # in float64, as RMIA's ratios need


def rmia_forget_vs_test(model_fns, splits, config, population, *, num_references: int = 8,
                        seed: int = 0, gamma: float = 2.0, cache_dir=None):
    """An ``attack`` for :func:`jaxunlearn.compare.compare_methods`: ``{model: {"RMIA_AUC": %}}``,
    the AUC of online RMIA scores separating each model's forget set (positives) from the test
    set, with ``num_references`` (even) references trained by ``config`` on halves of
    ``splits.train`` ∪ ``splits.test`` and ``population`` (a Dataset none of them saw) as z."""
    if num_references < 2 or num_references % 2:
        raise ValueError(f"num_references: need an even number ≥ 2, got {num_references}")
    if not gamma > 0:
        raise ValueError(f"gamma: must be positive, got {gamma}")
    train_set, test_set = splits.train, splits.test
    pool = dataclasses.replace(
        train_set, inputs=np.concatenate([train_set.inputs, test_set.inputs]),
        labels=np.concatenate([train_set.labels, test_set.labels]))
    size = len(pool)
    rng = np.random.default_rng([seed, 17])
    masks = []
    for _ in range(num_references // 2):
        half = np.zeros(size, bool)
        half[rng.permutation(size)[: size // 2]] = True
        masks += [half, ~half]
    masks = np.stack(masks)
    seeds = [50_000 + seed * 1000 + r for r in range(num_references)]
    key = {"kind": "rmia_references", "pool": pool.fingerprint(),
           "masks": hashlib.sha256(masks.tobytes()).hexdigest(), "train": dataclasses.asdict(config),
           "seeds": seeds}
    template = model_fns.init(jax.random.key(0), np.asarray(pool.inputs[:1]))
    if vmap_pays(template):
        references = cached_models(cache_dir, key, lambda: train_many(
            model_fns, pool, masks, config, seeds=seeds))
    else:  # one by one (a CNN on CPU), each cached as soon as it is trained
        references = stack_models([cached_models(
            cache_dir, {**key, "reference": r},
            lambda r=r: train(model_fns.apply, model_fns.init(jax.random.key(seeds[r]),
                                                              np.asarray(pool.inputs[:1])),
                              pool.subset(np.flatnonzero(masks[r])),
                              dataclasses.replace(config, seed=seeds[r]), progress=False).variables)
            for r in range(num_references)])
    forget_positions = np.asarray(splits.forget_indices)
    test_positions = len(train_set) + np.arange(len(test_set))
    audited = np.concatenate([forget_positions, test_positions])
    audited_set = pool.subset(audited)
    p_ref = np.stack([_true_class_probability(model_fns.apply, unstack_model(references, r),
                                              audited_set) for r in range(num_references)])
    p_ref_z = np.stack([_true_class_probability(model_fns.apply, unstack_model(references, r),
                                                population) for r in range(num_references)])
    in_mask = masks[:, audited]
    is_forget = np.concatenate([np.ones(len(forget_positions), bool),
                                np.zeros(len(test_positions), bool)])

    def attack(apply_fn, models, splits_):
        out = {}
        for name, variables in models.items():
            p_x = _true_class_probability(apply_fn, variables, audited_set)
            p_z = _true_class_probability(apply_fn, variables, population)
            if not (np.isfinite(p_x).all() and np.isfinite(p_z).all()):
                out[name] = {"RMIA_AUC": float("nan")}
                continue
            scores = rmia(p_x, p_ref, in_mask, p_z, p_ref_z, gamma=gamma, online=True)
            out[name] = {"RMIA_AUC": 100.0 * auc(scores, is_forget)}
        return out

    attack.in_mask, attack.references = masks, references  # what the audit used, for checks
    return attack
