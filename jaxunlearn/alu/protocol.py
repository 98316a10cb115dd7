"""Learn, unlearn, retrain: the three laws a Langevin-unlearning certificate compares.

Chien et al. (NeurIPS 2024, §1.1 of the project's note; ``main_lmc.py``) start from
θ_0 ~ N(mean, (2σ²/m) I) — the variance is the log-Sobolev constant C_LSI = 2σ²/m of the Gibbs
law of an m-strongly convex F — run T burn-in steps of PNGD on D (learning), then answer a
deletion request with K more steps on D′ from the learned iterate (unlearning). The reference law
is retraining: the same dynamics from a fresh initialisation on D′. The certificate bounds
D_α(law(unlearned) ‖ law(retrained)). ALU runs the same protocol with D = D_priv ∪ D_pub and
D′ = D′_priv ∪ D_pub. Every phase here runs C independent chains as one vmapped program.
(The official binary runs use mean 1000; the default here is 0.)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxunlearn.alu.dynamics import LangevinDynamics, as_key, chain_permutation, run_chains
from jaxunlearn.alu.objective import ALUData


def gibbs_init(key: Any, params_like: Any, sigma: float, regularization: float,
               mean: float | Any = 0.0, chains: int | None = None) -> Any:
    """θ_0 ~ N(mean, (2σ²/m) I) shaped like ``params_like`` (with a leading axis ``chains``).

    Args:
      key: int seed or PRNG key.
      params_like: a pytree giving shapes and dtypes.
      sigma: σ ≥ 0 of the dynamics.
      regularization: m > 0, the strong convexity.
      mean: a scalar or a pytree like ``params_like`` (default 0; the official binary runs use
        1000).
      chains: number of independent draws (a leading axis), or ``None`` for one.
    """
    if not regularization > 0:
        raise ValueError(f"regularization must be > 0 for the initialisation N(mean, 2σ²/m I), "
                         f"got {regularization}")
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    std = (2.0 * sigma**2 / regularization) ** 0.5
    leaves, treedef = jax.tree_util.tree_flatten(params_like)
    if isinstance(mean, (int, float)):
        means = [mean] * len(leaves)
    else:
        means = jax.tree_util.tree_leaves(mean)
    keys = jax.random.split(as_key(key), len(leaves))
    prefix = () if chains is None else (int(chains),)
    draws = [m + std * jax.random.normal(k, prefix + jnp.shape(leaf), jnp.float32)
             for k, leaf, m in zip(keys, leaves, means)]
    return jax.tree_util.tree_unflatten(
        treedef, [d.astype(jnp.asarray(leaf).dtype) for d, leaf in zip(draws, leaves)])


def data_free_init(key: Any, params_like: Any, dynamics: LangevinDynamics,
                   chains: int | None = None) -> Any:
    """θ_0 ~ ν_∅ = N(0, v_∅ I), the stationary law of ``dynamics`` when every data gradient is 0.

    With only the regulariser (m/2)‖θ‖², PNGD (no projection) is the AR(1) chain
    θ ← (1 − ηm)θ + √(2ησ²)·W, stationary at v_∅ = 2ησ²/(1 − (1 − ηm)²)
    (:func:`jaxunlearn.certify.data_free_variance`). It is the start under which the
    certificate's theory also bounds retraining (:mod:`jaxunlearn.certify.retraining`, our
    reconstruction of ALU's comparison with retraining); :func:`gibbs_init` (the official
    N(0, 2σ²/m I)) is wider, and its Rényi divergence from the target is infinite at α ≳ 2.

    Args:
      key: int seed or PRNG key.
      params_like: a pytree giving shapes and dtypes.
      dynamics: the :class:`LangevinDynamics` (m > 0, ηm < 2, no projection).
      chains: number of independent draws (a leading axis), or ``None`` for one.
    """
    from jaxunlearn.certify import data_free_variance

    if not dynamics.regularization > 0:
        raise ValueError(f"dynamics.regularization must be > 0 for a data-free stationary law, "
                         f"got {dynamics.regularization}")
    if dynamics.radius > 0:
        raise ValueError("dynamics.radius must be 0: the data-free law is that of the "
                         "unprojected chain")
    if chains is not None and (isinstance(chains, bool) or not isinstance(chains, int)
                               or chains < 1):
        raise ValueError(f"chains must be an int >= 1 or None, got {chains!r}")
    variance = 0.0 if dynamics.sigma == 0 else data_free_variance(
        dynamics.sigma, dynamics.regularization, dynamics.step_size)
    leaves, treedef = jax.tree_util.tree_flatten(params_like)
    keys = jax.random.split(as_key(key), len(leaves))
    prefix = () if chains is None else (int(chains),)
    draws = [(variance**0.5 * jax.random.normal(k, prefix + jnp.shape(leaf), jnp.float32)
              ).astype(jnp.asarray(leaf).dtype) for k, leaf in zip(keys, leaves)]
    return jax.tree_util.tree_unflatten(treedef, draws)


class ChainDraws(NamedTuple):
    """Parameters of C independent chains (leading axis C) after each phase.

    Attributes:
      learned: θ_T, T steps on D from θ_0 ~ N(mean, 2σ²/m I).
      unlearned: θ_{T+K}, K more steps on D′ from θ_T.
      retrained: T′ steps on D′ from a fresh θ_0.
      losses: per-phase [C, steps] losses (``"learn"``, ``"unlearn"``, ``"retrain"``).
    """

    learned: Any
    unlearned: Any
    retrained: Any
    losses: dict


def learn_unlearn_retrain(
    dynamics: LangevinDynamics,
    params_like: Any,
    data: ALUData,
    updated_data: ALUData,
    *,
    chains: int,
    burn_in: int,
    unlearn_steps: int,
    key: Any,
    init_mean: float | Any = 0.0,
    retrain_steps: int | None = None,
    batch_size: int | None = None,
) -> ChainDraws:
    """Run the learn → unlearn protocol and the retraining reference for ``chains`` seeds.

    Args:
      dynamics: :class:`LangevinDynamics` (shared by every phase).
      params_like: pytree giving the parameter shapes.
      data: D (private ∪ public) before the request.
      updated_data: D′ after it (:func:`jaxunlearn.alu.delete_private`), same shapes.
      chains: C ≥ 1 independent chains.
      burn_in: T, learning steps (epochs when ``batch_size`` is set).
      unlearn_steps: K ≥ 0, unlearning steps (epochs with ``batch_size``).
      key: int seed or PRNG key; every phase and chain gets its own stream.
      init_mean: mean of the initialisation.
      retrain_steps: T′ for retraining (default T).
      batch_size: ``None`` for PNGD, else PNSGD; each chain keeps one permutation for learning
        and unlearning, and retraining draws a fresh one.

    Returns:
      :class:`ChainDraws`.
    """
    if isinstance(chains, bool) or not isinstance(chains, int) or chains < 1:
        raise ValueError(f"chains must be an int >= 1, got {chains!r}")
    if updated_data.inputs.shape != data.inputs.shape:
        raise ValueError("updated_data must have the shapes of data (delete by replacement or by "
                         "zero weight: jaxunlearn.alu.delete_private)")
    retrain_steps = burn_in if retrain_steps is None else retrain_steps
    names = ("init", "learn", "unlearn", "retrain_init", "retrain")
    streams = dict(zip(names, jax.random.split(as_key(key), len(names))))
    keys = {name: jax.random.split(k, chains) for name, k in streams.items()}
    start = gibbs_init(streams["init"], params_like, dynamics.sigma, dynamics.regularization,
                       init_mean, chains)
    restart = gibbs_init(streams["retrain_init"], params_like, dynamics.sigma,
                         dynamics.regularization, init_mean, chains)
    order = retrain_order = None
    if batch_size is not None:
        order = chain_permutation(keys["learn"], len(data))
        retrain_order = chain_permutation(keys["retrain"], len(data))
    length = "epochs" if batch_size is not None else "steps"

    def phase(params, dataset, steps, phase_keys, permutation):
        return run_chains(dynamics, params, dataset, phase_keys, batch_size=batch_size,
                          permutation=permutation, params_per_chain=True, **{length: steps})

    learned = phase(start, data, burn_in, keys["learn"], order)
    unlearned = phase(learned.params, updated_data, unlearn_steps, keys["unlearn"], order)
    retrained = phase(restart, updated_data, retrain_steps, keys["retrain"], retrain_order)
    return ChainDraws(learned.params, unlearned.params, retrained.params,
                      {"learn": learned.losses, "unlearn": unlearned.losses,
                       "retrain": retrained.losses})
