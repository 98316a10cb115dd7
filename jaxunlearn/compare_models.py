"""The models a comparison starts from: originals and retrained references, trained once.

For every seed, :func:`jaxunlearn.compare.compare_methods` (and :func:`trained_pairs`, for
experiments that drive the unlearning themselves) needs the original model on D and the
retrained reference on D_r. When the model is small (:data:`VMAP_MAX_PARAMS`), the original
recipe is plain (no spectral clipping) and vmapping pays (:func:`vmap_pays`: not for
convolutional networks on CPU), all seeds are trained vmapped in one compiled program each
(:func:`~jaxunlearn.train.train_many`); otherwise one seed at a time with
:func:`~jaxunlearn.train.train`. :func:`cached_models` keeps them on disk under a digest of
everything that decides them. No paper of its own: the engine of the experiments of
:mod:`jaxunlearn.compare` (which re-exports everything here).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any, Callable, Sequence

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.config import ExperimentConfig, TrainConfig, to_dict
from jaxunlearn.train.pools import train_many, unstack_model
from jaxunlearn.pipeline import init_variables, prepare
from jaxunlearn.train import train

__all__ = ["cached_models", "trained_pairs", "vmap_pays", "VMAP_MAX_PARAMS"]

VMAP_MAX_PARAMS = 2_000_000
"""Models up to this many parameters train their seeds vmapped (one program for all seeds)."""


def cached_models(cache_dir: str | os.PathLike | None, key: dict, build: Callable[[], Any]):
    """``build()``'s variables, kept in ``cache_dir`` under a digest of ``key`` (a JSON-able
    description of everything that decides them: data fingerprints, model, recipe, seeds), so
    that experiments sharing an original (every forgetting setting of one dataset shares its
    originals) or a rerun after an interruption train it once. ``cache_dir=None`` just builds.
    Files are written atomically (a temporary file, then a rename): a killed run leaves no
    half-written model."""
    if cache_dir is None:
        return build()
    text = json.dumps(key, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    path = os.path.join(os.fspath(cache_dir), f"{key.get('kind', 'models')}-{digest}.msgpack")
    if os.path.exists(path):
        with open(path, "rb") as handle:
            restored = flax.serialization.msgpack_restore(handle.read())
        return jax.tree.map(jnp.asarray, restored["variables"])
    variables = build()
    os.makedirs(os.fspath(cache_dir), exist_ok=True)
    payload = flax.serialization.msgpack_serialize(
        {"key": text, "variables": jax.tree.map(np.asarray, variables)})
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(payload)
    os.replace(temporary, path)
    return variables


def vmap_pays(variables: Any) -> bool:
    """Whether training or unlearning several seeds as one vmapped program beats running them
    one after another: not on CPU for a network with convolutions (any 4-D kernel), where
    XLA:CPU turns the vmapped convolutions into grouped ones and the three Fashion-MNIST CNN
    originals of the memorising setting train at 730 images/s vmapped against about 2,000
    images/s one by one (2 cores); elsewhere (accelerators, MLPs) it pays."""
    if jax.default_backend() != "cpu":
        return True
    return not any(np.ndim(leaf) >= 4 for leaf in jax.tree.leaves(variables))


def _model_key(kind: str, setup, config: TrainConfig, seeds, dataset) -> dict:
    return {"kind": kind, "data": dataset.fingerprint(), "size": len(dataset),
            "model": type(setup.module).__name__ if setup.module is not None else None,
            "module": repr(setup.module), "train": to_dict(config), "seeds": list(seeds),
            "backend": jax.default_backend(), "jax": jax.__version__}


def _originals(setup, config: TrainConfig, seeds: Sequence[int], progress: bool,
               cache_dir: str | os.PathLike | None = None):
    """Per seed: the original (on D) and the retrained reference (on D_r) variables, plus the
    originals stacked on a model axis when they were trained vmapped (else ``None``). With
    ``cache_dir``, each is loaded from (or saved to) the cache (:func:`cached_models`)."""
    splits, fns = setup.splits, setup.model_fns
    template = init_variables(setup, 0)
    num_params = sum(np.size(leaf) for leaf in jax.tree.leaves(template))
    plain = not config.spectral_max_norm
    retrain_seeds = [seed + 10_000 for seed in seeds]
    if plain and num_params <= VMAP_MAX_PARAMS and len(seeds) > 1 and vmap_pays(template):
        total = len(splits.train)
        retain = np.zeros(total, bool)
        retain[splits.retain_indices] = True
        originals = cached_models(
            cache_dir, _model_key("original", setup, config, seeds, splits.train),
            lambda: train_many(fns, splits.train, np.ones((len(seeds), total), bool), config,
                               seeds=list(seeds)))
        retrains = cached_models(
            cache_dir, _model_key("retrain", setup, config, retrain_seeds, splits.retain_set),
            lambda: train_many(fns, splits.train, np.tile(retain, (len(seeds), 1)), config,
                               seeds=retrain_seeds))
        return ([(unstack_model(originals, i), unstack_model(retrains, i))
                 for i in range(len(seeds))], originals, "vmapped (train_many)")
    pairs = []
    reference = dataclasses.replace(config, spectral_max_norm=0.0)
    for seed, retrain_seed in zip(seeds, retrain_seeds):
        seeded = dataclasses.replace(config, seed=seed)
        original = cached_models(
            cache_dir, _model_key("original", setup, seeded, [seed], splits.train),
            lambda: train(fns.apply, init_variables(setup, seed), splits.train, seeded,
                          progress=progress, description=f"original seed {seed}",
                          module=setup.module).variables)
        retrained = cached_models(
            cache_dir, _model_key("retrain", setup, dataclasses.replace(reference, seed=seed),
                                  [retrain_seed], splits.retain_set),
            lambda: train(fns.apply, init_variables(setup, retrain_seed), splits.retain_set,
                          dataclasses.replace(reference, seed=seed), progress=progress,
                          description=f"retrain seed {seed}").variables)
        pairs.append((original, retrained))
    return pairs, None, "sequential (train)"


def trained_pairs(experiment: ExperimentConfig, seeds: Sequence[int], *,
                  cache_dir: str | os.PathLike | None = None, progress: bool = False):
    """``(setup, [(original, retrained) per seed])``: the models :func:`compare_methods` starts
    from (the same programs, seeds and cache), for experiments that drive the unlearning
    themselves (e.g. per-epoch curves)."""
    setup = prepare(experiment)
    pairs, _, _ = _originals(setup, experiment.train, [int(s) for s in seeds], progress,
                             cache_dir)
    return setup, pairs
