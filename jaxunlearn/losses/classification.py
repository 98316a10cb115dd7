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


def soft_cross_entropy(logits: jax.Array, targets: jax.Array, weights: jax.Array) -> jax.Array:
    """Weighted mean of −Σ_k target_k log softmax(logits)_k, for soft targets (batch, classes).

    Equals KL(target ‖ softmax(logits)) up to the target's entropy, which has no gradient.
    """
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    per_example = -jnp.sum(jnp.where(targets > 0, targets * log_probs, 0.0), axis=-1)
    return _weighted_mean(per_example, weights)


def distillation_kl(
    student_logits: jax.Array, teacher_logits: jax.Array, weights: jax.Array,
    temperature: float = 1.0,
) -> jax.Array:
    """Weighted mean KL(p_teacher ‖ p_student) at ``temperature`` (SCRUB, Kurmanji et al.,
    NeurIPS 2023, Eq. (1); Hinton et al. 2015), without the T² factor."""
    teacher = jax.nn.log_softmax(teacher_logits.astype(jnp.float32) / temperature, axis=-1)
    student = jax.nn.log_softmax(student_logits.astype(jnp.float32) / temperature, axis=-1)
    per_example = jnp.sum(jnp.exp(teacher) * (teacher - student), axis=-1)
    return _weighted_mean(per_example, weights)


def random_other_labels(key: jax.Array, labels: jax.Array, num_classes: int,
                        exclude_true: bool = True) -> jax.Array:
    """Labels drawn uniformly at random, from the other classes when ``exclude_true``.

    The SalUn paper relabels with y′ ≠ y (Fan et al., ICLR 2024, Eq. (5)); its CIFAR-10 code draws
    from all classes (``exclude_true=False``).
    """
    if exclude_true:
        offsets = jax.random.randint(key, labels.shape, 1, num_classes)
        return (labels + offsets) % num_classes
    return jax.random.randint(key, labels.shape, 0, num_classes)
