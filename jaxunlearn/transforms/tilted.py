"""Tilted aggregation of per-example gradients, and the TRW target for class unlearning.

Tilted ERM (Li, Beirami, Sanjabi, Smith, ICLR 2021, Eq. (2)) replaces the mean loss by

    R̃(t; θ) = (1/t) · log( (1/N) Σ_i exp(t · ℓ_i(θ)) ),

whose gradient (their Lemma 1) is the tilted average Σ_i w_i ∇ℓ_i with w_i = softmax(t·ℓ)_i:
t > 0 emphasises high-loss examples, t < 0 suppresses them, t → 0 recovers the mean.

Tilted ReWeighting (TRW; Wang, Ebrahimpour-Boroojeny, Sundaram, arXiv 2506.20893) fine-tunes
forget-class inputs towards a target over the remaining classes: the original model's
distribution renormalised without the forgotten class, tilted towards classes similar to it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.transforms._validation import check_number


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
        combined = jax.tree_util.tree_map(
            lambda g: jnp.tensordot(weights.astype(g.dtype), g, axes=(0, 0)), per_example_grads
        )
        ess = 1.0 / jnp.sum(jnp.square(weights))
        return combined, TiltedAggregateState(ess)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def class_similarity(forget_class_logits: jax.Array, forget_class: int) -> jax.Array:
    """Similarity of every class to the forgotten one, estimated from the original model.

    The mean over forget-class inputs of the original model's probabilities renormalised over the
    remaining classes (the forgotten class gets 0). Shape (num_classes,), sums to 1.

    Args:
      forget_class_logits: the original model's logits on forget-class inputs, (n, num_classes).
      forget_class: index c of the forgotten class.
    """
    probabilities = jax.nn.softmax(forget_class_logits.astype(jnp.float32), axis=-1)
    probabilities = probabilities.at[:, forget_class].set(0.0)
    probabilities = probabilities / probabilities.sum(axis=-1, keepdims=True)
    return probabilities.mean(axis=0)


def trw_target(
    original_logits: jax.Array, forget_class: int, similarity: jax.Array, tilt: float
) -> jax.Array:
    """The TRW target distribution for forget-class inputs.

    target_k(x) ∝ p_k(x) · exp(tilt · s_k) for k ≠ c, and 0 for the forgotten class c, where p is
    the original model's softmax and s the class similarity (:func:`class_similarity`). With tilt
    0 this is the original distribution renormalised over the remaining classes.

    This follows the paper's abstract and summary (renormalise without class c, then tilt by an
    estimate of inter-class similarity); the exact similarity estimate and tilt of its method
    section were not available to us, so the method issue should check them against the paper.

    Args:
      original_logits: (n, num_classes) logits of the original model.
      forget_class: c.
      similarity: (num_classes,) similarity of each class to c.
      tilt: the tilt strength (≥ 0 moves mass towards similar classes).

    Returns:
      (n, num_classes) target probabilities with zero mass on c.
    """
    check_number(tilt, "tilt")
    num_classes = original_logits.shape[-1]
    if not 0 <= forget_class < num_classes:
        raise ValueError(f"forget_class must be in [0, {num_classes}), got {forget_class}")
    log_target = jax.nn.log_softmax(original_logits.astype(jnp.float32), axis=-1)
    log_target = log_target + tilt * similarity.astype(jnp.float32)
    log_target = log_target.at[..., forget_class].set(-jnp.inf)
    return jax.nn.softmax(log_target, axis=-1)
