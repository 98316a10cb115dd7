"""Langevin noise and projection onto an ℓ2 ball: the pieces of projected noisy gradient descent.

Langevin unlearning (Chien, Wang, Chen, Li, NeurIPS 2024, Eq. (2)) and Asymmetric Langevin
Unlearning (Inane, Quirion, Dziugaite, Mitliagkas, 2026) run projected noisy gradient descent

    θ_{t+1} = Π_{C_R}( θ_t − η ∇F(θ_t) + √(2η σ²) · W_t ),   W_t ~ N(0, I_d),

whose law converges to the Gibbs measure ∝ exp(−F/σ²) restricted to the ball C_R. As Optax
pieces: ``optax.sgd(η)`` gives −η∇F, :func:`add_langevin_noise` adds the Gaussian term, and
:func:`project_l2_ball` turns the update into the projected one, all in one ``optax.chain``.
(``optax.add_noise`` anneals its variance over steps and adds it before scaling, so it is not
Langevin noise.)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.transforms._validation import check_number, is_concrete
from jaxunlearn.transforms.noise import gaussian_noise_like


class LangevinNoiseState(NamedTuple):
    """State of :func:`add_langevin_noise`: step count and the raw data of the base key."""

    count: jax.Array
    key: jax.Array


def _key_data(key: int | jax.Array) -> jax.Array:
    """Raw ``uint32`` data of ``key`` (an int seed, a typed key or raw key data)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return jax.random.key_data(jax.random.key(key))
    if hasattr(key, "dtype") and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    key = jnp.asarray(key)
    if key.dtype != jnp.uint32:
        raise TypeError(f"key must be an int seed or a PRNG key, got dtype {key.dtype}")
    return key


def add_langevin_noise(
    step_size: float, sigma: float, key: int | jax.Array = 0
) -> optax.GradientTransformationExtraArgs:
    """Add N(0, 2·step_size·sigma²·I) to the update (Chien et al. 2024, Eq. (2)).

    Place it after the step that scales the gradient by the learning rate (``optax.sgd(step_size)``),
    with the same ``step_size`` η; each step draws fresh noise from ``fold_in(key, count)``
    (:func:`jaxunlearn.transforms.gaussian_noise_like`: one float32 vector over all leaves).

    Args:
      step_size: η > 0, the learning rate of the accompanying gradient step.
      sigma: σ ≥ 0, the noise scale; the stationary law is ∝ exp(−F/σ²).
      key: an int seed or a PRNG key (typed or raw ``uint32``); stored as raw key data so the
        state checkpoints with Orbax.

    Returns:
      A ``GradientTransformationExtraArgs`` with state :class:`LangevinNoiseState`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> tx = optax.chain(optax.sgd(0.1), add_langevin_noise(0.1, sigma=0.5, key=0))
      >>> params = {"w": jnp.zeros(3)}
      >>> updates, state = tx.update({"w": jnp.ones(3)}, tx.init(params), params)
      >>> updates["w"].shape
      (3,)
    """
    check_number(step_size, "step_size", minimum=0.0, strict=True)
    check_number(sigma, "sigma", minimum=0.0)
    key_data = _key_data(key)

    def init_fn(params: Any) -> LangevinNoiseState:
        del params
        return LangevinNoiseState(jnp.zeros((), jnp.int32), key_data)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        step_key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.count)
        scale = jnp.sqrt(2.0 * step_size) * sigma
        noise = gaussian_noise_like(step_key, updates, std=scale)
        noisy = jax.tree_util.tree_map(lambda leaf, w: leaf + w, updates, noise)
        new_state = LangevinNoiseState(optax.safe_int32_increment(state.count), state.key)
        return noisy, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def global_norm(tree: Any) -> jax.Array:
    """‖tree‖₂ over all leaves together, accumulated in float32 (``optax.tree.norm`` of the
    leaves cast to float32)."""
    return optax.tree.norm(jax.tree_util.tree_map(lambda leaf: leaf.astype(jnp.float32), tree))


def project_l2_ball(radius: float) -> optax.GradientTransformationExtraArgs:
    """Turn an update u into Π(θ + u) − θ, Π the projection onto {θ : ‖θ‖₂ ≤ radius}.

    Chien et al. (2024) assume the iterates stay in C_R = {‖θ‖ ≤ R} (their Eq. (2) projects every
    step); the norm is the global ℓ2 norm over the whole params pytree. Place it last in the chain,
    after the noise, so ``optax.apply_updates`` lands exactly on the projected point.

    Args:
      radius: R > 0. A traced R (a sweep compiled once, :mod:`jaxunlearn.alu.dynamics`) may
        also be ≤ 0, which leaves the update as it is (no projection).

    Example:
      >>> import jax.numpy as jnp
      >>> tx = project_l2_ball(1.0)
      >>> params = {"w": jnp.array([0.6, 0.0])}
      >>> updates, _ = tx.update({"w": jnp.array([0.0, 0.8])}, tx.init(params), params)
      >>> [round(float(v), 3) for v in params["w"] + updates["w"]]
      [0.6, 0.8]
    """
    check_number(radius, "radius", minimum=0.0, strict=True)

    def init_fn(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError("project_l2_ball needs params: call update(updates, state, params)")
        moved = optax.apply_updates(params, updates)
        norm = global_norm(moved)
        factor = jnp.minimum(1.0, radius / jnp.maximum(norm, 1e-30))
        if not is_concrete(radius):  # a traced R <= 0: no projection
            factor = jnp.where(radius > 0, factor, 1.0)
        projected = jax.tree_util.tree_map(lambda leaf: leaf * factor.astype(leaf.dtype), moved)
        return jax.tree_util.tree_map(lambda new, old: new - old, projected, params), state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def langevin_dynamics(step_size: float, sigma: float, key: int | jax.Array = 0,
                      radius: float = 0.0) -> optax.GradientTransformationExtraArgs:
    """One step of projected noisy gradient descent (Chien et al. 2024, Eq. (2)) as an Optax chain:
    ``optax.sgd(η)`` (−η g), :func:`add_langevin_noise` (+ √(2η)σ W_t) and, for R > 0,
    :func:`project_l2_ball` (the update lands on Π_{C_R}).

    The one Langevin update of the library: the ``langevin`` and ``alu`` methods run it in the
    engine's step, and :mod:`jaxunlearn.alu.dynamics` in its scanned chains, with traced η, σ and
    R (a traced R ≤ 0 does not project).

    Args:
      step_size: η > 0.
      sigma: σ ≥ 0.
      key: the noise's int seed or PRNG key (W_t from ``fold_in(key, t)``).
      radius: R; R ≤ 0 for no projection.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = langevin_dynamics(0.5, sigma=0.0, radius=1.0)
      >>> params = {"w": jnp.array([0.6, 0.0])}
      >>> updates, _ = tx.update({"w": jnp.array([0.0, -1.6])}, tx.init(params), params)
      >>> [round(float(v), 3) for v in params["w"] + updates["w"]]
      [0.6, 0.8]
    """
    parts = [optax.sgd(step_size), add_langevin_noise(step_size, sigma, key)]
    if not is_concrete(radius) or radius > 0:
        parts.append(project_l2_ball(radius))
    return optax.chain(*parts)
