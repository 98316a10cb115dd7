"""The clipping numerics behind :func:`jaxunlearn.transforms.clip_spectral_norm` (FastClip).

Ebrahimpour Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for Implicitly
Linear Layers", AISTATS 2024 (arXiv:2402.16017), after the authors' code (``Ali-E/FastClip``):

* :func:`_clip_layer` runs the paper's FastClip step on one layer: rounds of warm PowerQR (block
  power iteration ``V <- orth(A_W^T A_W V)`` through the layer's forward pass and its
  ``jax.linear_transpose``) followed by one exact line-search descent step
  (:func:`_clip_direction`) on ``1/2 sum_i ||A_W v_i - min(sigma_i, c) u_i||^2``, whose kernel
  direction is ``grad_W <u, A_W v>`` (``v u^T`` for a dense layer);
* :func:`_clip_layers` does so for every layer (one jitted program), :func:`_track_layers` runs
  the authors' one-iteration tracking between clipping steps, and
  :func:`_clamp_batch_norm_scales` is their batch-norm clamp ("clipBN_hard").
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax

from jaxunlearn.spectral.layer_shapes import (
    CONV,
    LayerSpec,
    apply_linear,
    orthonormalize_rows,
    output_shape,
    power_iterations,
    rayleigh_ritz,
)


def _clip_direction(kernel, spec: LayerSpec, right, left, sigmas, max_norm, raise_below=None):
    """One exact line-search descent step on ``1/2 sum_i ||A_W v_i - t_i u_i||^2``.

    The targets are ``t_i = min(sigma_i, c)``, except that with ``raise_below`` (two-sided
    clipping) a top value ``sigma_1 < raise_below`` gets the target ``t_1 = c`` as well. The
    gradient is ``g = grad_W sum_i <r_i, A_W v_i>`` with residuals ``r_i = (sigma_i - t_i) u_i``
    (``(sigma_i - c)_+ u_i`` when one-sided); the step length ``||g||^2 / ||A_g V||^2`` is exact
    for this quadratic and equals 1 for a dense kernel, giving ``g = sum_i (sigma_i - t_i) v_i
    u_i^T``. Returns the kernel change ``-eta * g``.
    """
    excess = jnp.maximum(sigmas - max_norm, 0.0)
    if raise_below is not None:  # negative residual: the step pushes sigma_1 up to c
        excess = excess.at[0].set(
            jnp.where(sigmas[0] < raise_below, sigmas[0] - max_norm, excess[0]))
    residuals = (excess[:, None] * left).reshape((-1,) + output_shape(kernel.shape, spec)[1:])
    by_kernel = lambda w: apply_linear(w, right, spec)
    (gradient,) = jax.linear_transpose(by_kernel, jax.ShapeDtypeStruct(kernel.shape, kernel.dtype))(
        residuals
    )
    curvature = jnp.sum(jnp.square(by_kernel(gradient)))
    tiny = jnp.finfo(curvature.dtype).tiny
    eta = jnp.sum(jnp.square(gradient)) / jnp.maximum(curvature, tiny)
    return -eta * gradient


def _clip_layer(kernel, spec, vectors, key, max_norm, num_iterations, num_rounds,
                raise_below=None):
    """FastClip for one layer: rounds of (warm power iteration, one clipping descent step).

    Each round runs PowerQR on the warm block ``vectors`` (``num_vectors`` rows) plus one fresh
    random vector, so that singular values which were not on top at the last step are found (as
    the paper's random restarts do), then clips every Ritz value above ``max_norm`` and, with
    ``raise_below`` (two-sided clipping), raises a top Ritz value below ``raise_below`` to
    ``max_norm``.

    Returns the kernel change, the new warm block and the first round's top singular value.
    """
    num_vectors = vectors.shape[0]
    block_size = min(num_vectors + 1, math.prod(spec.input_shape))

    def one_round(index, carry):
        change, vectors, first_sigma, key = carry
        key, subkey = jax.random.split(key)
        fresh = jax.random.normal(subkey, vectors.shape[1:], vectors.dtype)
        # the first power iteration orthonormalizes the block (the warm rows lead)
        block = jnp.concatenate([vectors, fresh[None]])[:block_size]
        current = kernel + change
        block = power_iterations(current, spec, block, num_iterations)
        sigmas, right, left = rayleigh_ritz(current, spec, block)
        change = change + _clip_direction(current, spec, right, left, sigmas, max_norm,
                                          raise_below)
        first_sigma = jnp.where(index == 0, sigmas[0], first_sigma)
        return change, right[:num_vectors], first_sigma, key

    carry = (jnp.zeros_like(kernel), vectors, jnp.zeros((), kernel.dtype), key)
    change, vectors, first_sigma, _ = lax.fori_loop(0, num_rounds, one_round, carry)
    return change, vectors, first_sigma


@functools.partial(jax.jit, static_argnames=("layers", "two_sided"))
def _clip_layers(
    kernel_updates, vectors, sigmas, key_data, kernels, max_norm, num_iterations, num_rounds,
    conv_two_sided=False, two_sided_tolerance=0.05,
    *, layers: tuple[tuple[str, LayerSpec], ...], two_sided: bool = False,
):
    """:func:`_clip_layer` for every layer; returns new kernel updates, vectors, norms and key.

    With ``two_sided`` (static) convolutions are also raised to ``max_norm`` when their top
    singular value is below it by more than ``two_sided_tolerance`` and ``conv_two_sided`` (a
    bool, possibly traced) holds; without it the one-sided program is compiled unchanged.
    """
    keys = jax.random.split(jax.random.wrap_key_data(key_data), len(layers) + 1)
    new_updates, new_vectors, new_sigmas = {}, {}, {}
    for index, (name, spec) in enumerate(layers):
        update = kernel_updates[name]
        dtype = vectors[name].dtype
        proposed = jnp.asarray(kernels[name], dtype) + jnp.asarray(update, dtype)
        bound = jnp.asarray(max_norm, dtype)
        raise_below = None
        if two_sided and spec.kind == CONV:
            raise_below = jnp.where(conv_two_sided, bound - jnp.asarray(two_sided_tolerance, dtype),
                                    -jnp.inf)
        change, new_vectors[name], sigma = _clip_layer(
            proposed, spec, vectors[name], keys[index], bound, num_iterations, num_rounds,
            raise_below,
        )
        new_updates[name] = (update + change).astype(jnp.result_type(update))
        new_sigmas[name] = sigma.astype(sigmas[name].dtype)
    return new_updates, new_vectors, new_sigmas, jax.random.key_data(keys[-1])


@functools.partial(jax.jit, static_argnames=("layers",))
def _track_layers(kernel_updates, vectors, sigmas, kernels,
                  *, layers: tuple[tuple[str, LayerSpec], ...]):
    """One warm power iteration per layer on the kernel the step proposes (FastClip's tracking).

    ``V <- orth(A^T A V)`` with ``A`` the map of ``W + u``; the new norm estimate is
    ``||A v_1||`` of the incoming vector (a lower bound, free from the same forward pass).
    """
    new_vectors, new_sigmas = {}, {}
    for name, spec in layers:
        dtype = vectors[name].dtype
        kernel = jnp.asarray(kernels[name], dtype) + jnp.asarray(kernel_updates[name], dtype)
        block = vectors[name]  # (num_vectors, *input_shape[1:])
        forward = lambda x, kernel=kernel, spec=spec: apply_linear(kernel, x, spec)
        images = forward(block)
        (back,) = jax.linear_transpose(forward, jax.ShapeDtypeStruct(block.shape, dtype))(images)
        new_vectors[name] = orthonormalize_rows(back)
        new_sigmas[name] = jnp.linalg.norm(images[0]).astype(sigmas[name].dtype)
    return new_vectors, new_sigmas


def _clamp_batch_norm_scales(scale_updates, scales, variances, max_norm, epsilons):
    """``u <- clip(g + u, -c sqrt(var + eps), c sqrt(var + eps)) - g`` for every BN scale ``g``."""
    new_updates = {}
    for name, update in scale_updates.items():
        dtype = jnp.promote_types(jnp.result_type(scales[name], update), jnp.float32)
        bound = jnp.asarray(max_norm, dtype) * jnp.sqrt(
            jnp.asarray(variances[name], dtype) + jnp.asarray(epsilons[name], dtype))
        scale = jnp.asarray(scales[name], dtype)
        proposed = scale + jnp.asarray(update, dtype)
        new_updates[name] = (jnp.clip(proposed, -bound, bound) - scale).astype(
            jnp.result_type(update))
    return new_updates
