"""Held-out target models scored with equal shadow counts on both sides of the test.

Membership games hold out a target model and score it with the remaining models as shadows
(LiRA: Carlini et al., S&P 2022, §V, each model in turn the target, the rest its shadows; U-LiRA:
Hayes et al., SaTML 2025, §4, targets drawn from the unlearned and the retrained pool). Removing
only the target makes the shadow counts depend on the answer: a target that is IN for an example
leaves one IN shadow fewer than a target that is OUT (in U-LiRA, an unlearned target leaves one
unlearned shadow fewer). With few shadows the side with the extra model is fitted more tightly,
every likelihood ratio leans towards the *other* side, and identical distributions score an AUC
below 0.5 (0.47 at 4 models per pool, 0.49 at 16; issue 20).

The remedy here is to hold out a *companion* with every target: for each scored example, one
random model of the opposite side that is eligible there (an OUT model when the target is IN, an
unlearned model when the target is retrained). Both answers then leave the same shadow counts,
so under identical distributions the target's score has the same law whatever its label. This is
exact when each example has a fixed number of models per side (separate pools, as in U-LiRA, or
LiRA's balanced ``keep`` matrix, :func:`~jaxunlearn.evaluate.shadows.membership_masks`); for
independent Bernoulli memberships the target alone already leaves counts that do not depend on
its label, and :func:`fixed_counts` tells the two designs apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BALANCE_MODES", "companion_drop", "fixed_counts", "generator", "resolve_balance"]

BALANCE_MODES = ("auto", "companion", "none")


def generator(key: Any) -> np.random.Generator:
    """The NumPy generator a game draws its targets and companions from: ``key`` is an int
    seed, a ``numpy.random.Generator`` (used as it is) or a JAX PRNG key."""
    if isinstance(key, np.random.Generator):
        return key
    if isinstance(key, (int, np.integer)):
        return np.random.default_rng(int(key))
    try:
        import jax

        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.key_data(key)
        return np.random.default_rng(np.asarray(key, dtype=np.uint32).ravel())
    except Exception as error:  # noqa: BLE001 - anything unusable is reported the same way
        raise ValueError(f"key: expected an int seed, a NumPy Generator or a JAX PRNG key, "
                         f"got {type(key).__name__}") from error


def companion_drop(eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random eligible model per example, to hold out beside the target.

    Args:
      eligible: ``[M, N]`` booleans, True where model m may be held out for example n.
      rng: the generator that draws the companions.

    Returns:
      ``[M, N]`` booleans with exactly one True in every column that has an eligible model
      (uniform among them) and none elsewhere.

    >>> import numpy as np
    >>> drop = companion_drop(np.array([[True, False], [True, False]]), np.random.default_rng(0))
    >>> drop.sum(axis=0).tolist()
    [1, 0]
    """
    eligible = np.asarray(eligible, dtype=bool)
    draws = np.where(eligible, rng.random(eligible.shape), -1.0)
    chosen = np.argmax(draws, axis=0)
    drop = np.zeros_like(eligible)
    columns = np.flatnonzero(eligible.any(axis=0))
    drop[chosen[columns], columns] = True
    return drop


def fixed_counts(in_mask: np.ndarray) -> bool:
    """True when every example (column) is IN for the same number of models.

    That is LiRA's balanced design (``mi_lira_2021/train.py``), where a held-out target's label
    decides its shadows' counts and a companion must be held out with it.
    """
    counts = np.asarray(in_mask, dtype=bool).sum(axis=0)
    return bool(counts.size == 0 or np.all(counts == counts[0]))


def resolve_balance(balance: str, in_mask: np.ndarray) -> bool:
    """Whether to hold out companions: ``"companion"``, ``"none"`` or ``"auto"`` (by design)."""
    if balance not in BALANCE_MODES:
        raise ValueError(f"balance: expected one of {BALANCE_MODES}, got {balance!r}")
    if balance == "auto":
        return fixed_counts(in_mask)
    return balance == "companion"
