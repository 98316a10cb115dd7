"""Rényi and KL divergences for auditing certified / Langevin unlearning.

Closed forms for Gaussians, conversion of a Rényi bound to (ε, δ), and variational lower-bound
estimators from samples of the two output laws (unlearned vs retrained):

* Rényi divergence (RDP convention, Mironov 2017, Def. 3):
  D_α(P‖Q) = (1/(α − 1)) log E_Q[(dP/dQ)^α]; KL(P‖Q) = lim_{α→1} D_α.
* Donsker–Varadhan: KL(P‖Q) = sup_g E_P[g] − log E_Q[e^g] (Donsker & Varadhan 1983).
* Rényi–Donsker–Varadhan (Birrell, Dupuis, Katsoulakis, Rey-Bellet & Wang, SIAM J. Math. Data
  Sci. 2021, Thm 2.1): R_α(P‖Q) = sup_g (1/(α − 1)) log E_P[e^{(α−1)g}] − (1/α) log E_Q[e^{αg}],
  with R_α = D_α / α. The estimators here return D_α = α·R_α.

Any fixed critic g gives a lower bound in expectation, so the critic is fitted on one split and
the objective evaluated on the other; a bootstrap over the evaluation split gives the interval.
The closed forms and conversions are NumPy; only critic training uses JAX/optax.
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.special import logsumexp

__all__ = ["renyi_gaussian", "kl_gaussian", "renyi_to_dp", "kl_dv", "renyi_variational"]


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not alpha > 0.0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    if alpha == 1.0:
        raise ValueError("alpha must differ from 1 (use the KL function for alpha = 1)")
    return alpha


def _gaussian_params(mu1, sigma1, mu2, sigma2):
    arrays = [np.asarray(v, np.float64) for v in (mu1, sigma1, mu2, sigma2)]
    for name, value in zip(("mu1", "sigma1", "mu2", "sigma2"), arrays):
        if value.ndim > 1:
            raise ValueError(f"{name} must be a scalar or a 1-D vector, got shape {value.shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be finite")
    for name, value in (("sigma1", arrays[1]), ("sigma2", arrays[3])):
        if np.any(value <= 0):
            raise ValueError(f"{name} must be positive")
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError as error:
        raise ValueError(f"mu1, sigma1, mu2, sigma2 have incompatible shapes: {error}") from None


def renyi_gaussian(mu1, sigma1, mu2, sigma2, alpha: float) -> float:
    """D_α(N(μ1, diag σ1²) ‖ N(μ2, diag σ2²)) in closed form (Gil, Alajaji & Linder 2013, Table 2).

    Per coordinate, with σ_α² = α σ2² + (1 − α) σ1²,

        D_α = log(σ2/σ1) + log(σ2²/σ_α²) / (2(α − 1)) + α (μ1 − μ2)² / (2 σ_α²),

    summed over coordinates (independent coordinates add). If σ_α² ≤ 0 for some coordinate the
    divergence is +∞. Equal variances give α‖μ1 − μ2‖² / (2σ²).

    Args:
      mu1, sigma1, mu2, sigma2: scalars (univariate) or [d] vectors (diagonal); scalars broadcast,
        so a scalar sigma with vector means is the isotropic case. Standard deviations, not
        variances.
      alpha: order, α > 0 and α ≠ 1.

    Returns:
      D_α as a float (may be inf).

    Example:
      >>> renyi_gaussian(1.0, 1.0, 0.0, 1.0, alpha=2.0)
      1.0
      >>> renyi_gaussian([1.0, 1.0], 1.0, [0.0, 0.0], 1.0, alpha=2.0)
      2.0
    """
    alpha = _check_alpha(alpha)
    mu1, sigma1, mu2, sigma2 = _gaussian_params(mu1, sigma1, mu2, sigma2)
    var1, var2 = sigma1**2, sigma2**2
    var_alpha = alpha * var2 + (1.0 - alpha) * var1
    if np.any(var_alpha <= 0):
        return float("inf")
    per_dim = (np.log(sigma2 / sigma1) + np.log(var2 / var_alpha) / (2.0 * (alpha - 1.0))
               + alpha * (mu1 - mu2) ** 2 / (2.0 * var_alpha))
    return float(np.sum(per_dim))


def kl_gaussian(mu1, sigma1, mu2, sigma2) -> float:
    """KL(N(μ1, diag σ1²) ‖ N(μ2, diag σ2²)) = Σ log(σ2/σ1) + (σ1² + (μ1 − μ2)²)/(2σ2²) − 1/2.

    Same argument conventions as :func:`renyi_gaussian`; the α → 1 limit of it.

    Example:
      >>> kl_gaussian(1.0, 1.0, 0.0, 1.0)
      0.5
    """
    mu1, sigma1, mu2, sigma2 = _gaussian_params(mu1, sigma1, mu2, sigma2)
    per_dim = (np.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2.0 * sigma2**2)
               - 0.5)
    return float(np.sum(per_dim))


def renyi_to_dp(d_alpha, alpha, delta: float, method: str = "improved",
                *, return_order: bool = False):
    """Convert Rényi bounds D_α (at one or several orders) to ε at a given δ.

    ``"classic"`` (Mironov 2017, Prop. 3): ε = D_α + log(1/δ)/(α − 1).
    ``"improved"`` (Balle, Barthe, Gaboardi, Hsu & Sato 2020, Thm 21; the conversion used by
    dp-accounting's ``compute_epsilon``): ε = D_α + log((α − 1)/α) − (log δ + log α)/(α − 1),
    never larger than the classic one. The result is the minimum over the given orders, clipped
    at 0.

    Args:
      d_alpha: D_α values, scalar or [K] (a Rényi curve).
      alpha: orders, same shape as ``d_alpha``; each > 1.
      delta: δ in (0, 1).
      method: ``"improved"`` or ``"classic"``.
      return_order: also return the minimising order.

    Returns:
      ε (float), or ``(ε, best_alpha)``.

    Example:
      >>> round(renyi_to_dp(1.0, 2.0, 1e-5, method="classic"), 4)
      12.5129
      >>> orders = np.linspace(1.1, 50.0, 500)
      >>> round(renyi_to_dp(orders / 2.0, orders, 1e-5), 2)  # Gaussian mechanism, Δ/σ = 1
      4.73
    """
    d_alpha = np.atleast_1d(np.asarray(d_alpha, np.float64))
    alpha = np.atleast_1d(np.asarray(alpha, np.float64))
    if d_alpha.ndim != 1 or d_alpha.shape != alpha.shape:
        raise ValueError(
            f"d_alpha and alpha must be scalars or 1-D of the same shape, got {d_alpha.shape} "
            f"and {alpha.shape}")
    if np.any(alpha <= 1.0):
        raise ValueError("alpha must be > 1 for the conversion to (epsilon, delta)")
    if np.any(np.isnan(d_alpha)) or np.any(d_alpha < 0):
        raise ValueError("d_alpha must be non-negative")
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    if method == "classic":
        eps = d_alpha + np.log(1.0 / delta) / (alpha - 1.0)
    elif method == "improved":
        eps = d_alpha + np.log1p(-1.0 / alpha) - (np.log(delta) + np.log(alpha)) / (alpha - 1.0)
    else:
        raise ValueError(f"method must be 'improved' or 'classic', got {method!r}")
    best = int(np.argmin(eps))
    value = max(float(eps[best]), 0.0)
    return (value, float(alpha[best])) if return_order else value


# ----------------------------------------------------------------------------------------------
# Variational estimators.


def _as_samples(samples, name: str) -> np.ndarray:
    samples = np.asarray(samples, np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.ndim != 2:
        raise ValueError(f"{name} must have shape [n] or [n, d], got {samples.shape}")
    if samples.shape[0] < 4:
        raise ValueError(f"{name} needs at least 4 samples, got {samples.shape[0]}")
    if not np.all(np.isfinite(samples)):
        raise ValueError(f"{name} must be finite")
    return samples


def _log_mean_exp(values, axis=-1):
    return logsumexp(values, axis=axis) - np.log(values.shape[axis])


def _objective_np(g_p: np.ndarray, g_q: np.ndarray, alpha: float | None) -> float:
    """The variational objective on critic values; returns KL (alpha None) or D_α."""
    if alpha is None:
        return float(np.mean(g_p) - _log_mean_exp(g_q))
    r_alpha = (_log_mean_exp((alpha - 1.0) * g_p) / (alpha - 1.0)
               - _log_mean_exp(alpha * g_q) / alpha)
    return float(alpha * r_alpha)


def _objective_jax(g_p, g_q, alpha):
    def log_mean_exp(values):
        return jax.nn.logsumexp(values) - jnp.log(values.shape[0])

    if alpha is None:
        return jnp.mean(g_p) - log_mean_exp(g_q)
    return alpha * (log_mean_exp((alpha - 1.0) * g_p) / (alpha - 1.0)
                    - log_mean_exp(alpha * g_q) / alpha)


def _init_mlp(key, dim: int, hidden: int):
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (dim, hidden)) * jnp.sqrt(2.0 / dim),
        "b1": jnp.zeros((hidden,)),
        "w2": jax.random.normal(k2, (hidden,)) * jnp.sqrt(1.0 / hidden),
        "b2": jnp.zeros(()),
    }


# The critic's output is squashed into [-_CRITIC_BOUND, _CRITIC_BOUND]: on finite mini-batches
# the α > 1 objective is unbounded (a critic that grows without limit where P has samples and Q
# has none), which makes an unbounded network diverge. The bound only removes such critics.
_CRITIC_BOUND = 8.0


def _apply_mlp(params, x):
    raw = jax.nn.relu(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]
    return _CRITIC_BOUND * jnp.tanh(raw / _CRITIC_BOUND)


@functools.partial(jax.jit, static_argnames=("alpha", "steps", "batch_size", "hidden",
                                             "learning_rate"))
def _fit_mlp(key, x_p, x_q, *, alpha, steps, batch_size, hidden, learning_rate):
    init_key, loop_key = jax.random.split(key)
    params = _init_mlp(init_key, x_p.shape[1], hidden)
    optimizer = optax.adam(learning_rate)

    def loss(params, batch_p, batch_q):
        return -_objective_jax(_apply_mlp(params, batch_p), _apply_mlp(params, batch_q), alpha)

    def step(carry, step_key):
        params, opt_state = carry
        key_p, key_q = jax.random.split(step_key)
        batch_p = x_p[jax.random.randint(key_p, (batch_size,), 0, x_p.shape[0])]
        batch_q = x_q[jax.random.randint(key_q, (batch_size,), 0, x_q.shape[0])]
        grads = jax.grad(loss)(params, batch_p, batch_q)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)),
                                  jax.random.split(loop_key, steps))
    return params


def _bootstrap_interval(g_p, g_q, alpha, num_bootstrap, confidence, rng):
    estimates = np.empty(num_bootstrap)
    chunk = 50
    for start in range(0, num_bootstrap, chunk):
        size = min(chunk, num_bootstrap - start)
        idx_p = rng.integers(0, g_p.size, (size, g_p.size))
        idx_q = rng.integers(0, g_q.size, (size, g_q.size))
        resampled_p, resampled_q = g_p[idx_p], g_q[idx_q]
        if alpha is None:
            values = resampled_p.mean(axis=1) - _log_mean_exp(resampled_q, axis=1)
        else:
            values = alpha * (_log_mean_exp((alpha - 1.0) * resampled_p, axis=1) / (alpha - 1.0)
                              - _log_mean_exp(alpha * resampled_q, axis=1) / alpha)
        estimates[start:start + size] = values
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return float(low), float(high)


def _variational(samples_p, samples_q, alpha, critic, steps, key, *, train_fraction, batch_size,
                 hidden, learning_rate, num_bootstrap, confidence, seed):
    x_p = _as_samples(samples_p, "samples_p")
    x_q = _as_samples(samples_q, "samples_q")
    if x_p.shape[1] != x_q.shape[1]:
        raise ValueError(f"samples_p and samples_q must have the same dimension, got "
                         f"{x_p.shape[1]} and {x_q.shape[1]}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if int(num_bootstrap) < 10:
        raise ValueError(f"num_bootstrap must be >= 10, got {num_bootstrap}")
    rng = np.random.default_rng(seed)
    if callable(critic):
        # A fixed critic needs no fitting: every sample is evaluation data.
        g_p = np.asarray(critic(x_p), np.float64).reshape(-1)
        g_q = np.asarray(critic(x_q), np.float64).reshape(-1)
        if g_p.shape != (x_p.shape[0],) or g_q.shape != (x_q.shape[0],):
            raise ValueError("critic must map [n, d] samples to [n] values")
    elif critic == "mlp":
        if not 0.0 < train_fraction < 1.0:
            raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
        if int(steps) < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if key is None:
            raise ValueError("key is required to fit the 'mlp' critic")
        x_p = x_p[rng.permutation(x_p.shape[0])]
        x_q = x_q[rng.permutation(x_q.shape[0])]
        n_p, n_q = int(train_fraction * x_p.shape[0]), int(train_fraction * x_q.shape[0])
        if min(n_p, n_q) < 2 or min(x_p.shape[0] - n_p, x_q.shape[0] - n_q) < 2:
            raise ValueError("train_fraction leaves too few samples in a split")
        train_p, eval_p = x_p[:n_p], x_p[n_p:]
        train_q, eval_q = x_q[:n_q], x_q[n_q:]
        # Standardising the inputs is part of the critic, so the bound is unaffected.
        pooled = np.concatenate([train_p, train_q])
        center, scale = pooled.mean(axis=0), pooled.std(axis=0) + 1e-12
        params = _fit_mlp(key, jnp.asarray((train_p - center) / scale, jnp.float32),
                          jnp.asarray((train_q - center) / scale, jnp.float32), alpha=alpha,
                          steps=int(steps), batch_size=int(batch_size), hidden=int(hidden),
                          learning_rate=float(learning_rate))
        g_p = np.asarray(_apply_mlp(params, jnp.asarray((eval_p - center) / scale, jnp.float32)),
                         np.float64)
        g_q = np.asarray(_apply_mlp(params, jnp.asarray((eval_q - center) / scale, jnp.float32)),
                         np.float64)
    else:
        raise ValueError(f"critic must be 'mlp' or a callable, got {critic!r}")
    estimate = _objective_np(g_p, g_q, alpha)
    interval = _bootstrap_interval(g_p, g_q, alpha, int(num_bootstrap), confidence, rng)
    return estimate, interval


def renyi_variational(samples_p, samples_q, alpha: float, critic: str | Callable = "mlp",
                      steps: int = 2000, key: jax.Array | None = None, *,
                      train_fraction: float = 0.5, batch_size: int = 500, hidden: int = 64,
                      learning_rate: float = 1e-3, num_bootstrap: int = 500,
                      confidence: float = 0.95, seed: int = 0):
    """Variational lower bound on D_α(P‖Q) from samples (Birrell et al. 2021, Thm 2.1).

    Maximises α·[(1/(α − 1)) log Ê_P[e^{(α−1)g}] − (1/α) log Ê_Q[e^{αg}]] over a critic g (the
    optimum is g = log dP/dQ + const). Note the factor α: Birrell et al.'s objective is
    R_α = D_α/α, and this returns D_α. With ``critic="mlp"`` a one-hidden-layer ReLU network is
    fitted with Adam on a ``train_fraction`` split of each sample set (mini-batches of
    ``batch_size``) and the objective is evaluated on the rest; the interval is a percentile
    bootstrap over that evaluation split. The network's output is squashed into [−8, 8]
    (tanh), since on finite mini-batches the α > 1 objective is unbounded. A callable critic ``g([n, d]) -> [n]`` is used as is, on
    all samples. For α > 1 the e^{αg} term is heavy-tailed: expect noise of order 10% with ~10⁴
    evaluation samples when D_α ≈ 1.

    Args:
      samples_p: [n, d] (or [n]) draws from P, e.g. unlearned models' outputs.
      samples_q: [m, d] (or [m]) draws from Q, e.g. retrained models' outputs.
      alpha: order, α > 0, α ≠ 1.
      critic: ``"mlp"`` or a fixed function.
      steps: optimisation steps of the MLP critic.
      key: ``jax.random`` key for the MLP critic.
      seed: NumPy seed of the split and the bootstrap.

    Returns:
      ``(estimate, (low, high))``: the D_α lower-bound estimate and its bootstrap interval.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> p, q = rng.normal(1.0, 1.0, (20000, 1)), rng.normal(0.0, 1.0, (20000, 1))
      >>> estimate, (low, high) = renyi_variational(p, q, alpha=2.0, critic=lambda x: x[:, 0])
      >>> 0.8 < estimate < 1.2  # D_2(N(1,1) ‖ N(0,1)) = 1
      True
    """
    alpha = _check_alpha(alpha)
    return _variational(samples_p, samples_q, alpha, critic, steps, key,
                        train_fraction=train_fraction, batch_size=batch_size, hidden=hidden,
                        learning_rate=learning_rate, num_bootstrap=num_bootstrap,
                        confidence=confidence, seed=seed)


def kl_dv(samples_p, samples_q, critic: str | Callable = "mlp", steps: int = 2000,
          key: jax.Array | None = None, *, train_fraction: float = 0.5, batch_size: int = 500,
          hidden: int = 64, learning_rate: float = 1e-3, num_bootstrap: int = 500,
          confidence: float = 0.95, seed: int = 0):
    """Donsker–Varadhan lower bound KL(P‖Q) ≥ Ê_P[g] − log Ê_Q[e^g] (Donsker & Varadhan 1983).

    Same fitting, split and bootstrap as :func:`renyi_variational` (its α → 1 limit).

    Returns:
      ``(estimate, (low, high))``.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> p, q = rng.normal(1.0, 1.0, 20000), rng.normal(0.0, 1.0, 20000)
      >>> estimate, _ = kl_dv(p, q, critic=lambda x: x[:, 0])
      >>> 0.4 < estimate < 0.6  # KL(N(1,1) ‖ N(0,1)) = 0.5
      True
    """
    return _variational(samples_p, samples_q, None, critic, steps, key,
                        train_fraction=train_fraction, batch_size=batch_size, hidden=hidden,
                        learning_rate=learning_rate, num_bootstrap=num_bootstrap,
                        confidence=confidence, seed=seed)
