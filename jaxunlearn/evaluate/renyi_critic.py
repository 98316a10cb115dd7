"""The bounded critic of the variational Rényi estimator and its compiled fit.

Pure functions of a list of (kernel, bias) pairs, so the whole fit is one ``jax.jit``-ed program
(``lax.scan`` over steps) that can be ``vmap``-ed over keys, data or orders. The estimator built
on it, with the reasons for the warm start and the checkpoint selection, is
:mod:`jaxunlearn.evaluate.renyi_estimator`.
"""

from __future__ import annotations

import math
from typing import Sequence

import jax
import jax.numpy as jnp
import optax

__all__ = ["renyi_dv_objective", "init_renyi_critic", "apply_renyi_critic", "fit_renyi_critic"]


def _log_mean_exp(values):
    return jax.nn.logsumexp(values) - jnp.log(values.shape[0])


def renyi_dv_objective(g_p, g_q, alpha, *, rescaled: bool = True):
    """The Rényi–DV objective of a fixed critic, from its values on samples of P and Q.

    (α/(α − 1)) log mean e^{(α−1)g(x_p)} − log mean e^{αg(x_q)} (D_α, ``rescaled=True``) or that
    divided by α (Birrell et al.'s R_α). Any fixed g gives a lower bound on D_α in expectation over
    fresh samples. Log-mean-exp keeps it finite for large α·g. ``alpha=None`` gives the
    Donsker–Varadhan KL objective mean g(x_p) − log mean e^{g(x_q)}. Pure JAX: works under
    ``jit``, ``grad`` and ``vmap`` (in the default float32; the estimators report final values
    in float64 from :func:`jaxunlearn.evaluate.renyi_estimator.dv_objective_float64`).

    Args:
      g_p: ``[n]`` critic values on samples of P.
      g_q: ``[m]`` critic values on samples of Q.
      alpha: order (α ∉ {0, 1}), or None for KL.

    Returns:
      A scalar JAX array.

    >>> float(renyi_dv_objective(jnp.array([1.0]), jnp.array([0.0]), 2.0))
    2.0
    >>> float(renyi_dv_objective(jnp.array([1.0]), jnp.array([0.0]), 2.0, rescaled=False))
    1.0
    """
    g_p, g_q = jnp.asarray(g_p), jnp.asarray(g_q)
    if alpha is None:
        return jnp.mean(g_p) - _log_mean_exp(g_q)
    value = alpha / (alpha - 1.0) * _log_mean_exp((alpha - 1.0) * g_p) - _log_mean_exp(alpha * g_q)
    return value if rescaled else value / alpha


def init_renyi_critic(key: jax.Array, dim: int, hidden: Sequence[int] = (100, 100)) -> list:
    """Glorot-uniform kernels and zero biases (Keras' defaults, as DP-Auditorium's critic)."""
    sizes = (int(dim), *map(int, hidden), 1)
    params = []
    for layer_key, fan_in, fan_out in zip(jax.random.split(key, len(sizes) - 1), sizes[:-1],
                                          sizes[1:]):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        params.append((jax.random.uniform(layer_key, (fan_in, fan_out), minval=-limit,
                                          maxval=limit), jnp.zeros((fan_out,))))
    return params


def apply_renyi_critic(params: list, x: jax.Array, bound) -> jax.Array:
    """g(x) = B·tanh(z(x)/B) ∈ (−B, B), z a tanh MLP; ``x``: ``[n, d]``, returns ``[n]``.

    DP-Auditorium scales the hidden activations by B as well (Dense → B·tanh); measured on
    10-dimensional Gaussians that fits 25% low against 5% for plain tanh hidden layers (the
    factor B inflates the initial function), so only the output is bounded here; B·tanh(z/B)
    has slope 1 at 0, so the logistic warm start fits z ≈ log dP/dQ in the bulk.
    """
    hidden = x
    for kernel, bias in params[:-1]:
        hidden = jnp.tanh(hidden @ kernel + bias)
    kernel, bias = params[-1]
    return bound * jnp.tanh((hidden @ kernel + bias)[:, 0] / bound)


_STATIC = ("steps", "warm_start_steps", "batch_size", "eval_every", "hidden", "kl")
_JITTED: dict = {}
_TRACER = getattr(jax.core, "Tracer", None)  # None: always the plain jit


def fit_renyi_critic(key, train_p, train_q, valid_p, valid_q, alpha, bound, learning_rate, *,
                     hidden=(100, 100), steps=1000, warm_start_steps=500, batch_size=500,
                     eval_every=50, kl=False):
    """Fit the bounded critic: a logistic warm start, then Adam on the Rényi–DV objective.

    One compiled program (``lax.scan``); ``alpha``, ``bound`` and ``learning_rate`` are traced,
    so changing them does not recompile and the whole fit can be ``vmap``-ed (over keys, data or
    orders). Mini-batches of ``batch_size`` are drawn with replacement from each training set.
    The warm start minimises E_P softplus(−g) + E_Q softplus(g) (balanced classes, optimum
    g = log dP/dQ clipped to [−B, B]) for ``warm_start_steps`` steps at learning rate 1e-3; the DV
    phase runs ``steps`` steps (a multiple of ``eval_every``) and returns the critic whose
    objective on (``valid_p``, ``valid_q``) was best, the warm-started one included.

    Args:
      key: PRNG key (initialisation and mini-batches).
      train_p, train_q: ``[n, d]``, ``[m, d]`` float32 training samples (already standardised).
      valid_p, valid_q: ``[n', d]``, ``[m', d]`` validation samples for checkpoint selection.
      alpha: order α > 1 (ignored when ``kl``).
      bound: B > 0.
      learning_rate: Adam's step size in the DV phase.
      kl: fit the Donsker–Varadhan KL objective instead.

    Returns:
      ``(params, validation_history)``: the selected critic and the validation objective after
      every ``eval_every`` DV steps (``[steps // eval_every]``).
    """
    # Compiled once per static configuration. On CPU, a top-level call uses LLVM optimisation
    # level 1, which nearly halves the compile time (measured 6.6 → 3.6 s for the default loop)
    # at unchanged speed; compiler options are refused inside another transformation (vmap,
    # jit), which gets the plain jit. The backend is looked up at the call, not at import, so
    # importing this module does not initialise JAX before jax.distributed.initialize().
    arguments = (key, train_p, train_q, valid_p, valid_q, alpha, bound, learning_rate)
    nested = _TRACER is None or any(isinstance(a, _TRACER) for a in arguments)
    variant = "plain" if nested or jax.default_backend() != "cpu" else "cpu"
    if variant not in _JITTED:
        options = {"xla_backend_optimization_level": 1} if variant == "cpu" else None
        _JITTED[variant] = jax.jit(_fit, static_argnames=_STATIC, compiler_options=options)
    return _JITTED[variant](*arguments, hidden=tuple(hidden), steps=steps,
                            warm_start_steps=warm_start_steps, batch_size=batch_size,
                            eval_every=eval_every, kl=kl)


def _fit(key, train_p, train_q, valid_p, valid_q, alpha, bound, learning_rate, *, hidden, steps,
         warm_start_steps, batch_size, eval_every, kl):
    if steps % eval_every:
        raise ValueError(f"steps ({steps}) must be a multiple of eval_every ({eval_every})")
    order = None if kl else alpha
    init_key, warm_key, loop_key = jax.random.split(key, 3)
    params = init_renyi_critic(init_key, train_p.shape[1], hidden)

    sizes = jnp.array([train_p.shape[0], train_q.shape[0]])

    def run_steps(state, loss, optimizer, phase_key, num_steps):
        # One draw of all the phase's mini-batch indices (P and Q columns), then a scan: a single
        # PRNG call compiles and runs faster than one per step.
        indices = jax.random.randint(phase_key, (num_steps, 2, batch_size), 0, sizes[:, None])

        def step(state, step_indices):
            params, opt_state = state
            grads = jax.grad(loss)(params, train_p[step_indices[0]], train_q[step_indices[1]])
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        return jax.lax.scan(step, state, indices)[0]

    def logistic_loss(params, batch_p, batch_q):
        g_p = apply_renyi_critic(params, batch_p, bound)
        g_q = apply_renyi_critic(params, batch_q, bound)
        return jnp.mean(jax.nn.softplus(-g_p)) + jnp.mean(jax.nn.softplus(g_q))

    def dv_loss(params, batch_p, batch_q):
        return -renyi_dv_objective(apply_renyi_critic(params, batch_p, bound),
                                   apply_renyi_critic(params, batch_q, bound), order)

    if warm_start_steps:
        warm = optax.adam(1e-3)
        params, _ = run_steps((params, warm.init(params)), logistic_loss, warm, warm_key,
                              warm_start_steps)

    def validation(params):
        return renyi_dv_objective(apply_renyi_critic(params, valid_p, bound),
                                  apply_renyi_critic(params, valid_q, bound), order)

    optimizer = optax.adam(learning_rate)

    def block(carry, block_key):
        state, best, best_value = carry
        state = run_steps(state, dv_loss, optimizer, block_key, eval_every)
        value = validation(state[0])
        # A NaN validation value (never expected with bounded critics) is never "better".
        better = value > best_value
        best = jax.tree.map(lambda new, old: jnp.where(better, new, old), state[0], best)
        return (state, best, jnp.where(better, value, best_value)), value

    block_keys = jax.random.split(loop_key, steps // eval_every)
    initial = (params, optimizer.init(params))
    (_, best, _), history = jax.lax.scan(block, (initial, params, validation(params)),
                                         block_keys)
    return best, history
