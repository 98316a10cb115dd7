"""Tilted aggregation of per-example gradients.

Tilted ERM (Li, Beirami, Sanjabi, Smith, ICLR 2021, Eq. (2)) replaces the mean loss by

    R̃(t; θ) = (1/t) · log( (1/N) Σ_i exp(t · ℓ_i(θ)) ),

whose gradient (their Lemma 1) is the tilted average Σ_i w_i ∇ℓ_i with w_i = softmax(t·ℓ)_i:
t > 0 emphasises high-loss examples, t < 0 suppresses them, t → 0 recovers the mean.

TRW's target distribution for class unlearning, which is not a gradient transformation, is in
:mod:`jaxunlearn.methods.trw_targets`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.transforms._validation import check_number
from jaxunlearn.transforms.grad_stats import weighted_sum


def tilted_weights(losses: jax.Array, tilt: float, mask: jax.Array | None = None) -> jax.Array:
    """w_i ∝ mask_i · exp(tilt · loss_i), normalised to sum to 1 (TERM, Lemma 1).

    Args:
      losses: per-example losses, shape (batch,).
      tilt: t; 0 gives uniform weights over the unmasked examples.
      mask: optional 0/1 weights of shape (batch,), 0 for padding.
    """
    logits = tilt * losses.astype(jnp.float32)
    if mask is not None:
        logits = jnp.where(mask > 0, logits, -jnp.inf)
    return jax.nn.softmax(logits)


def tilted_loss(losses: jax.Array, tilt: float) -> jax.Array:
    """R̃(t) = (1/t) log mean exp(t · loss) (TERM Eq. (2)); the mean loss when t = 0."""
    losses = losses.astype(jnp.float32)
    safe_tilt = jnp.where(tilt == 0, 1.0, tilt)
    tilted = (jax.nn.logsumexp(safe_tilt * losses) - jnp.log(losses.shape[0])) / safe_tilt
    return jnp.where(tilt == 0, losses.mean(), tilted)


class TiltedAggregateState(NamedTuple):
    """Diagnostics of :func:`tilted_aggregate`: the effective sample size of the last weights."""

    effective_sample_size: jax.Array


def tilted_aggregate(tilt: float) -> optax.GradientTransformationExtraArgs:
    """Replace the update by the tilted average of per-example gradients (TERM, Lemma 1).

    ``update`` needs the extra args ``per_example_grads`` (a pytree like the params with a leading
    batch axis) and ``per_example_losses`` (shape (batch,)), and accepts ``example_mask`` (0 for
    padded examples). The incoming updates are ignored: this transform is the first of a chain.

    Args:
      tilt: t, any finite real.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = tilted_aggregate(tilt=1.0)
      >>> grads = {"w": jnp.array([[1.0], [3.0]])}
      >>> out, _ = tx.update({"w": jnp.zeros(1)}, tx.init({"w": jnp.zeros(1)}),
      ...                    per_example_grads=grads, per_example_losses=jnp.array([0.0, 0.0]))
      >>> float(out["w"][0])
      2.0
    """
    check_number(tilt, "tilt")

    def init_fn(params: Any) -> TiltedAggregateState:
        del params
        return TiltedAggregateState(jnp.zeros((), jnp.float32))

    def update_fn(updates, state, params=None, *, per_example_grads=None,
                  per_example_losses=None, example_mask=None, **extra_args):
        del updates, state, params, extra_args
        if per_example_grads is None or per_example_losses is None:
            raise ValueError(
                "tilted_aggregate needs the extra args per_example_grads and per_example_losses"
            )
        weights = tilted_weights(per_example_losses, tilt, example_mask)
        combined = jax.tree_util.tree_map(lambda g: weighted_sum(weights, g), per_example_grads)
        ess = 1.0 / jnp.sum(jnp.square(weights))
        return combined, TiltedAggregateState(ess)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
