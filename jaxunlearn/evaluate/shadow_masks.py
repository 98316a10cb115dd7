"""Shadow-model membership and keys: which pool examples each model trains on, and its seed.

The bookkeeping half of :mod:`jaxunlearn.evaluate.shadows` (which re-exports
:func:`membership_masks`): LiRA's balanced ``keep`` matrix (Carlini, Chien, Nasr, Song, Terzis,
Tramèr, "Membership Inference Attacks From First Principles", IEEE S&P 2022, §IV;
``mi_lira_2021/train.py``), the membership that LiRA, RMIA and U-LiRA (Hayes et al., SaTML
2025) shadow pools are trained on; the validation of a given ``in_mask[M, N]``; and the per-model
PRNG keys of the training recipe (``jax.random.key(seeds[m])``, or
``fold_in(jax.random.key(seed), m)``).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["membership_masks"]


# --- membership ----------------------------------------------------------------------------


def _as_key(key_or_seed: Any, name: str) -> jax.Array:
    if isinstance(key_or_seed, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int seed or a jax PRNG key, got a bool")
    if isinstance(key_or_seed, (int, np.integer)):
        if key_or_seed < 0:
            raise ValueError(f"{name}: a seed must be >= 0, got {key_or_seed}")
        return jax.random.key(int(key_or_seed))
    if isinstance(key_or_seed, jax.Array):
        if jnp.issubdtype(key_or_seed.dtype, jax.dtypes.prng_key):
            return key_or_seed
        if key_or_seed.dtype == jnp.uint32 and key_or_seed.shape == (2,):
            return jax.random.wrap_key_data(key_or_seed)
    raise TypeError(f"{name} must be an int seed or a jax PRNG key, got {type(key_or_seed).__name__}")


def membership_masks(
    num_models: int, num_examples: int, key_or_seed: Any, fraction: float = 0.5
) -> np.ndarray:
    """LiRA's balanced ``keep`` matrix: which pool examples each shadow model trains on.

    As in ``mi_lira_2021/train.py`` (Carlini et al., 2022): draw ``u ~ U(0, 1)`` of shape
    ``(M, N)`` and keep ``argsort(u, axis=0) < round(fraction * M)``, so every example (column) is
    IN for exactly ``round(fraction * M)`` models (exactly ``M / 2`` for an even ``M`` at the
    default fraction) and the set of its IN models is uniformly random. The number of members of
    one model (a row) is random, about ``fraction * N``.

    Args:
      num_models: ``M >= 1``.
      num_examples: ``N >= 1``, the pool size.
      key_or_seed: an int seed or a ``jax.random`` key; the mask is a function of it alone.
      fraction: the share of models each example is IN for, in ``(0, 1]``.

    Returns:
      ``in_mask``, a bool NumPy array of shape ``(M, N)``.
    """
    for name, value in (("num_models", num_models), ("num_examples", num_examples)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name}: must be >= 1, got {value}")
    if isinstance(fraction, (bool, np.bool_)) or not isinstance(fraction, (int, float)):
        raise TypeError(f"fraction must be a number, got {type(fraction).__name__}")
    if not (math.isfinite(fraction) and 0 < fraction <= 1):
        raise ValueError(f"fraction: must be in (0, 1], got {fraction}")
    members_per_example = int(math.floor(fraction * num_models + 0.5))
    if members_per_example < 1:
        raise ValueError(
            f"fraction: {fraction} of {num_models} models rounds to 0 models per example"
        )
    key = _as_key(key_or_seed, "key_or_seed")
    uniform = np.asarray(jax.random.uniform(key, (int(num_models), int(num_examples))))
    ranks = np.argsort(uniform, axis=0, kind="stable")
    return ranks < members_per_example


# --- validation ----------------------------------------------------------------------------


def _check_in_mask(in_mask: Any, num_examples: int) -> np.ndarray:
    mask = np.asarray(in_mask)
    if mask.ndim != 2:
        raise ValueError(f"in_mask: expected shape (num_models, {num_examples}), got {mask.shape}")
    if mask.shape[0] == 0:
        raise ValueError("in_mask: needs at least one model (got num_models = 0)")
    if mask.shape[1] != num_examples:
        raise ValueError(
            f"in_mask: has {mask.shape[1]} columns but the dataset has {num_examples} examples"
        )
    if mask.dtype != np.bool_:
        if mask.dtype.kind not in "biu" or not np.isin(mask, (0, 1)).all():
            raise ValueError(f"in_mask: must be boolean (or 0/1), got dtype {mask.dtype}")
        mask = mask.astype(bool)
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(f"in_mask: model(s) {empty[:10].tolist()} have no member examples")
    return mask


def _model_keys(num_models: int, seeds: Any, base_seed: int) -> jax.Array:
    """Raw key data ``(M, 2)``: ``key(seeds[m])`` or ``fold_in(key(seed), m)``."""
    if seeds is None or isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seed = base_seed if seeds is None else int(seeds)
        if seed < 0:
            raise ValueError(f"seeds: a base seed must be >= 0, got {seed}")
        base = jax.random.key(seed)
        keys = jax.vmap(lambda m: jax.random.fold_in(base, m))(jnp.arange(num_models))
        return jax.random.key_data(keys)
    values = np.asarray(seeds)
    if values.shape != (num_models,) or values.dtype.kind not in "iu":
        raise ValueError(
            f"seeds: expected an int base seed or {num_models} int seeds (one per model), "
            f"got shape {values.shape} dtype {values.dtype}"
        )
    if (values < 0).any():
        raise ValueError("seeds: must be >= 0")
    keys = [jax.random.key_data(jax.random.key(int(seed))) for seed in values]
    return jnp.stack(keys)
