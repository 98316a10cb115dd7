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
The closed forms and conversions are NumPy; only critic training uses JAX/optax. The critic and
its fit are :mod:`~jaxunlearn.evaluate.renyi_critic`; :func:`estimate_renyi` (with a lower
confidence end, DP-Auditorium's recipe) is :mod:`~jaxunlearn.evaluate.renyi_estimator`, both
re-exported here.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import numpy as np

from jaxunlearn.evaluate.renyi_estimator import (
    RenyiEstimate,
    check_sample_pair,
    dv_objective_float64,
    estimate_renyi,
    fit_and_evaluate_critic,
    renyi_dv_objective,
)

__all__ = ["renyi_gaussian", "kl_gaussian", "renyi_to_dp", "kl_dv", "renyi_variational",
           "estimate_renyi", "renyi_dv_objective", "RenyiEstimate"]


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
# Variational estimates with a bootstrap interval (the fit is the stable estimator's).


def _bootstrap_interval(g_p, g_q, alpha, num_bootstrap, confidence, rng):
    estimates = np.empty(num_bootstrap)
    chunk = 50
    for start in range(0, num_bootstrap, chunk):
        size = min(chunk, num_bootstrap - start)
        resampled_p = g_p[rng.integers(0, g_p.size, (size, g_p.size))]
        resampled_q = g_q[rng.integers(0, g_q.size, (size, g_q.size))]
        estimates[start:start + size] = dv_objective_float64(resampled_p, resampled_q, alpha)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return float(low), float(high)


def _variational(samples_p, samples_q, alpha, critic, steps, key, *, train_fraction, batch_size,
                 hidden, learning_rate, num_bootstrap, confidence, seed, bound,
                 warm_start_steps, eval_every):
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if int(num_bootstrap) < 10:
        raise ValueError(f"num_bootstrap must be >= 10, got {num_bootstrap}")
    if callable(critic):
        # A fixed critic needs no fitting: every sample is evaluation data.
        x_p, x_q = check_sample_pair(samples_p, samples_q, minimum=4)
        g_p = np.asarray(critic(x_p), np.float64).reshape(-1)
        g_q = np.asarray(critic(x_q), np.float64).reshape(-1)
        if g_p.shape != (x_p.shape[0],) or g_q.shape != (x_q.shape[0],):
            raise ValueError("critic must map [n, d] samples to [n] values")
    elif critic in ("mlp", "tanh_mlp"):
        x_p, x_q = check_sample_pair(samples_p, samples_q)
        fit = fit_and_evaluate_critic(
            x_p, x_q, alpha, key, bound=bound, hidden=hidden, steps=steps,
            warm_start_steps=warm_start_steps, learning_rate=learning_rate,
            batch_size=batch_size, eval_every=eval_every, train_fraction=train_fraction)
        g_p, g_q = fit.g_test_p, fit.g_test_q
    else:
        raise ValueError(f"critic must be 'mlp' or a callable, got {critic!r}")
    estimate = float(dv_objective_float64(g_p, g_q, alpha))
    interval = _bootstrap_interval(g_p, g_q, alpha, int(num_bootstrap), confidence,
                                   np.random.default_rng(seed))
    return estimate, interval


def renyi_variational(samples_p, samples_q, alpha: float, critic: str | Callable = "mlp",
                      steps: int = 1000, key: jax.Array | None = None, *,
                      train_fraction: float = 0.5, batch_size: int = 500,
                      hidden: int | Sequence[int] = (100, 100), learning_rate: float = 2e-4,
                      num_bootstrap: int = 500, confidence: float = 0.95, seed: int = 0,
                      bound: float | None = None, warm_start_steps: int = 500,
                      eval_every: int = 50):
    """Variational lower bound on D_α(P‖Q) from samples, with a bootstrap interval.

    Maximises (α/(α − 1)) log Ê_P[e^{(α−1)g}] − log Ê_Q[e^{αg}] over a critic g (Birrell et al.
    2021, Thm 2.1; the optimum is g = log dP/dQ + const). Birrell et al.'s objective is
    R_α = D_α/α; this returns D_α. With ``critic="mlp"`` the critic is fitted exactly as in
    :func:`~jaxunlearn.evaluate.renyi_estimator.estimate_renyi` (bounded tanh MLP, logistic warm
    start, Adam on the objective, checkpoint selection on a validation part of the
    ``train_fraction`` split; see that function for B, accuracy and the arguments shared with
    it) and the objective is evaluated on the rest; the interval is a percentile bootstrap over
    that evaluation split (an interval for the fixed critic's objective, not a guarantee — use
    ``estimate_renyi(...).lower`` for a lower confidence end). A callable critic
    ``g([n, d]) -> [n]`` is used as is, on all samples. Valid for every α > 0, α ≠ 1 (the
    variational formula holds on (0, 1) too); the heavy e^{αg} tail limits large α·D_α (see
    ``estimate_renyi``).

    Args:
      samples_p: [n, d] (or [n]) draws from P, e.g. unlearned models' outputs.
      samples_q: [m, d] (or [m]) draws from Q, e.g. retrained models' outputs.
      alpha: order, α > 0, α ≠ 1.
      critic: ``"mlp"`` or a fixed function.
      steps: DV steps of the MLP critic after the warm start.
      key: ``jax.random`` key for the MLP critic (split, initialisation, batches).
      seed: NumPy seed of the bootstrap.

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
                        confidence=confidence, seed=seed, bound=bound,
                        warm_start_steps=warm_start_steps, eval_every=eval_every)


def kl_dv(samples_p, samples_q, critic: str | Callable = "mlp", steps: int = 1000,
          key: jax.Array | None = None, *, train_fraction: float = 0.5, batch_size: int = 500,
          hidden: int | Sequence[int] = (100, 100), learning_rate: float = 2e-4,
          num_bootstrap: int = 500, confidence: float = 0.95, seed: int = 0,
          bound: float | None = None, warm_start_steps: int = 500, eval_every: int = 50):
    """Donsker–Varadhan lower bound KL(P‖Q) ≥ Ê_P[g] − log Ê_Q[e^g] (Donsker & Varadhan 1983).

    Same fitting, split and bootstrap as :func:`renyi_variational` (its α → 1 limit; the
    default bound is log(n_train)/2).

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
                        confidence=confidence, seed=seed, bound=bound,
                        warm_start_steps=warm_start_steps, eval_every=eval_every)
