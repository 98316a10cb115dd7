"""Gaussian noise shaped like a parameter pytree: the one draw behind every Langevin and
Gaussian-mechanism noise in the library.

Langevin dynamics (Chien, Wang, Chen, Li, NeurIPS 2024, Eq. (2)) adds √(2ησ²)·W_t with
W_t ~ N(0, I_d) at every step (:func:`jaxunlearn.transforms.add_langevin_noise`,
:func:`jaxunlearn.alu.step_noise`), and the Gaussian mechanism (Dwork & Roth 2014, Thm A.1)
releases θ + N(0, σ²I) once (:func:`jaxunlearn.transforms.output_perturbation`). All three draw
their noise with :func:`gaussian_noise_like`, so one key gives the same numbers everywhere, up to
the last bit: Langevin noise passes its scale as ``std``, while ALU and the output perturbation
scale the unit draw themselves, and XLA:CPU rounds the sampler fused with a scale differently in
the last bit from a unit draw scaled afterwards (each keeps the program it has always compiled).
"""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def gaussian_noise_like(key: jax.Array, tree: Any, std: float | jax.Array = 1.0) -> Any:
    """N(0, std²·I) noise shaped like ``tree``, drawn from ``key``.

    Layout: one float32 standard-normal vector ``jax.random.normal(key, (d,), float32)``, d the
    number of entries of all leaves together, multiplied by ``std`` in float32, cut into the
    leaves in ``jax.tree_util.tree_flatten`` order (each piece reshaped to its leaf's shape, in
    row-major order) and cast to each leaf's dtype. One draw for the whole pytree rather than one
    per leaf: one RNG program to compile instead of one per leaf (about a second of XLA
    compilation per leaf on CPU).

    Args:
      key: a typed PRNG key (derive per-step keys with ``jax.random.fold_in`` before calling).
      tree: a pytree of arrays (or ``ShapeDtypeStruct``); only shapes and dtypes are read.
      std: the standard deviation σ (a Python number or a scalar array; may be traced).

    Returns:
      A pytree like ``tree`` of noise arrays.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> noise = gaussian_noise_like(jax.random.key(0), {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)})
      >>> noise["w"].shape, noise["b"].dtype
      ((2, 3), dtype('float32'))
    """
    if isinstance(std, numbers.Real) and not 0.0 <= float(std) < float("inf"):
        raise ValueError(f"std must be a finite number >= 0, got {std}")
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    sizes = [int(np.prod(jnp.shape(leaf))) for leaf in leaves]
    flat = jax.random.normal(key, (sum(sizes),), jnp.float32)
    if not (isinstance(std, numbers.Real) and float(std) == 1.0):
        flat = std * flat
    offsets = np.cumsum([0, *sizes])
    noise = [flat[start:stop].reshape(jnp.shape(leaf)).astype(leaf.dtype)
             for leaf, start, stop in zip(leaves, offsets[:-1], offsets[1:])]
    return jax.tree_util.tree_unflatten(treedef, noise)
