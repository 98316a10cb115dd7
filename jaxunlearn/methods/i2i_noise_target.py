"""``i2i_noise_target``: forget inputs' encodings pulled to the teacher's encoding of noise.

Li, Hsu, Chen & Marculescu, "Machine Unlearning for Image-to-Image Generative Models" (ICLR
2024), as in their ``i2i_mage`` code (``engine_unlearn.py``): a frozen teacher E_θ0 (the original
encoder), L(θ) = α_r E‖E_θ(T(x_r)) − E_θ0(T(x_r))‖² + α_f E‖E_θ(T(x_f)) − E_θ0(T(n))‖²,
n ~ N(mean(x_f), std(x_f)²) per batch and channel clamped to the data range
(:func:`gaussian_like`), T the model's own masking (the same mask for teacher and student: both
are called with the step's key). Only encoder outputs enter the loss and only the encoder is
updated (AdamW β = (0.9, 0.95), weight decay 0.05, gradient clip 3.0, α_f = 0.2 as the README
example). ‖·‖² is the mean over the encoding's entries (:func:`jaxunlearn.losses.encoding_mse`).

Needs an image-to-image model of :mod:`jaxunlearn.models.autoencoder` with an ``encoder``
submodule.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.losses import encoding_mse
from jaxunlearn.methods.base import Batch, Method, Prepared, TermContext, register_method
from jaxunlearn.methods.i2i import check_image_to_image
from jaxunlearn.models.autoencoder import encoder_apply
from jaxunlearn.train.keys import noise_input_key


def _encode(context: TermContext, variables: dict, inputs: jax.Array, train: bool) -> jax.Array:
    # the step's key as the model's RNG: teacher and student draw the same mask T(·)
    return encoder_apply(context.apply_fn)(variables, inputs, train, rng=context.key)


def gaussian_like(key: jax.Array, inputs: jax.Array, weights: jax.Array, low: jax.Array,
                  high: jax.Array) -> jax.Array:
    """Noise n ~ N(mean, std²) with the batch's per-channel (weighted) mean and std, clamped to
    [low, high] (Li et al.'s ``noise_type='normal'``); shape of ``inputs`` (batch, H, W, C)."""
    axes = tuple(range(inputs.ndim - 1))
    pixel_weights = jnp.broadcast_to(weights.reshape((-1,) + (1,) * (inputs.ndim - 1)),
                                     inputs.shape)
    total = jnp.maximum(jnp.sum(pixel_weights, axis=axes), 1.0)
    mean = jnp.sum(inputs * pixel_weights, axis=axes) / total
    variance = jnp.sum(jnp.square(inputs - mean) * pixel_weights, axis=axes) / total
    noise = mean + jnp.sqrt(variance) * jax.random.normal(key, inputs.shape, inputs.dtype)
    return jnp.clip(noise, low, high)


def _noise_forget(params, model_state, batch: Batch, context: TermContext):
    aux = context.aux
    student = _encode(context, {"params": params, **model_state}, batch.inputs, True)
    noise = gaussian_like(noise_input_key(context.key), batch.inputs, batch.weights,
                          aux["low"], aux["high"])
    target = jax.lax.stop_gradient(_encode(context, aux["teacher"], noise, False))
    loss = context.hyper["forget_alpha"] * encoding_mse(student, target, batch.weights)
    return loss, model_state


def _noise_retain(params, model_state, batch: Batch, context: TermContext):
    student = _encode(context, {"params": params, **model_state}, batch.inputs, True)
    target = jax.lax.stop_gradient(_encode(context, context.aux["teacher"], batch.inputs, False))
    loss = context.hyper["retain_alpha"] * encoding_mse(student, target, batch.weights)
    return loss, model_state


def _encoder_labels(params):
    return {name: jax.tree_util.tree_map(lambda _: "encoder" if name == "encoder" else "frozen",
                                         subtree)
            for name, subtree in params.items()}


def _noise_optimizer(hyper, total_steps):
    del total_steps
    encoder = optax.chain(
        optax.clip_by_global_norm(hyper["grad_clip"]),
        optax.adamw(hyper["learning_rate"], b1=0.9, b2=0.95, weight_decay=hyper["weight_decay"]))
    return optax.multi_transform({"encoder": encoder, "frozen": optax.set_to_zero()},
                                 _encoder_labels)


def _noise_prepare(model_fns, variables, splits, hyper, key):
    del hyper, key
    sample = np.asarray(splits.train.inputs[:1])
    check_image_to_image(model_fns, variables, sample, "i2i_noise_target")
    if "encoder" not in variables["params"]:
        raise ValueError("method 'i2i_noise_target' trains the encoder only; the model's params "
                         "have no 'encoder' submodule (top-level keys "
                         f"{sorted(variables['params'])})")
    inputs = np.asarray(splits.train.inputs)
    return Prepared(aux={"teacher": variables, "low": jnp.float32(inputs.min()),
                         "high": jnp.float32(inputs.max())})


I2I_NOISE_TARGET = register_method(Method(
    name="i2i_noise_target",
    summary="Li et al. ICLR 2024: encoder outputs of D_f to the teacher's encoding of Gaussian "
            "noise, of D_r to the teacher's, encoder only",
    forget_term=_noise_forget,
    retain_term=_noise_retain,
    primary="retain",
    # their code: AdamW (0.9, 0.95), wd 0.05, clip 3.0, 6 epochs, α_f 0.2; lr = 1e-4·batch/256
    # for ViT-B — 1e-3 here for autoencoders a thousand times smaller (no warm-up)
    defaults={"epochs": 6, "learning_rate": 1e-3, "weight_decay": 0.05, "batch_size": 64,
              "forget_alpha": 0.2, "retain_alpha": 1.0, "grad_clip": 3.0},
    optimizer=_noise_optimizer,
    prepare=_noise_prepare,
))
