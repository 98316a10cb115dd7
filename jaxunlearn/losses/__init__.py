"""Pure loss functions on ``(logits, labels, weights)``; see :mod:`jaxunlearn.losses.classification`."""

from jaxunlearn.losses.classification import (
    cross_entropy,
    distillation_kl,
    gradient_ascent_loss,
    per_example_cross_entropy,
    random_other_labels,
    soft_cross_entropy,
    weighted_accuracy,
)

__all__ = [
    "cross_entropy",
    "distillation_kl",
    "gradient_ascent_loss",
    "per_example_cross_entropy",
    "random_other_labels",
    "soft_cross_entropy",
    "weighted_accuracy",
]
