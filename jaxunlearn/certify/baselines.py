"""Noise calibration of the baselines: Descent-to-Delete and the PABI noisy fine-tuning.

* Descent-to-Delete (Neel, Roth & Sharifi-Malvajerdi, ALT 2021): I steps of gradient descent
  with step 2/(L + m) per deletion, then Gaussian output perturbation. The noise scale is the
  one coded in Graph-COM/Langevin_unlearning (``calculate_baseline_sigma`` for one deletion,
  ``calculate_baseline_sigma2`` for the sequential variant), the baseline of Langevin
  unlearning's Fig. 3.
* Privacy amplification by iteration for noisy fine-tuning on the retain set, no convexity
  (Koloskova et al., "Certified Unlearning for Neural Networks", ICML 2025; stair-lab code):
  the model is clipped to ‖θ‖ ≤ C0, T steps θ ← θ − η(clip_{C1}(∇L(θ)) + λθ) + N(0, σ²I) are run,
  and σ is set from the Rényi target ε_R by the closed forms below.
"""

from __future__ import annotations

import math

from jaxunlearn.certify._validation import check_delta, check_int, check_real

__all__ = ["d2d_sigma", "pabi_sigma"]


def d2d_sigma(*, iterations: int, strong_convexity: float, smoothness: float, clip_norm: float,
              n: int, epsilon: float, delta: float, sequential: bool = False) -> float:
    """Output-perturbation std of Descent-to-Delete after I gradient steps per deletion.

    With γ = (L − m)/(L + m) the contraction of one step of size 2/(L + m),

        one deletion:  σ = 4√2 M γ^I / (m n (1 − γ^I) (sqrt(log(1/δ) + ε) − sqrt(log(1/δ))))
        sequential:    σ = 8 M γ^I / (m n (1 − γ^I) (sqrt(2 log(2/δ) + 3ε) − sqrt(2 log(2/δ) + 2ε)))

    exactly as coded in Graph-COM/Langevin_unlearning (``calculate_baseline_sigma`` and
    ``calculate_baseline_sigma2``).

    Args:
      iterations: I ≥ 1 gradient steps per deletion.
      strong_convexity: m > 0.
      smoothness: L ≥ m.
      clip_norm: M > 0 (Lipschitz constant of the per-sample loss).
      n: dataset size ≥ 1.
      epsilon: target ε > 0.
      delta: δ in (0, 1).
      sequential: use the sequential-deletion form.

    Returns:
      σ as a float.

    Example:
      >>> m = 1e-6 * 11_982
      >>> s1 = d2d_sigma(iterations=1, strong_convexity=m, smoothness=0.25 + m, clip_norm=1.0,
      ...                n=11_982, epsilon=1.0, delta=1 / 11_982)
      >>> s5 = d2d_sigma(iterations=5, strong_convexity=m, smoothness=0.25 + m, clip_norm=1.0,
      ...                n=11_982, epsilon=1.0, delta=1 / 11_982)
      >>> bool(s5 < s1)
      True
    """
    iterations = check_int(iterations, "iterations", minimum=1)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    smoothness = check_real(smoothness, "smoothness", minimum=strong_convexity)
    clip_norm = check_real(clip_norm, "clip_norm", minimum=0.0, strict=True)
    n = check_int(n, "n", minimum=1)
    epsilon = check_real(epsilon, "epsilon", minimum=0.0, strict=True)
    delta = check_delta(delta)
    gamma = (smoothness - strong_convexity) / (smoothness + strong_convexity)
    shrink = gamma**iterations
    scale = strong_convexity * n * (1.0 - shrink)
    if sequential:
        log_term = 2.0 * math.log(2.0 / delta)
        gap = math.sqrt(log_term + 3.0 * epsilon) - math.sqrt(log_term + 2.0 * epsilon)
        return 8.0 * clip_norm * shrink / (scale * gap)
    log_term = math.log(1.0 / delta)
    gap = math.sqrt(log_term + epsilon) - math.sqrt(log_term)
    return 4.0 * math.sqrt(2.0) * clip_norm * shrink / (scale * gap)


def pabi_sigma(C0: float, C1: float, eta: float, T: int, eps_R: float,
               weight_decay: float = 0.0) -> float:
    """Per-step noise std of PABI noisy fine-tuning for a Rényi target ε_R (Koloskova et al.).

    Without weight decay (the coded schedule also sets T = ⌈C0/(C1η)⌉):

        σ² = (2C0 + 2C1ηT)² / (4 ε_R T);

    with weight decay λ > 0 and c = 1 − ηλ (contraction of θ ↦ (1 − ηλ)θ):

        σ² = (2C0 c^T + (2C1/λ)(1 − c^T))² · ηλ(2 − ηλ) / (2 ε_R (1 − c^{2T})).

    Both exactly as reconstructed from the stair-lab trainer (alu.md §6). Note the two are not
    continuous: as λ → 0 the second tends to (2C0 + 2C1ηT)²/(2 ε_R T), twice the first σ²; the
    second is the one a direct shifted-Rényi (PABI) calculation gives for D_α/α, so the first
    may be half as noisy as that argument requires. Keep this in mind before relying on it.

    Args:
      C0: model-norm bound C0 > 0 (diameter 2C0 of the initial set).
      C1: gradient clip C1 ≥ 0 (of the whole batch gradient).
      eta: step size η > 0 (with ηλ < 1 when weight decay is used).
      T: number of noisy steps ≥ 1.
      eps_R: Rényi target ε_R > 0.
      weight_decay: λ ≥ 0.

    Returns:
      σ as a float.

    Example:
      >>> round(pabi_sigma(1.0, 1.0, 0.1, 10, 1.0), 6)     # (2 + 2)² / 40 = 0.4
      0.632456
      >>> bool(pabi_sigma(1.0, 1.0, 0.1, 10, 1.0, weight_decay=0.5) > 0)
      True
    """
    C0 = check_real(C0, "C0", minimum=0.0, strict=True)
    C1 = check_real(C1, "C1", minimum=0.0)
    eta = check_real(eta, "eta", minimum=0.0, strict=True)
    T = check_int(T, "T", minimum=1)
    eps_R = check_real(eps_R, "eps_R", minimum=0.0, strict=True)
    weight_decay = check_real(weight_decay, "weight_decay", minimum=0.0)
    if weight_decay == 0.0:
        return math.sqrt((2.0 * C0 + 2.0 * C1 * eta * T) ** 2 / (4.0 * eps_R * T))
    shrink_rate = eta * weight_decay
    if shrink_rate >= 1.0:
        raise ValueError(f"weight_decay must satisfy eta * weight_decay < 1, got {shrink_rate}")
    c = 1.0 - shrink_rate
    diameter = 2.0 * C0 * c**T + (2.0 * C1 / weight_decay) * (1.0 - c**T)
    variance = (diameter**2 * shrink_rate * (2.0 - shrink_rate)
                / (2.0 * eps_R * (1.0 - c ** (2 * T))))
    return math.sqrt(variance)
