"""From Rényi bounds to (ε, δ): the conversion and its inverses (steps, noise for a target ε).

An (α, ε_R)-Rényi-unlearning (or RDP) guarantee at every α implies (ε, δ)-unlearning with

* ``"mironov"`` (Mironov 2017, "Rényi Differential Privacy", Prop. 3; the conversion of both
  official Langevin/PNSGD unlearning repositories): ε = min_α ε_R(α) + log(1/δ)/(α − 1);
* ``"improved"`` (Balle, Barthe, Gaboardi, Hsu & Sato 2020, "Hypothesis Testing Interpretations
  and Renyi Differential Privacy", Thm 21; used by Koloskova et al. 2025 and dp-accounting):
  ε = min_α ε_R(α) − (log δ + log α)/(α − 1) + log((α − 1)/α), never larger than Mironov's.

The minimum over α ∈ [α_lo, α_hi] is taken on a log-spaced grid and refined by a bounded scalar
search (``scipy.optimize.minimize_scalar``) around the grid minimum, so a curve with several
local minima is handled. The inverses search the smallest integer number of steps (exponential
then binary search, exact) and the smallest σ (bisection in log σ) meeting a target ε.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from jaxunlearn.certify._validation import (
    check_alpha_range, check_delta, check_int, check_method, check_real,
)

__all__ = ["rdp_to_dp", "steps_for_target", "sigma_for_target"]

RenyiCurve = Callable[[float | np.ndarray], float | np.ndarray]


def _conversion_term(alpha, delta, method):
    if method == "mironov":
        return np.log(1.0 / delta) / (alpha - 1.0)
    return -(np.log(delta) + np.log(alpha)) / (alpha - 1.0) + np.log1p(-1.0 / alpha)


def _evaluate(renyi_fn: RenyiCurve, alpha: np.ndarray) -> np.ndarray:
    """ε_R on an array of orders; a curve written for scalars is evaluated point by point."""
    try:
        values = np.asarray(renyi_fn(alpha), dtype=np.float64)
        if values.shape != alpha.shape:
            values = np.broadcast_to(values, alpha.shape).astype(np.float64)
    except (TypeError, ValueError):
        values = np.array([float(renyi_fn(float(a))) for a in alpha], dtype=np.float64)
    if np.any(np.isnan(values)) or np.any(values < 0):
        raise ValueError("renyi_fn must return non-negative, non-NaN Rényi bounds")
    return values


def rdp_to_dp(renyi_fn: RenyiCurve, delta: float, method: str = "mironov",
              alpha_range: tuple[float, float] = (2.0, 1e4), *,
              grid_size: int = 512) -> tuple[float, float]:
    """Smallest ε over α ∈ ``alpha_range`` such that the Rényi curve implies (ε, δ).

    See the module docstring for the two conversions. The result is clipped at 0 (the improved
    conversion can go negative for tiny ε_R and huge α). ``renyi_fn`` may take an array of
    orders (faster) or a single float.

    Args:
      renyi_fn: α ↦ ε_R(α) ≥ 0 (e.g. ``lambda a: lu_renyi(a, K, eta, m, eps0)``).
      delta: δ in (0, 1).
      method: ``"mironov"`` or ``"improved"``.
      alpha_range: (α_lo, α_hi) with 1 < α_lo < α_hi; the official code searches [2, 10⁴].
      grid_size: number of log-spaced grid orders (≥ 3).

    Returns:
      ``(epsilon, best_alpha)``.

    Example:
      >>> # Gaussian mechanism, Δ/σ = 1: ε_R = α/2, so ε = 1/2 + sqrt(2 log(1/δ)).
      >>> eps, alpha = rdp_to_dp(lambda a: a / 2.0, 1e-5)
      >>> round(eps, 6), round(0.5 + (2 * float(np.log(1e5))) ** 0.5, 6), round(alpha, 3)
      (5.298526, 5.298526, 5.799)
      >>> bool(rdp_to_dp(lambda a: a / 2.0, 1e-5, method="improved")[0] < eps)
      True
    """
    if not callable(renyi_fn):
        raise ValueError(f"renyi_fn must be callable, got {renyi_fn!r}")
    delta = check_delta(delta)
    method = check_method(method)
    low, high = check_alpha_range(alpha_range)
    grid_size = check_int(grid_size, "grid_size", minimum=3)
    grid = np.geomspace(low, high, grid_size)
    grid[0], grid[-1] = low, high
    objective = _evaluate(renyi_fn, grid) + _conversion_term(grid, delta, method)
    best = int(np.argmin(objective))
    best_eps, best_alpha = float(objective[best]), float(grid[best])
    if not math.isfinite(best_eps):
        return best_eps, best_alpha
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, grid_size - 1)]

    def scalar_objective(log_alpha: float) -> float:
        alpha = min(max(math.exp(log_alpha), low), high)
        value = float(np.asarray(renyi_fn(alpha), dtype=np.float64))
        if math.isnan(value) or value < 0:
            raise ValueError("renyi_fn must return non-negative, non-NaN Rényi bounds")
        return value + float(_conversion_term(alpha, delta, method))

    refined = minimize_scalar(scalar_objective, bounds=(math.log(left), math.log(right)),
                              method="bounded", options={"xatol": 1e-10})
    if refined.success and refined.fun < best_eps:
        best_eps, best_alpha = float(refined.fun), min(max(math.exp(refined.x), low), high)
    return max(best_eps, 0.0), best_alpha


def steps_for_target(target_epsilon: float, delta: float,
                     renyi_of_steps: Callable[[float | np.ndarray, int], float | np.ndarray],
                     max_steps: int = 10**7, *, method: str = "mironov",
                     alpha_range: tuple[float, float] = (2.0, 1e4)) -> int:
    """Smallest integer K ≥ 0 with rdp_to_dp(α ↦ ε_R(α, K)) ≤ ``target_epsilon``.

    Exact integer answer by exponential then binary search, assuming ε(K) is non-increasing in
    K (true for every bound in this package). The official code increments K by 1
    (``baseline.py``) or by 10 from 1 (``main_lmc.py``), so its K is ≥ this one. When even
    ``max_steps`` steps miss the target (e.g. below the δ floor log(1/δ)/(α_hi − 1) of the
    Mironov conversion) a ``ValueError`` names ``target_epsilon``.

    Args:
      target_epsilon: ε > 0 to reach.
      delta: δ in (0, 1).
      renyi_of_steps: (α, K) ↦ ε_R(α, K).
      max_steps: largest K tried.
      method, alpha_range: as in :func:`rdp_to_dp`.

    Returns:
      K as an int.

    Example:
      >>> curve = lambda a, k: a * 0.5 * np.exp(-k / a)   # a Gaussian bound that decays
      >>> k = steps_for_target(1.0, 1e-5, curve)
      >>> eps = lambda k: rdp_to_dp(lambda a: curve(a, k), 1e-5)[0]
      >>> k, bool(eps(k) <= 1.0 < eps(k - 1))
      (57, True)
    """
    target_epsilon = check_real(target_epsilon, "target_epsilon", minimum=0.0, strict=True)
    delta = check_delta(delta)
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    method = check_method(method)
    alpha_range = check_alpha_range(alpha_range)
    if not callable(renyi_of_steps):
        raise ValueError(f"renyi_of_steps must be callable, got {renyi_of_steps!r}")

    def epsilon_at(steps: int) -> float:
        return rdp_to_dp(lambda a: renyi_of_steps(a, steps), delta, method, alpha_range)[0]

    if epsilon_at(0) <= target_epsilon:
        return 0
    low, high = 0, 1
    while epsilon_at(high) > target_epsilon:
        if high >= max_steps:
            floor = epsilon_at(max_steps)
            raise ValueError(
                f"target_epsilon={target_epsilon} is not reached within max_steps={max_steps} "
                f"(epsilon there is {floor:.6g}; the conversion floor for delta={delta} is about "
                f"log(1/delta)/(alpha_max - 1) = "
                f"{math.log(1.0 / delta) / (alpha_range[1] - 1.0):.6g} with method='mironov')")
        low, high = high, min(2 * high, max_steps)
    while high - low > 1:  # invariant: ε(low) > target ≥ ε(high)
        middle = (low + high) // 2
        if epsilon_at(middle) > target_epsilon:
            low = middle
        else:
            high = middle
    return high


def sigma_for_target(target_epsilon: float, delta: float,
                     renyi_of_sigma: Callable[[float | np.ndarray, float], float | np.ndarray],
                     bracket: tuple[float, float] = (1e-6, 1e3), *, method: str = "mironov",
                     alpha_range: tuple[float, float] = (2.0, 1e4),
                     rtol: float = 1e-10) -> float:
    """Smallest σ in ``bracket`` with rdp_to_dp(α ↦ ε_R(α, σ)) ≤ ``target_epsilon``.

    Bisection in log σ (ε non-increasing in σ), returning the upper end of the final bracket so
    that the target is guaranteed at the returned σ; relative width ``rtol``. The official code
    bisects σ ∈ [1e-5, 0.3] on the integer K instead (``search_k``).

    Args:
      target_epsilon: ε > 0 to reach.
      delta: δ in (0, 1).
      renyi_of_sigma: (α, σ) ↦ ε_R(α, σ).
      bracket: (σ_lo, σ_hi), 0 < σ_lo < σ_hi; ε(σ_lo) must miss and ε(σ_hi) meet the target.
      method, alpha_range: as in :func:`rdp_to_dp`.
      rtol: relative tolerance on σ.

    Returns:
      σ as a float.

    Example:
      >>> sigma = sigma_for_target(1.0, 1e-5, lambda a, s: a / (2 * s**2))
      >>> # Gaussian mechanism, Δ = 1: ε = 1/(2σ²) + sqrt(2 log(1/δ))/σ, so at ε = 1 the
      >>> # closed form is σ = 1/(sqrt(2 log(1/δ) + 2) − sqrt(2 log(1/δ))).
      >>> two_log = 2 * float(np.log(1e5))
      >>> round(sigma, 6), round(1 / ((two_log + 2) ** 0.5 - two_log**0.5), 6)
      (4.900555, 4.900555)
    """
    target_epsilon = check_real(target_epsilon, "target_epsilon", minimum=0.0, strict=True)
    delta = check_delta(delta)
    method = check_method(method)
    alpha_range = check_alpha_range(alpha_range)
    rtol = check_real(rtol, "rtol", minimum=0.0, strict=True)
    if not callable(renyi_of_sigma):
        raise ValueError(f"renyi_of_sigma must be callable, got {renyi_of_sigma!r}")
    if not isinstance(bracket, (tuple, list)) or len(bracket) != 2:
        raise ValueError(f"bracket must be a pair (lo, hi), got {bracket!r}")
    low = check_real(bracket[0], "bracket[0]", minimum=0.0, strict=True)
    high = check_real(bracket[1], "bracket[1]", minimum=0.0, strict=True)
    if not low < high:
        raise ValueError(f"bracket must satisfy lo < hi, got {bracket!r}")

    def epsilon_at(sigma: float) -> float:
        return rdp_to_dp(lambda a: renyi_of_sigma(a, sigma), delta, method, alpha_range)[0]

    at_high = epsilon_at(high)
    if at_high > target_epsilon:
        raise ValueError(
            f"target_epsilon={target_epsilon} is not reached even at sigma={high} (epsilon "
            f"{at_high:.6g}); raise bracket[1] or the target (the conversion alone costs about "
            f"log(1/delta)/(alpha_max - 1))")
    if epsilon_at(low) <= target_epsilon:
        raise ValueError(
            f"bracket[0]={low} already meets target_epsilon={target_epsilon}; lower bracket[0]")
    while high / low - 1.0 > rtol:
        middle = math.sqrt(low * high)
        if epsilon_at(middle) > target_epsilon:
            low = middle
        else:
            high = middle
    return high
