"""The top singular values of a layer's linear map by power iteration through autodiff: the
paper's PowerQR and the :func:`spectral_norm` diagnostic.

Ebrahimpour Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for Implicitly
Linear Layers", AISTATS 2024 (arXiv:2402.16017; code ``Ali-E/FastClip``): block power iteration
``V <- orth(A^T A V)``, the adjoint ``A^T`` being the transpose of the layer's forward pass
(``jax.linear_transpose`` of :func:`~jaxunlearn.spectral.layer_shapes.apply_linear`), so the
matrix of the map is never formed; a Rayleigh-Ritz step turns the block into singular pairs.
Everything here is importable from :mod:`jaxunlearn.spectral.layer_shapes`.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax

from jaxunlearn.spectral.linear_map import LayerSpec, apply_linear


def _flat(block: jax.Array) -> jax.Array:
    return block.reshape(block.shape[0], -1)


def orthonormalize_rows(block: jax.Array) -> jax.Array:
    """Orthonormal rows spanning the rows of ``block`` (``(b, ...)``, QR of the flattened rows).

    The first row keeps its direction (up to sign); a rank-deficient block still gets orthonormal
    rows. Returns an array of the shape of ``block``.
    """
    q, _ = jnp.linalg.qr(_flat(block).T)
    return q.T.reshape(block.shape)


def power_iterations(
    kernel: jax.Array, spec: LayerSpec, block: jax.Array, num_iterations: int | jax.Array
) -> jax.Array:
    """Block power iteration ``V <- orth(A_W^T A_W V)``, the paper's PowerQR (arXiv:2402.16017).

    ``A_W^T`` is ``jax.linear_transpose`` of the layer's forward pass, so the map is never formed.
    PowerQR iterates ``V <- orth(V + A^T A V)`` (a gradient-ascent step on ``1/2 ||A V||^2``);
    dropping the ``+V`` shift converges faster and has the same fixed points.

    Args:
      kernel: the layer's kernel.
      spec: the layer's :class:`LayerSpec`.
      block: ``(b, *spec.input_shape[1:])``, the start vectors (need not be orthonormal).
      num_iterations: number of iterations (may be traced).

    Returns:
      ``(b, *spec.input_shape[1:])`` with orthonormal rows approximating the top ``b`` right
      singular vectors.
    """
    forward = lambda x: apply_linear(kernel, x, spec)
    transpose = jax.linear_transpose(forward, jax.ShapeDtypeStruct(block.shape, block.dtype))

    def step(_, current):
        return orthonormalize_rows(transpose(forward(current))[0])

    return lax.fori_loop(0, num_iterations, step, block)


def rayleigh_ritz(
    kernel: jax.Array, spec: LayerSpec, block: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The singular pairs of ``A_W`` restricted to the span of an orthonormal ``block``.

    With ``Y = A_W V`` and the eigenvectors ``P`` of the small Gram matrix ``Y Y^T``, the rotated
    block ``P^T V`` satisfies ``A_W v_i = sigma_i u_i`` exactly, with orthonormal ``u_i``; each
    ``sigma_i`` is at most the ``i``-th singular value of ``A_W``.

    Args:
      kernel: the layer's kernel.
      spec: the layer's :class:`LayerSpec`.
      block: ``(b, *spec.input_shape[1:])`` with orthonormal rows.

    Returns:
      ``(sigmas, right, left)``: ``(b,)`` in descending order, the rotated block ``(b, *input)``,
      and the left vectors ``(b, prod(output_shape))``, flattened.
    """
    images = _flat(apply_linear(kernel, block, spec))
    _, rotation = jnp.linalg.eigh(images @ images.T)
    rotation = rotation[:, ::-1]
    rotated = rotation.T @ images
    sigmas = jnp.linalg.norm(rotated, axis=1)
    left = rotated / jnp.maximum(sigmas, jnp.finfo(sigmas.dtype).tiny)[:, None]
    right = (rotation.T @ _flat(block)).reshape(block.shape)
    return sigmas, right, left


def spectral_norm(
    kernel: jax.Array,
    spec: LayerSpec,
    num_iterations: int = 1000,
    tolerance: float = 1e-7,
    seed: int = 0,
) -> jax.Array:
    """The operator norm ``sigma_1(A_W)`` of a layer's linear map, by power iteration.

    PowerQR (arXiv:2402.16017) on a block of two vectors through the layer's forward pass and its
    transpose, run until the estimate changes by less than ``tolerance`` (relative) or for
    ``num_iterations`` iterations. A diagnostic: a lower estimate that converges to
    ``sigma_1`` from below.

    Args:
      kernel: the layer's kernel (see :class:`LayerSpec`).
      spec: the layer's :class:`LayerSpec`.
      num_iterations: the most power iterations.
      tolerance: the relative change of the estimate at which to stop.
      seed: seed of the random start.

    Returns:
      A scalar, the estimated largest singular value.

    Example:
      >>> import jax.numpy as jnp
      >>> round(float(spectral_norm(jnp.diag(jnp.array([3.0, 1.0])), LayerSpec.dense(2))), 4)
      3.0
    """
    spec.check_kernel(jnp.shape(kernel))
    return _power_norm(kernel, num_iterations, tolerance, seed, spec=spec)


@functools.partial(jax.jit, static_argnames=("spec",))
def _power_norm(kernel, num_iterations, tolerance, seed, *, spec: LayerSpec):
    dtype = jnp.promote_types(jnp.result_type(kernel), jnp.float32)
    kernel = jnp.asarray(kernel, dtype)
    block_shape = (min(2, math.prod(spec.input_shape)),) + spec.input_shape[1:]
    start = jax.random.normal(jax.random.key(seed), block_shape, dtype)

    def keep_going(carry):
        iteration, _, sigma, previous = carry
        changing = jnp.abs(sigma - previous) > tolerance * sigma
        return (iteration < num_iterations) & changing

    def step(carry):
        iteration, block, sigma, _ = carry
        block = power_iterations(kernel, spec, block, 1)
        new_sigma = rayleigh_ritz(kernel, spec, block)[0][0]
        return iteration + 1, block, new_sigma, sigma

    carry = (0, orthonormalize_rows(start), jnp.asarray(1.0, dtype), jnp.asarray(0.0, dtype))
    _, block, _, _ = lax.while_loop(keep_going, step, carry)
    return rayleigh_ritz(kernel, spec, block)[0][0]
