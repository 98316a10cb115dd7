"""Output perturbation: the Gaussian mechanism's release of the parameters at one step.

Releasing θ + N(0, σ²I) is (ε, δ)-indistinguishable from θ' + N(0, σ²I) whenever ‖θ − θ'‖ ≤ Δ,
for σ = Δ √(2 ln(1.25/δ)) / ε (Dwork & Roth 2014, Thm A.1; σ from
:func:`jaxunlearn.certify.i2i.gaussian_noise_std`). ``i2i_decouple`` adds it at the step between
its decoupling and retention phases (Varshney & Torra, arXiv 2502.04260, as reconstructed in
:mod:`jaxunlearn.certify.i2i`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.transforms.noise import gaussian_noise_like


class OutputPerturbationState(NamedTuple):
    """State of :func:`output_perturbation`: the step count and the raw PRNG key data."""

    count: jax.Array
    key: jax.Array


def output_perturbation(noise_std: float, at_step: int,
                        seed: int = 0) -> optax.GradientTransformationExtraArgs:
    """Adds N(0, noise_std² I) to the update of step ``at_step`` only (the Gaussian mechanism's
    release of the parameters that step starts from, when the step's other updates are zero).

    The noise is ``noise_std`` times :func:`jaxunlearn.transforms.gaussian_noise_like` of
    ``key(seed)``: one float32 standard-normal vector as long as all parameters together, cut
    into the leaves in ``tree_flatten`` order, scaled in float32 and cast to each leaf's dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = output_perturbation(0.5, at_step=1, seed=0)
      >>> params = {"w": jnp.zeros(3)}
      >>> state = tx.init(params)
      >>> first, state = tx.update(params, state)
      >>> second, state = tx.update(params, state)
      >>> bool(jnp.all(first["w"] == 0)), bool(jnp.all(second["w"] != 0))
      (True, True)
    """
    if not noise_std >= 0 or not math.isfinite(noise_std):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std}")

    def init(params):
        del params
        return OutputPerturbationState(jnp.zeros((), jnp.int32),
                                       jax.random.key_data(jax.random.key(seed)))

    def update(updates, state, params=None, **extra):
        del params, extra

        def add_noise(updates):
            # unit float32 draws scaled leaf by leaf, then cast: the program this transform has
            # always compiled (XLA:CPU rounds a sampler fused with the scale differently)
            shapes = jax.tree_util.tree_map(
                lambda leaf: jax.ShapeDtypeStruct(jnp.shape(leaf), jnp.float32), updates)
            noise = gaussian_noise_like(jax.random.wrap_key_data(state.key), shapes)
            return jax.tree_util.tree_map(
                lambda leaf, w: leaf + (noise_std * w).astype(leaf.dtype), updates, noise)

        updates = jax.lax.cond(state.count == at_step, add_noise, lambda updates: updates,
                               updates)
        return updates, OutputPerturbationState(state.count + 1, state.key)

    return optax.GradientTransformationExtraArgs(init, update)
