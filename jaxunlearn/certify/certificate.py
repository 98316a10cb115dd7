"""One-call (ε, δ) certificates of Langevin unlearning and ALU, and their inverses.

For the CLI and the experiments: from the run's numbers (σ, K, dataset sizes, S, M, m, η) to
(ε, δ) and back. The chain is Δ = :func:`~jaxunlearn.certify.constants.gradient_sensitivity`,
ε_RU(α) = exp(−ηmK/α)·αΔ²/(mσ²) (:mod:`~jaxunlearn.certify.langevin`, Chien et al., NeurIPS
2024, strongly convex corollary) and ε = min_α ε_RU(α) + conversion (:func:`rdp_to_dp`). For
ALU (Inane et al., ICML 2026) the public points only enter Δ (and δ's default); n_public = 0 is
Langevin unlearning. m is the caller's: the official convention m = λ·(n_private + n_public)
is :func:`~jaxunlearn.certify.constants.logistic_constants`.
"""

from __future__ import annotations

from typing import Any

from jaxunlearn.certify._validation import (
    check_alpha_range, check_delta, check_int, check_method, check_real,
)
from jaxunlearn.certify.constants import gradient_sensitivity
from jaxunlearn.certify.conversion import rdp_to_dp, sigma_for_target, steps_for_target
from jaxunlearn.certify.langevin import _contraction, _eps0

__all__ = ["langevin_epsilon", "langevin_steps_for_target", "langevin_sigma_for_target"]


def _setup(*, n_private, n_public, num_deleted, clip_norm, strong_convexity, step_size, delta,
           public_weight, alpha_range, method, smoothness, adjacency):
    sensitivity = gradient_sensitivity(num_deleted, clip_norm, n_private, n_public,
                                       public_weight=public_weight, adjacency=adjacency)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    step_size = check_real(step_size, "step_size", minimum=0.0, strict=True)
    if smoothness is not None:
        smoothness = check_real(smoothness, "smoothness", minimum=0.0, strict=True)
        if strong_convexity > smoothness:
            raise ValueError(f"strong_convexity must be <= smoothness, got {strong_convexity} > "
                             f"{smoothness}")
        if step_size > (1.0 + 1e-12) / smoothness:
            raise ValueError(f"step_size must be <= 1/smoothness = {1.0 / smoothness}, got "
                             f"{step_size}")
    n_total = int(n_private) + int(n_public)
    delta = 1.0 / n_total if delta is None else check_delta(delta)
    return dict(sensitivity=sensitivity, strong_convexity=strong_convexity, step_size=step_size,
                delta=delta, alpha_range=check_alpha_range(alpha_range),
                method=check_method(method))


def langevin_epsilon(*, sigma: float, steps: int, n_private: int, n_public: int = 0,
                     num_deleted: int = 1, clip_norm: float = 1.0, strong_convexity: float,
                     step_size: float, delta: float | None = None,
                     public_weight: float | None = None,
                     alpha_range: tuple[float, float] = (2.0, 1e4), method: str = "mironov",
                     smoothness: float | None = None,
                     adjacency: str = "replace") -> dict[str, Any]:
    """(ε, δ)-unlearning certificate of K Langevin (PNGD) unlearning steps, with public data.

        Δ = 2SM/(n_private + n_public)  [or 2SM(1 − w)/n_private with public_weight w]
        ε_RU(α) = exp(−ηmK/α) · αΔ²/(mσ²),   ε = min_{α ∈ alpha_range} ε_RU(α) + conversion.

    K = 0 is the learning (DP) bound of the converged learner. Reproduces the official
    ``epsilon_expression``/``search_finetune_step`` numbers (MNIST n = 11,982, λ = 1e-6,
    σ = 0.1872, K = 1 → ε = 0.0500).

    Args:
      sigma: σ > 0 (per-step noise std sqrt(2ησ²)).
      steps: K ≥ 0 unlearning steps after the request.
      n_private, n_public: dataset sizes before deletion (n_public = 0: Langevin unlearning).
      num_deleted: S, private points per request.
      clip_norm: M, per-sample gradient clip.
      strong_convexity: m > 0 of the objective.
      step_size: η > 0 (≤ 1/L).
      delta: δ in (0, 1); default 1/(n_private + n_public) as in the official code.
      public_weight: w ∈ [0, 1) for the weighted objective, None for uniform weights.
      alpha_range: orders searched, default [2, 10⁴] as in the official code.
      method: ``"mironov"`` (official) or ``"improved"`` conversion.
      smoothness: optional L; step_size > 1/L then raises ``ValueError``.
      adjacency: ``"replace"`` (official) or ``"remove"``.

    Returns:
      dict with ``epsilon``, ``alpha`` (the minimising order), ``renyi`` (ε_RU at it),
      ``eps0_at_alpha`` (ε0 at it), ``sensitivity`` (Δ) and ``delta``.

    Example:
      >>> n, m = 11_982, 1e-6 * 11_982
      >>> cert = langevin_epsilon(sigma=0.1872, steps=1, n_private=n, strong_convexity=m,
      ...                         step_size=1 / (0.25 + m), smoothness=0.25 + m)
      >>> round(cert["epsilon"], 4), round(cert["alpha"])
      (0.05, 377)
    """
    setup = _setup(n_private=n_private, n_public=n_public, num_deleted=num_deleted,
                   clip_norm=clip_norm, strong_convexity=strong_convexity, step_size=step_size,
                   delta=delta, public_weight=public_weight, alpha_range=alpha_range,
                   method=method, smoothness=smoothness, adjacency=adjacency)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    steps = check_int(steps, "steps", minimum=0)
    sensitivity, m, eta = setup["sensitivity"], setup["strong_convexity"], setup["step_size"]

    def eps0(alpha):
        return _eps0(alpha, sensitivity, m, sigma)

    def renyi(alpha):
        return _contraction(alpha, steps, eta, m) * eps0(alpha)

    epsilon, alpha = rdp_to_dp(renyi, setup["delta"], setup["method"], setup["alpha_range"])
    return {"epsilon": epsilon, "alpha": alpha, "renyi": float(renyi(alpha)),
            "eps0_at_alpha": float(eps0(alpha)), "sensitivity": sensitivity,
            "delta": setup["delta"]}


def langevin_steps_for_target(target_epsilon: float, *, sigma: float, n_private: int,
                              n_public: int = 0, num_deleted: int = 1, clip_norm: float = 1.0,
                              strong_convexity: float, step_size: float,
                              delta: float | None = None, public_weight: float | None = None,
                              alpha_range: tuple[float, float] = (2.0, 1e4),
                              method: str = "mironov", smoothness: float | None = None,
                              adjacency: str = "replace", max_steps: int = 10**7) -> int:
    """Smallest K ≥ 0 with ``langevin_epsilon(steps=K, ...)["epsilon"] <= target_epsilon``.

    Exact (exponential then binary search, :func:`steps_for_target`); the official code steps K
    by 1 or 10 from 1, so its K is ≥ this one. Raises ``ValueError`` naming ``target_epsilon``
    when ``max_steps`` steps do not suffice (the Mironov floor is log(1/δ)/(α_max − 1)).

    Example:
      >>> # ALU, alu.md §4.2: n_private = 10,000, S = 100, sigma = 0.03, m = 0.01 held fixed.
      >>> kw = dict(sigma=0.03, n_private=10_000, num_deleted=100, strong_convexity=0.01,
      ...           step_size=1 / 0.26)
      >>> [langevin_steps_for_target(1.0, n_public=p, **kw) for p in (0, 10_000, 90_000)]
      [2488, 2242, 1413]
    """
    setup = _setup(n_private=n_private, n_public=n_public, num_deleted=num_deleted,
                   clip_norm=clip_norm, strong_convexity=strong_convexity, step_size=step_size,
                   delta=delta, public_weight=public_weight, alpha_range=alpha_range,
                   method=method, smoothness=smoothness, adjacency=adjacency)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    sensitivity, m, eta = setup["sensitivity"], setup["strong_convexity"], setup["step_size"]

    def renyi_of_steps(alpha, steps):
        return _contraction(alpha, steps, eta, m) * _eps0(alpha, sensitivity, m, sigma)

    return steps_for_target(target_epsilon, setup["delta"], renyi_of_steps, max_steps,
                            method=setup["method"], alpha_range=setup["alpha_range"])


def langevin_sigma_for_target(target_epsilon: float, steps: int, *, n_private: int,
                              n_public: int = 0, num_deleted: int = 1, clip_norm: float = 1.0,
                              strong_convexity: float, step_size: float,
                              delta: float | None = None, public_weight: float | None = None,
                              alpha_range: tuple[float, float] = (2.0, 1e4),
                              method: str = "mironov", smoothness: float | None = None,
                              adjacency: str = "replace",
                              bracket: tuple[float, float] = (1e-6, 1e3)) -> float:
    """Smallest σ with ``langevin_epsilon(sigma=σ, steps=K, ...)["epsilon"] <= target_epsilon``.

    Bisection in log σ (:func:`sigma_for_target`), so the target holds at the returned σ. The
    official ``baseline.py`` hard-codes the K = 1 values found by its own bisection.

    Example:
      >>> n, m = 11_982, 1e-6 * 11_982
      >>> sigma = langevin_sigma_for_target(0.05, 1, n_private=n, strong_convexity=m,
      ...                                   step_size=1 / (0.25 + m))
      >>> round(sigma, 4)        # baseline.py: 0.1872
      0.1872
    """
    setup = _setup(n_private=n_private, n_public=n_public, num_deleted=num_deleted,
                   clip_norm=clip_norm, strong_convexity=strong_convexity, step_size=step_size,
                   delta=delta, public_weight=public_weight, alpha_range=alpha_range,
                   method=method, smoothness=smoothness, adjacency=adjacency)
    steps = check_int(steps, "steps", minimum=0)
    sensitivity, m, eta = setup["sensitivity"], setup["strong_convexity"], setup["step_size"]

    def renyi_of_sigma(alpha, sigma):
        return _contraction(alpha, steps, eta, m) * _eps0(alpha, sensitivity, m, sigma)

    return sigma_for_target(target_epsilon, setup["delta"], renyi_of_sigma, bracket,
                            method=setup["method"], alpha_range=setup["alpha_range"])


def describe_certificate(certificate: dict, *, num_deleted: int, num_private: int,
                         num_public: int) -> str:
    """One paragraph saying what a full-batch certificate (``{"steps", **langevin_epsilon(...)}``,
    e.g. from :meth:`jaxunlearn.methods.alu.ALUMethod.certified_steps`) certifies, and for
    which losses it holds.

    Example:
      >>> text = describe_certificate({"steps": 12, "epsilon": 0.9, "delta": 1e-3, "alpha": 30.0,
      ...     "renyi": 0.7, "eps0_at_alpha": 2.0, "sensitivity": 0.01}, num_deleted=10,
      ...     num_private=1000, num_public=500)
      >>> text.startswith("K = 12 full-batch steps give (0.9, 0.001)-unlearning of 10 of 1000")
      True
    """
    return (f"K = {certificate['steps']} full-batch steps give ({certificate['epsilon']:.4g}, "
            f"{certificate['delta']:.3g})-unlearning of {num_deleted} of {num_private} private "
            f"examples with {num_public} public ones (alpha = {certificate['alpha']:.4g}, Renyi "
            f"{certificate['renyi']:.4g}, eps0 {certificate['eps0_at_alpha']:.4g}, sensitivity "
            f"{certificate['sensitivity']:.3g}); it holds for an m-strongly convex, "
            "(1/4 + m)-smooth loss (logistic regression on unit-norm features) whose model was "
            "learned by the same dynamics")
