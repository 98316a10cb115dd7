"""Rényi-unlearning bounds of Langevin unlearning (PNGD) for strongly convex objectives.

Chien, Wang, Chen & Li, "Langevin Unlearning: A New Perspective of Noisy Gradient Descent for
Machine Unlearning" (NeurIPS 2024, arXiv 2401.10371). Learning and unlearning both run projected
noisy gradient descent x ← Π(x − η∇F(x) + sqrt(2ησ²)·W); unlearning is K more steps on the
updated dataset D′. For an m-strongly convex F the stationary law ν_D satisfies a log-Sobolev
inequality with constant C_LSI = 2σ²/m, and the paper's strongly convex corollary (Sec. 3)
gives the (α, ε)-Rényi-unlearning bound implemented here,

    ε0(α)      = α Δ² / (m σ²)                      (Rényi DP of converged learning)
    ε_RU(α, K) = exp(−2σ²ηK / (α C_LSI)) · ε0(α) = exp(−ηmK/α) · ε0(α),

with Δ the gradient sensitivity (:func:`~jaxunlearn.certify.constants.gradient_sensitivity`;
Δ = 2SM/n in the paper, 2SM/(n_priv + n_pub) for ALU). Sequential requests use the weak triangle
inequality of Rényi divergence (Mironov 2017, Cor. 4), doubling α at each level. The formulas
are exactly those of the official code (Graph-COM/Langevin_unlearning: ``calculate_epsilon0``,
``epsilon_expression``, and ``baseline.py``'s ``epsilon_s_with_alpha``); the theorem numbers of
the paper could not be checked here. All functions broadcast over an array of orders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from jaxunlearn.certify._validation import (
    check_alpha, check_int, check_int_sequence, check_real,
)

__all__ = ["lu_eps0", "lu_renyi", "lu_sequential"]

Order = float | np.ndarray


def _as_output(value: np.ndarray | float) -> Order:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def _eps0(alpha, sensitivity, strong_convexity, sigma):
    return alpha * sensitivity**2 / (strong_convexity * sigma**2)


def _contraction(alpha, steps, step_size, strong_convexity):
    return np.exp(-step_size * strong_convexity * steps / alpha)


def lu_eps0(alpha: Order, sensitivity: float, strong_convexity: float, sigma: float) -> Order:
    """ε0(α) = α·Δ²/(m·σ²): the Rényi bound of converged PNGD learning (K = 0).

    Chien et al. 2024, strongly convex corollary: with Δ = 2SM/n it is the coded
    ``4αS²M²/(mσ²n²)``. It is the RDP of the Gibbs laws ν_D ∝ exp(−F_D/σ²) of two
    m-strongly convex potentials whose gradients differ by at most Δ.

    Args:
      alpha: order(s) α > 1, scalar or array.
      sensitivity: Δ ≥ 0.
      strong_convexity: m > 0.
      sigma: σ > 0 (noise std is sqrt(2ησ²) per step).

    Returns:
      ε0(α), a float or an array shaped like ``alpha``.

    Example:
      >>> round(lu_eps0(2.0, sensitivity=2e-4, strong_convexity=0.01, sigma=0.03), 6)
      0.008889
      >>> lu_eps0(np.array([2.0, 4.0]), 2e-4, 0.01, 0.03).round(6)
      array([0.008889, 0.017778])
    """
    alpha = check_alpha(alpha)
    sensitivity = check_real(sensitivity, "sensitivity", minimum=0.0)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    return _as_output(_eps0(alpha, sensitivity, strong_convexity, sigma))


def lu_renyi(alpha: Order, steps: int, step_size: float, strong_convexity: float,
             eps0: float | Callable[[Order], Order]) -> Order:
    """ε_RU(α, K) = exp(−η·m·K/α)·ε0(α): the Rényi-unlearning bound after K PNGD steps.

    Chien et al. 2024, strongly convex corollary, with C_LSI = 2σ²/m so that
    exp(−2σ²ηK/(α C_LSI)) = exp(−ηmK/α) (the official ``epsilon_expression``). K = 0 returns
    ε0, the learning bound. The step size must satisfy η ≤ 1/L (the caller's business).

    Args:
      alpha: order(s) α > 1.
      steps: K ≥ 0 unlearning steps.
      step_size: η > 0.
      strong_convexity: m > 0.
      eps0: ε0 at ``alpha`` (a number ≥ 0, used as is) or a function of the order, e.g.
        ``lambda a: lu_eps0(a, sensitivity, m, sigma)``.

    Returns:
      ε_RU(α, K), a float or an array shaped like ``alpha``.

    Example:
      >>> eps0 = lambda a: lu_eps0(a, sensitivity=2e-4, strong_convexity=0.01, sigma=0.03)
      >>> lu_renyi(20.0, 0, 3.8462, 0.01, eps0) == eps0(20.0)
      True
      >>> round(lu_renyi(20.0, 1000, 3.8462, 0.01, eps0) / eps0(20.0), 4)  # exp(-1.9231)
      0.1462
    """
    alpha = check_alpha(alpha)
    steps = check_int(steps, "steps", minimum=0)
    step_size = check_real(step_size, "step_size", minimum=0.0, strict=True)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    if callable(eps0):
        eps0_value = np.asarray(eps0(alpha), dtype=np.float64)
        if np.any(np.isnan(eps0_value)) or np.any(eps0_value < 0):
            raise ValueError("eps0 must return non-negative values")
    else:
        eps0_value = check_real(eps0, "eps0", minimum=0.0)
    return _as_output(_contraction(alpha, steps, step_size, strong_convexity) * eps0_value)


def _sequential(alpha, steps_list, step_size, strong_convexity, sensitivities, sigma):
    # Request j (1-based) of s is evaluated at order α·2^(s−j): ε_s(α) needs ε_{s−1}(2α), which
    # needs ε_{s−2}(4α), ... so the recursion is unrolled from the first request outwards.
    count = len(steps_list)
    value = None
    for j in range(count):
        order = alpha * 2.0 ** (count - 1 - j)
        shrink = _contraction(order, steps_list[j], step_size, strong_convexity)
        if value is None:
            value = shrink * _eps0(order, sensitivities[j], strong_convexity, sigma)
        else:
            weak_triangle = (order - 0.5) / (order - 1.0)
            value = shrink * weak_triangle * (
                _eps0(2.0 * order, sensitivities[j], strong_convexity, sigma) + value)
    return value


def lu_sequential(alpha: Order, steps_list: Sequence[int], step_size: float,
                  strong_convexity: float, sensitivity: float | Sequence[float],
                  sigma: float) -> Order:
    """Rényi-unlearning bound after the last of s sequential requests (α-doubling recursion).

    Chien et al. 2024 (sequential unlearning), as coded in ``baseline.py``'s
    ``epsilon_s_with_alpha``: with K_j the steps run after request j and ε0_j the learning bound
    for request j's sensitivity,

        ε_1(α) = exp(−ηmK_1/α) · ε0_1(α)
        ε_s(α) = exp(−ηmK_s/α) · (α − 1/2)/(α − 1) · [ε0_s(2α) + ε_{s−1}(2α)],

    the weak triangle inequality D_α(P‖R) ≤ (α−½)/(α−1)·D_{2α}(P‖Q) + D_{2α−1}(Q‖R) of Rényi
    divergence (Mironov 2017, Cor. 4; D_{2α−1} ≤ D_{2α} and the factor ≥ 1 make the coded form
    an upper bound). One request reduces to :func:`lu_renyi`.

    Args:
      alpha: order(s) α > 1 of the final certificate.
      steps_list: [K_1, ..., K_s], unlearning steps after each request (each ≥ 0).
      step_size: η > 0.
      strong_convexity: m > 0.
      sensitivity: Δ of one request (all requests alike), or one Δ per request.
      sigma: σ > 0.

    Returns:
      ε_s(α), a float or an array shaped like ``alpha``.

    Example:
      >>> single = lu_renyi(10.0, 50, 3.8, 0.01, lambda a: lu_eps0(a, 2e-3, 0.01, 0.03))
      >>> bool(lu_sequential(10.0, [50], 3.8, 0.01, 2e-3, 0.03) == single)
      True
      >>> two = lu_sequential(10.0, [50, 50], 3.8, 0.01, 2e-3, 0.03)
      >>> bool(two > single)
      True
    """
    alpha = check_alpha(alpha)
    steps_list = check_int_sequence(steps_list, "steps_list", minimum=0)
    step_size = check_real(step_size, "step_size", minimum=0.0, strict=True)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    if isinstance(sensitivity, (Sequence, np.ndarray)) and not isinstance(sensitivity, str):
        if len(sensitivity) != len(steps_list):
            raise ValueError(
                f"sensitivity must be a number or have one entry per request "
                f"({len(steps_list)}), got {len(sensitivity)}")
        sensitivities = [check_real(s, f"sensitivity[{i}]", minimum=0.0)
                         for i, s in enumerate(sensitivity)]
    else:
        sensitivities = [check_real(sensitivity, "sensitivity", minimum=0.0)] * len(steps_list)
    return _as_output(_sequential(alpha, steps_list, step_size, strong_convexity, sensitivities,
                                  sigma))
