"""Classification losses with per-example weights.

Every loss takes ``logits`` of shape (batch, num_classes), integer ``labels`` of shape (batch,)
and ``weights`` of shape (batch,) and returns a scalar. Weights are 1 for real examples and 0 for
the padding that keeps every batch the same shape, so a weighted mean is the mean over the real
examples of the batch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def per_example_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Cross-entropy −log softmax(logits)[label] per example, computed in float32. Shape (batch,)."""
    return optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels)


def _weighted_mean(values: jax.Array, weights: jax.Array) -> jax.Array:
    weights = weights.astype(jnp.float32)
    return jnp.sum(values * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def cross_entropy(logits: jax.Array, labels: jax.Array, weights: jax.Array) -> jax.Array:
    """Weighted mean cross-entropy, the ERM objective of ordinary training and fine-tuning."""
    return _weighted_mean(per_example_cross_entropy(logits, labels), weights)


def gradient_ascent_loss(logits: jax.Array, labels: jax.Array, weights: jax.Array) -> jax.Array:
    """Negated cross-entropy: minimising it ascends the loss on the forget set (the GA baseline,
    e.g. Thudi et al. 2022; Jia et al., NeurIPS 2023, "GA")."""
    return -cross_entropy(logits, labels, weights)


def weighted_accuracy(logits: jax.Array, labels: jax.Array, weights: jax.Array) -> jax.Array:
    """Fraction of (weighted) examples whose arg-max prediction equals the label."""
    correct = (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)
    return _weighted_mean(correct, weights)
