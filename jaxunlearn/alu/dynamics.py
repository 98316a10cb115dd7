"""Projected noisy gradient descent (PNGD) and projected noisy SGD (PNSGD) with ``lax.scan``.

Langevin unlearning (Chien, Wang, Chen & Li, NeurIPS 2024, Eq. (2)) and its noisy-SGD variant
(same authors, NeurIPS 2024), run by ALU on private ∪ public data:

    θ_{t+1} = Π_{C_R}( θ_t − η g_t(θ_t) + √(2ησ²) · W_t ),   W_t ~ N(0, I_d),

where g_t is the per-example-clipped gradient of :mod:`jaxunlearn.alu.clipping` on the whole
dataset (PNGD) or on the t-th mini-batch of one fixed permutation, cycled every epoch (PNSGD,
``sgd.py`` of the official code), Π_{C_R} the projection onto the ℓ2 ball of radius R (R = 0: no
projection, as in every official experiment). The noise is added after the step (it is not
multiplied by η again), with W_t drawn from ``fold_in(key, t)`` as one vector over all parameters
(:func:`step_noise`).

The step is the engine's: PNSGD's batches are gathered by :func:`jaxunlearn.train.core.
gather_batch` from the permutation padded by wrapping (padding weighs 0), and the gradient g_t
goes through
:func:`jaxunlearn.transforms.langevin_dynamics` (``optax.sgd(η)``, ``add_langevin_noise(η, σ,
key)``, ``project_l2_ball(R)``), the chain the ``alu`` and ``langevin`` methods run too, applied
by :func:`jaxunlearn.train.core.update`. Only the loop differs: every run here is one
``lax.scan`` inside one ``jax.jit``, with η, σ, M, m and R traced scalars, so a sweep over σ
compiles once. :func:`run_chains` vmaps the same program over noise keys (and,
optionally, over starting points), giving the hundreds of independent draws that audits need.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxunlearn.alu.clipping import REGULARIZERS, clipped_value_and_grad
from jaxunlearn.alu.objective import ALUData
from jaxunlearn.train.core import gather_batch, update
from jaxunlearn.train.keys import chain_permutation_key
from jaxunlearn.train.steps import TrainState
from jaxunlearn.transforms.langevin import langevin_dynamics
from jaxunlearn.transforms.noise import gaussian_noise_like


def _check_real(value: Any, name: str, *, minimum: float = 0.0, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {value}")
    return float(value)


def _check_count(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class LangevinDynamics:
    """The constants of PNGD / PNSGD (checked at construction, before anything compiles).

    Attributes:
      loss_fn: ``loss_fn(params, x, y) -> scalar``, the loss of one example.
      step_size: η > 0 (the certificates need η ≤ 1/L).
      sigma: σ ≥ 0; the stationary law of PNGD is ≈ ∝ exp(−F/σ²).
      clip_norm: M > 0, the per-example gradient clip.
      regularization: m ≥ 0, gradient m·θ of (m/2)‖θ‖² (strong convexity).
      regularizer: ``"inside"`` (clip ∇f_i + mθ, official Langevin code) or ``"after"``.
      radius: R ≥ 0 of the projection ball, 0 for no projection.
    """

    loss_fn: Callable
    step_size: float
    sigma: float
    clip_norm: float = 1.0
    regularization: float = 0.0
    regularizer: str = "inside"
    radius: float = 0.0

    def __post_init__(self) -> None:
        if not callable(self.loss_fn):
            raise ValueError(f"loss_fn must be callable, got {self.loss_fn!r}")
        _check_real(self.step_size, "step_size", strict=True)
        _check_real(self.sigma, "sigma")
        _check_real(self.clip_norm, "clip_norm", strict=True)
        _check_real(self.regularization, "regularization")
        _check_real(self.radius, "radius")
        if self.regularizer not in REGULARIZERS:
            raise ValueError(f"regularizer must be one of {REGULARIZERS}, "
                             f"got {self.regularizer!r}")

    def scalars(self) -> dict:
        """The traced scalars of a run."""
        return {name: jnp.float32(getattr(self, name))
                for name in ("step_size", "sigma", "clip_norm", "regularization", "radius")}


class LangevinRun(NamedTuple):
    """What a run returns.

    Attributes:
      params: θ after the last step (with a leading chain axis from :func:`run_chains`).
      losses: [steps] (or [chains, steps]) the weighted data loss Σ a_i f_i at each step's
        starting point (mini-batch loss for PNSGD).
    """

    params: Any
    losses: jax.Array


def as_key(key: Any) -> jax.Array:
    """A typed PRNG key from an int seed, a typed key or raw ``uint32`` key data."""
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return jax.random.key(int(key))
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return key
    return jax.random.wrap_key_data(jnp.asarray(key, jnp.uint32))


def step_noise(key: jax.Array, step: int | jax.Array, params: Any) -> Any:
    """W_t ~ N(0, I) shaped like ``params``, drawn from ``fold_in(key, step)`` by
    :func:`jaxunlearn.transforms.gaussian_noise_like`: one float32 normal vector over all
    parameters (leaves in ``tree_flatten`` order), cut into the leaves and cast to their dtypes,
    the layout :func:`jaxunlearn.transforms.add_langevin_noise` draws too."""
    return gaussian_noise_like(jax.random.fold_in(key, step), params)


def _trajectory(params, inputs, labels, weights, order, key, scalars, *, loss_fn, regularizer,
                steps, batch_size):
    """The scanned run; ``batch_size`` None is full batch (``order`` unused)."""
    key = as_key(key)
    n = labels.shape[0]
    if batch_size is not None:  # the engine's epoch order: padded by wrapping, padding weighs 0
        per_epoch = -(-n // batch_size)
        padded = jnp.resize(order.astype(jnp.int32), (per_epoch * batch_size,))

    def gradient(theta, t):
        if batch_size is None:
            batch, batch_weights = (inputs, labels), weights
        else:
            rows = gather_batch(padded, t % per_epoch, batch_size, n, inputs, labels, key, None)
            batch, batch_weights = (rows.inputs, rows.labels), rows.weights * weights[rows.indices]
        return clipped_value_and_grad(loss_fn, theta, batch, scalars["clip_norm"],
                                      scalars["regularization"], regularizer, batch_weights)

    # the engine's update with the library's one Langevin chain (η, σ, R traced)
    tx = langevin_dynamics(scalars["step_size"], scalars["sigma"], key, scalars["radius"])

    def body(state, t):
        loss, grad = gradient(state.params, t)
        return update(tx, state, grad, {}), loss

    start = TrainState(jnp.zeros((), jnp.int32), params, {}, tx.init(params),
                       jax.random.key_data(key))
    state, losses = jax.lax.scan(body, start, jnp.arange(steps, dtype=jnp.int32))
    return state.params, losses


def _chain_order(key, n):
    return jax.random.permutation(chain_permutation_key(as_key(key)), n)


def build_run(loss_fn, regularizer, steps, batch_size, chains=False, params_per_chain=False,
              order_mode="shared"):
    """The jitted run ``(params, inputs, labels, weights, order, key, scalars) -> (params,
    losses)`` for these static settings (``scalars``: :meth:`LangevinDynamics.scalars`).

    Not cached: callers whose ``loss_fn`` is a fresh closure (the ``alu`` method) build their own
    program; the module's runs go through a cache, one compilation per static setting.

    ``order_mode``: ``"shared"`` (one order for every chain), ``"per_chain"`` (a [C, n] array) or
    ``"from_key"`` (each chain draws its permutation from its key)."""
    run = functools.partial(_trajectory, loss_fn=loss_fn, regularizer=regularizer, steps=steps,
                            batch_size=batch_size)
    if order_mode == "from_key":
        def core(params, inputs, labels, weights, order, key, scalars):
            del order
            return run(params, inputs, labels, weights, _chain_order(key, labels.shape[0]), key,
                       scalars)
    else:
        core = run
    if chains:
        core = jax.vmap(core, in_axes=(0 if params_per_chain else None, None, None, None,
                                       0 if order_mode == "per_chain" else None, 0, None))
    return jax.jit(core)


_compiled = functools.lru_cache(maxsize=None)(build_run)


def _check_data(data: ALUData) -> None:
    if not isinstance(data, ALUData):
        raise ValueError(f"data must be an ALUData (jaxunlearn.alu.alu_data), got "
                         f"{type(data).__name__}")


def _permutation(permutation: Any, n: int) -> jax.Array:
    permutation = jnp.asarray(permutation, jnp.int32)
    if permutation.shape != (n,):
        raise ValueError(f"permutation must have shape ({n},), got {permutation.shape}")
    return permutation


def _steps_for(data: ALUData, steps, epochs, batch_size) -> int:
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps and epochs")
    if steps is not None:
        return _check_count(steps, "steps")
    per_epoch = 1 if batch_size is None else -(-len(data) // batch_size)
    return _check_count(epochs, "epochs") * per_epoch


def pngd_run(dynamics: LangevinDynamics, params: Any, data: ALUData, steps: int,
             key: Any) -> LangevinRun:
    """``steps`` full-batch PNGD steps from ``params`` on ``data`` (Chien et al. 2024, Eq. (2)).

    Args:
      dynamics: :class:`LangevinDynamics`.
      params: starting parameter pytree.
      data: :class:`ALUData` (private ∪ public, with the weights a_i).
      steps: T ≥ 0.
      key: int seed or PRNG key of the noise; W_t comes from ``fold_in(key, t)``, so a run that
        continues another must use a different key.

    Returns:
      :class:`LangevinRun` (final params, per-step loss).

    Example:
      >>> import jax.numpy as jnp, numpy as np
      >>> from jaxunlearn.alu import alu_data, logistic_loss, linear_params
      >>> data = alu_data(np.eye(2), np.array([1, -1]))
      >>> dynamics = LangevinDynamics(logistic_loss, step_size=1.0, sigma=0.0, regularization=0.1)
      >>> run = pngd_run(dynamics, linear_params(2), data, steps=200, key=0)
      >>> [round(float(v), 3) for v in run.params["w"]]   # the regularised optimum
      [1.178, -1.178]
    """
    _check_data(data)
    steps = _check_count(steps, "steps")
    core = _compiled(dynamics.loss_fn, dynamics.regularizer, steps, None, False, False, "shared")
    dummy = jnp.zeros((len(data),), jnp.int32)
    return LangevinRun(*core(params, data.inputs, data.labels, data.weights, dummy, as_key(key),
                             dynamics.scalars()))


def pnsgd_run(dynamics: LangevinDynamics, params: Any, data: ALUData, epochs: int,
              permutation: Any, batch_size: int, key: Any) -> LangevinRun:
    """``epochs`` epochs of PNSGD (the noisy-SGD unlearning of Chien et al. 2024, ``sgd.py``).

    One fixed ``permutation`` of the n rows is cut into ⌈n/b⌉ consecutive mini-batches of
    ``batch_size`` b (the last one padded with weight-0 rows), visited cyclically, the same order
    every epoch; reuse the same permutation for learning and unlearning as the official code does.
    Each step's gradient is the a_i-weighted mean of the batch's clipped gradients.

    Args:
      dynamics, params, data, key: as in :func:`pngd_run`.
      epochs: K ≥ 0 passes over the data.
      permutation: [n] int permutation of the rows.
      batch_size: b ≥ 1.
    """
    _check_data(data)
    batch_size = _check_count(batch_size, "batch_size", 1)
    steps = _steps_for(data, None, epochs, batch_size)
    core = _compiled(dynamics.loss_fn, dynamics.regularizer, steps, batch_size, False, False,
                     "shared")
    return LangevinRun(*core(params, data.inputs, data.labels, data.weights,
                             _permutation(permutation, len(data)), as_key(key),
                             dynamics.scalars()))


def run_chains(
    dynamics: LangevinDynamics,
    params: Any,
    data: ALUData,
    keys: Any,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    permutation: Any = None,
    params_per_chain: bool = False,
) -> LangevinRun:
    """Independent chains of PNGD (``batch_size`` None) or PNSGD, vmapped into one program.

    Args:
      dynamics, data: as in :func:`pngd_run`.
      params: the common start, or with ``params_per_chain`` a pytree with a leading chain axis.
      keys: [C] PRNG keys (or an [C, 2] uint32 array of key data), one noise stream per chain;
        chain c equals ``pngd_run(..., key=keys[c])``.
      steps / epochs: the length (exactly one; an epoch is one step at full batch).
      batch_size: ``None`` for PNGD, else PNSGD with mini-batches of this size.
      permutation: PNSGD only: one [n] permutation shared by every chain, a [C, n] array (one
        per chain, e.g. to continue chains on D′ in the order they learned with), or ``None`` for
        a permutation per chain drawn from its key (:func:`chain_permutation`).
      params_per_chain: whether ``params`` carries a leading chain axis.

    Returns:
      :class:`LangevinRun` with a leading chain axis on params and losses.
    """
    _check_data(data)
    if batch_size is not None:
        batch_size = _check_count(batch_size, "batch_size", 1)
    elif permutation is not None:
        raise ValueError("permutation is only used with a batch_size (PNSGD)")
    steps = _steps_for(data, steps, epochs, batch_size)
    keys = jnp.asarray(keys) if not hasattr(keys, "dtype") else keys
    if not jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.wrap_key_data(jnp.asarray(keys, jnp.uint32))
    if keys.ndim != 1:
        raise ValueError(f"keys must be a 1-D array of PRNG keys, got shape {keys.shape}")
    if permutation is None:
        order_mode = "from_key" if batch_size is not None else "shared"
        order = jnp.zeros((len(data),), jnp.int32)
    else:
        order = jnp.asarray(permutation, jnp.int32)
        if order.shape == (len(data),):
            order_mode = "shared"
        elif order.shape == (keys.shape[0], len(data)):
            order_mode = "per_chain"
        else:
            raise ValueError(f"permutation must have shape ({len(data)},) or "
                             f"({keys.shape[0]}, {len(data)}), got {order.shape}")
    core = _compiled(dynamics.loss_fn, dynamics.regularizer, steps, batch_size, True,
                     bool(params_per_chain), order_mode)
    return LangevinRun(*core(params, data.inputs, data.labels, data.weights, order, keys,
                             dynamics.scalars()))


def chain_permutation(key: Any, n: int) -> jax.Array:
    """The permutation :func:`run_chains` draws for a chain with this key (``permutation=None``);
    with a [C] array of keys, the [C, n] permutations of C chains."""
    key = as_key(key)
    return _chain_orders(key, n) if key.ndim else _chain_orders(key[None], n)[0]


_chain_orders = jax.jit(jax.vmap(_chain_order, in_axes=(0, None)), static_argnums=1)
