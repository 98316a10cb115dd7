"""Image-to-image unlearning: what the methods for image-to-image models share.

Two registered methods, each in its own module:

* ``i2i_decouple`` (:mod:`jaxunlearn.methods.i2i_decouple`) — Varshney & Torra, "Realistic
  Image-to-Image Machine Unlearning via Decoupling and Knowledge Retention" (arXiv 2502.04260),
  as reconstructed: bounded gradient ascent on the forget reconstructions, Gaussian output
  perturbation with an (ε, δ) certificate (:mod:`jaxunlearn.certify.i2i`), fine-tuning on the
  retained samples.
* ``i2i_noise_target`` (:mod:`jaxunlearn.methods.i2i_noise_target`) — Li, Hsu, Chen &
  Marculescu, "Machine Unlearning for Image-to-Image Generative Models" (ICLR 2024): forget
  inputs' encodings pulled to a frozen teacher's encoding of Gaussian noise.

Both need an image-to-image model of :mod:`jaxunlearn.models.autoencoder` (output shaped like
its input; the noise target also its ``encoder`` submodule), checked by
:func:`check_image_to_image`. ``RECONSTRUCTION_ASCENT`` and ``RECONSTRUCTION_FINETUNE`` are the
plain gradient-ascent and fine-tuning baselines on the reconstruction loss, not registered (pass
the objects to ``unlearn``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.methods.base import Method
from jaxunlearn.methods.terms import forget_reconstruction_ascent, retain_reconstruction

IMAGE_TO_IMAGE_METHODS = ("i2i_decouple", "i2i_noise_target")
"""Registered methods that need an image-to-image model (reconstruction losses)."""


def check_image_to_image(model_fns, variables, sample: np.ndarray, method: str) -> None:
    """Raise a ValueError naming ``method`` unless the model maps ``sample`` to its own shape."""
    outputs = jax.eval_shape(lambda v, x: model_fns.apply(v, x, False)[0], variables,
                             jnp.asarray(sample))
    if outputs.shape != sample.shape:
        raise ValueError(
            f"method {method!r} needs an image-to-image model (output shaped like its input, "
            f"e.g. 'conv_autoencoder'); the model maps {sample.shape[1:]} to {outputs.shape[1:]}")


# --- plain baselines on the reconstruction loss (not registered) ----------------------------------

RECONSTRUCTION_ASCENT = Method(
    name="i2i_gradient_ascent",
    summary="GA (Max Loss): minimise −reconstruction MSE on D_f",
    forget_term=forget_reconstruction_ascent,
    primary="forget",
    defaults={"epochs": 5, "learning_rate": 1e-3, "forget_batch_size": 64, "momentum": 0.0,
              "weight_decay": 0.0},
)
"""Plain gradient ascent on the forget reconstructions (SGD), unbounded (the "Max Loss" baseline
of Li et al., ICLR 2024)."""

RECONSTRUCTION_FINETUNE = Method(
    name="i2i_finetune",
    summary="FT: reconstruction MSE on D_r from the original model",
    retain_term=retain_reconstruction,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 1e-3, "batch_size": 64, "weight_decay": 0.0},
    optimizer=lambda hyper, total_steps: optax.adam(hyper["learning_rate"]),
)
"""Fine-tuning on the retain reconstructions (Adam), relying on forgetting D_f."""
