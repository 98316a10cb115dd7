"""Pure loss functions on ``(logits, labels, weights)``; see :mod:`jaxunlearn.losses.classification`
(and :mod:`jaxunlearn.losses.reconstruction` for image-to-image models' ``(outputs, targets, weights)``)."""

from jaxunlearn.losses.classification import (
    cross_entropy,
    distillation_kl,
    gradient_ascent_loss,
    per_example_cross_entropy,
    random_other_labels,
    soft_cross_entropy,
    weighted_accuracy,
)
from jaxunlearn.losses.reconstruction import (
    capped_reconstruction_mse,
    encoding_mse,
    per_example_squared_error,
    reconstruction_ascent_loss,
    reconstruction_mse,
)

__all__ = [
    "capped_reconstruction_mse",
    "encoding_mse",
    "cross_entropy",
    "distillation_kl",
    "gradient_ascent_loss",
    "per_example_cross_entropy",
    "per_example_squared_error",
    "random_other_labels",
    "reconstruction_ascent_loss",
    "reconstruction_mse",
    "soft_cross_entropy",
    "weighted_accuracy",
]
