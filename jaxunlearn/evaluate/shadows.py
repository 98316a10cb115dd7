"""Shadow pools for membership inference: who is a member, and what every model outputs.

LiRA (Carlini, Chien, Nasr, Song, Terzis, Tramèr, "Membership Inference Attacks From First
Principles", IEEE S&P 2022, §IV; ``mi_lira_2021/train.py``), RMIA and U-LiRA (Hayes et al.,
SaTML 2025) need a pool of ``M`` shadow models, model ``m`` trained on a random half of a pool of
``N`` examples. :func:`membership_masks` draws that membership, LiRA's balanced ``keep`` matrix
``in_mask[M, N]``; :func:`jaxunlearn.train.train_many` trains the pool (the engine's model pools:
this package measures, it does not train); :func:`model_outputs` evaluates every model of the
pool on every example, vmapped over models, and gathers the logits of every model on every
process after :func:`jaxunlearn.distributed.initialize`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.train.pools import num_models
from jaxunlearn.train.sharding import to_host

__all__ = ["membership_masks", "model_outputs"]


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


@functools.lru_cache(maxsize=32)
def _vmapped_predict(apply_fn: Callable) -> Callable:
    def predict(variables, inputs):
        logits, _ = apply_fn(variables, inputs, False)
        return logits.astype(jnp.float32)

    return jax.jit(jax.vmap(predict, in_axes=(0, None)))


def model_outputs(
    apply_fn: Callable, stacked_variables: Any, inputs: Any, *, batch_size: int = 512
) -> np.ndarray:
    """Eval-mode logits of every model on every input, vmapped over models, chunked over inputs.

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      stacked_variables: variables with a leading model axis ``M`` (from :func:`jaxunlearn.train.train_many`).
      inputs: ``(N, ...)`` inputs, e.g. the pool's ``dataset.inputs``.
      batch_size: inputs per chunk (the last chunk is padded, so one program serves all).

    Returns:
      float32 NumPy logits of shape ``(M, N, C)``.
    """
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
    num_models(stacked_variables)
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim < 1 or len(inputs) == 0:
        raise ValueError("inputs: cannot compute outputs on an empty array")
    predict = _vmapped_predict(apply_fn)
    batch_size = min(int(batch_size), len(inputs))
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        real = len(chunk)
        if real < batch_size:
            chunk = np.concatenate([chunk, np.zeros((batch_size - real, *chunk.shape[1:]),
                                                    chunk.dtype)])
        logits = to_host(predict(stacked_variables, jnp.asarray(chunk)))  # models on all hosts
        outputs.append(logits[:, :real])
    return np.concatenate(outputs, axis=1)
