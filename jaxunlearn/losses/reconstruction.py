"""Reconstruction losses of image-to-image models, with per-example weights.

Same contract as :mod:`jaxunlearn.losses.classification`: ``loss(outputs, targets, weights)``
returns a scalar, ``weights`` (batch,) is 1 for real examples and 0 for padding. ``outputs`` and
``targets`` are images of one shape ``(batch, ...)``, e.g. a reconstruction and its input; the
train engine passes the batch inputs as targets when called with ``targets="inputs"``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _check_pair(outputs: jax.Array, targets: jax.Array) -> None:
    if outputs.shape != targets.shape:
        raise ValueError(
            f"reconstruction loss: outputs of shape {outputs.shape} and targets of shape "
            f"{targets.shape} differ; an image-to-image model's output must have its input's "
            "shape (a classifier's logits cannot be compared with images)"
        )
    if outputs.ndim < 2:
        raise ValueError(f"reconstruction loss: expected (batch, ...) arrays, got {outputs.shape}")


def per_example_squared_error(outputs: jax.Array, targets: jax.Array) -> jax.Array:
    """Mean over every non-batch axis of (output − target)², in float32. Shape (batch,)."""
    _check_pair(outputs, targets)
    difference = outputs.astype(jnp.float32) - targets.astype(jnp.float32)
    return jnp.mean(jnp.square(difference).reshape(difference.shape[0], -1), axis=1)


def _weighted_mean(values: jax.Array, weights: jax.Array) -> jax.Array:
    weights = weights.astype(jnp.float32)
    return jnp.sum(values * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def reconstruction_mse(outputs: jax.Array, targets: jax.Array, weights: jax.Array) -> jax.Array:
    """Weighted mean over the batch of the per-example pixel MSE, the autoencoder objective."""
    return _weighted_mean(per_example_squared_error(outputs, targets), weights)


def reconstruction_ascent_loss(outputs: jax.Array, targets: jax.Array,
                               weights: jax.Array) -> jax.Array:
    """Negated :func:`reconstruction_mse`: minimising it ascends the reconstruction error (the
    "Max Loss" baseline of Li et al., ICLR 2024, and the unbounded form of a decoupling step)."""
    return -reconstruction_mse(outputs, targets, weights)


def capped_reconstruction_mse(outputs: jax.Array, targets: jax.Array, weights: jax.Array,
                              cap: jax.Array | float) -> jax.Array:
    """Weighted mean over the batch of min(e_i, τ), e_i the per-example pixel MSE and τ = ``cap``.

    Its negation is the bounded decoupling ascent of ``i2i_decouple`` (Varshney & Torra, arXiv
    2502.04260, as reconstructed in :mod:`jaxunlearn.certify.i2i`): an example whose error has
    reached the unseen-data level τ has no gradient, so the ascent stops there.
    """
    return _weighted_mean(jnp.minimum(per_example_squared_error(outputs, targets), cap), weights)


def encoding_mse(student: jax.Array, teacher: jax.Array, weights: jax.Array) -> jax.Array:
    """Weighted mean over the batch of the per-example mean of (student − teacher)² over the
    encoding's entries, in the encodings' own dtype: ‖E_θ(x) − E_θ0(x')‖² of Li, Hsu, Chen &
    Marculescu (ICLR 2024), the ``i2i_noise_target`` loss."""
    per_example = jnp.mean(jnp.square(student - teacher).reshape(student.shape[0], -1), axis=1)
    return jnp.sum(per_example * weights) / jnp.maximum(jnp.sum(weights), 1.0)
