"""What retraining costs under the same certificate: steps of a fresh chain to the same (ε, δ).

Langevin unlearning (Chien, Wang, Chen & Li, NeurIPS 2024) and ALU (Inane et al., ICML 2026)
certify that K unlearning steps bring the law of the model within (α, ε_RU) Rényi divergence of
ν_{D′}, the stationary law of the dynamics on the updated data, by contraction of the starting
divergence: ε_RU(α, K) = exp(−ηmK/α)·D_α(start ‖ ν_{D′}), with the start ν_D bounded by
ε0(α) = αΔ²/(mσ²) (:mod:`~jaxunlearn.certify.langevin`). ALU's "strict computational advantage
over retraining" [abstract] needs a retraining cost measured the same way. Only the abstract of
the ALU paper could be read, so this is our reconstruction (project notes ``alu.md`` §4.2):

* a retrained model is a fresh chain on D′ from a data-independent start, and it is done when
  the same theory certifies its law within the same (ε, δ) of ν_{D′};
* the data-independent start is ν_∅, the stationary law of the same dynamics with every data
  gradient zero: for the regulariser (m/2)‖θ‖² and step size η, the Gaussian AR(1) chain
  θ ← (1 − ηm)θ + √(2ησ²)·W, whose stationary law is N(0, v_∅ I) with
  v_∅ = 2ησ²/(1 − (1 − ηm)²) = 2σ²/(m(2 − ηm)) (:func:`data_free_variance`);
* ν_∅ and ν_{D′} are the stationary laws of two chains whose drifts differ by the data
  gradient ∇L_{D′}(θ), whose norm is at most M (a mean of per-example gradients clipped to M),
  so the strongly convex bound that gives ε0 for D against D′ gives
  D_α(ν_∅ ‖ ν_{D′}) ≤ α M²/(mσ²): the ε0 of a "deletion" with sensitivity Δ_0 = M;
* T(ε) is then the smallest T with min_α exp(−ηmT/α)·αM²/(mσ²) + conversion ≤ ε.

Unlearning and retraining thus differ only in their starting divergence, Δ = 2SM/(n_priv + n_pub)
against Δ_0 = M, both under the T → ∞ learning convention of the official code: K ≤ T whenever
2S ≤ n_priv + n_pub and K ≥ T whenever 2S ≥ n_priv + n_pub
(:func:`public_for_no_more_than_retraining`), whatever σ, m, η, ε and δ.
The official initialisation ρ_0 = N(0, 2σ²/m I) cannot stand in for ν_∅: its variance
v_0 = 2σ²/m exceeds v_∅, and ∫ρ_0^α ν^{1−α} diverges once α/v_0 + (1 − α)/v_∅ ≤ 0, i.e. for
α ≥ (2 − ηm)/(1 − ηm) (2.2 at ηm = 1/6) when ν_{D′} has the Gibbs form exp(−F/σ²) with the
data term L ≥ 0 (which only enlarges the integrand); the contraction bound then certifies
nothing at the orders the conversion uses.
"""

from __future__ import annotations

from typing import Any

from jaxunlearn.certify._validation import (
    check_alpha_range, check_delta, check_int, check_method, check_real,
)
from jaxunlearn.certify.certificate import langevin_steps_for_target
from jaxunlearn.certify.constants import gradient_sensitivity
from jaxunlearn.certify.conversion import rdp_to_dp, steps_for_target
from jaxunlearn.certify.langevin import _contraction, _eps0

__all__ = ["data_free_variance", "retraining_epsilon", "retraining_steps_for_target",
           "unlearning_vs_retraining", "public_for_no_more_than_retraining"]


def _check_dynamics(sigma, strong_convexity, step_size):
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    step_size = check_real(step_size, "step_size", minimum=0.0, strict=True)
    if not step_size * strong_convexity < 2.0:
        raise ValueError(f"step_size * strong_convexity must be < 2 for a stationary law, got "
                         f"{step_size * strong_convexity}")
    return sigma, strong_convexity, step_size


def data_free_variance(sigma: float, strong_convexity: float, step_size: float) -> float:
    """v_∅ = 2ησ²/(1 − (1 − ηm)²) = 2σ²/(m(2 − ηm)): per-coordinate variance of the stationary
    law of θ ← (1 − ηm)θ + √(2ησ²)·W (the dynamics with no data gradient; module docstring).

    Example:
      >>> round(data_free_variance(0.05, 0.05, 1 / 0.3), 6)   # 2σ²/(m(2 − 1/6)) = 0.1 / 1.8333
      0.054545
    """
    sigma, strong_convexity, step_size = _check_dynamics(sigma, strong_convexity, step_size)
    return 2.0 * sigma**2 / (strong_convexity * (2.0 - step_size * strong_convexity))


def _setup(sigma, clip_norm, strong_convexity, step_size, delta, alpha_range, method):
    sigma, strong_convexity, step_size = _check_dynamics(sigma, strong_convexity, step_size)
    return dict(sigma=sigma, sensitivity=check_real(clip_norm, "clip_norm", minimum=0.0,
                                                    strict=True),
                strong_convexity=strong_convexity, step_size=step_size,
                delta=check_delta(delta), alpha_range=check_alpha_range(alpha_range),
                method=check_method(method))


def retraining_epsilon(*, sigma: float, steps: int, strong_convexity: float, step_size: float,
                       delta: float, clip_norm: float = 1.0,
                       alpha_range: tuple[float, float] = (2.0, 1e4),
                       method: str = "mironov") -> dict[str, Any]:
    """(ε, δ) certified for a chain on D′ after ``steps`` steps from ν_∅ (module docstring):
    ε = min_α exp(−ηmT/α)·αM²/(mσ²) + conversion.

    Args:
      sigma, strong_convexity, step_size: σ, m, η of the dynamics (ηm < 2).
      steps: T ≥ 0.
      delta: δ in (0, 1).
      clip_norm: M, the bound on the data gradient's norm (Δ_0 = M).
      alpha_range, method: as in :func:`~jaxunlearn.certify.rdp_to_dp`.

    Returns:
      dict with ``epsilon``, ``alpha``, ``renyi`` (the bound at that α) and ``sensitivity`` (M).

    Example:
      >>> cert = retraining_epsilon(sigma=0.05, steps=919, strong_convexity=0.05,
      ...                           step_size=1 / 0.3, delta=1e-4)
      >>> round(cert["epsilon"], 3) <= 1.0 < retraining_epsilon(
      ...     sigma=0.05, steps=918, strong_convexity=0.05, step_size=1 / 0.3,
      ...     delta=1e-4)["epsilon"]
      True
    """
    setup = _setup(sigma, clip_norm, strong_convexity, step_size, delta, alpha_range, method)
    steps = check_int(steps, "steps", minimum=0)
    m, eta = setup["strong_convexity"], setup["step_size"]

    def renyi(alpha):
        return _contraction(alpha, steps, eta, m) * _eps0(alpha, setup["sensitivity"], m,
                                                          setup["sigma"])

    epsilon, alpha = rdp_to_dp(renyi, setup["delta"], setup["method"], setup["alpha_range"])
    return {"epsilon": epsilon, "alpha": alpha, "renyi": float(renyi(alpha)),
            "sensitivity": setup["sensitivity"]}


def retraining_steps_for_target(target_epsilon: float, *, sigma: float, strong_convexity: float,
                                step_size: float, delta: float, clip_norm: float = 1.0,
                                alpha_range: tuple[float, float] = (2.0, 1e4),
                                method: str = "mironov", max_steps: int = 10**7) -> int:
    """T(ε): the smallest T with ``retraining_epsilon(steps=T, ...)["epsilon"] <= target``.

    Example:
      >>> retraining_steps_for_target(1.0, sigma=0.05, strong_convexity=0.05, step_size=1 / 0.3,
      ...                             delta=1e-4)
      919
    """
    setup = _setup(sigma, clip_norm, strong_convexity, step_size, delta, alpha_range, method)
    m, eta = setup["strong_convexity"], setup["step_size"]

    def renyi_of_steps(alpha, steps):
        return _contraction(alpha, steps, eta, m) * _eps0(alpha, setup["sensitivity"], m,
                                                          setup["sigma"])

    return steps_for_target(target_epsilon, setup["delta"], renyi_of_steps, max_steps,
                            method=setup["method"], alpha_range=setup["alpha_range"])


def unlearning_vs_retraining(target_epsilon: float, *, sigma: float, n_private: int,
                             n_public: int = 0, num_deleted: int = 1, strong_convexity: float,
                             step_size: float, delta: float, clip_norm: float = 1.0,
                             adjacency: str = "replace",
                             alpha_range: tuple[float, float] = (2.0, 1e4),
                             method: str = "mironov") -> dict[str, Any]:
    """K (unlearning from ν_D) and T (retraining from ν_∅) for the same (ε, δ) and dynamics.

    Returns:
      dict with ``unlearn_steps`` K, ``retrain_steps`` T, ``ratio`` K/T, ``sensitivity``
      Δ = 2SM/(n_priv + n_pub) and ``retrain_sensitivity`` M.

    Example:
      >>> kw = dict(sigma=0.05, n_private=10_000, strong_convexity=0.05, step_size=1 / 0.3,
      ...           delta=1e-4, adjacency="remove")
      >>> [unlearning_vs_retraining(1.0, num_deleted=5_000, n_public=p, **kw)["unlearn_steps"]
      ...  for p in (0, 10_000)]      # half the private set: K = T without public data
      [919, 828]
    """
    common = dict(strong_convexity=strong_convexity, step_size=step_size, delta=delta,
                  clip_norm=clip_norm, alpha_range=alpha_range, method=method)
    retrain = retraining_steps_for_target(target_epsilon, sigma=sigma, **common)
    unlearn = langevin_steps_for_target(target_epsilon, sigma=sigma, n_private=n_private,
                                        n_public=n_public, num_deleted=num_deleted,
                                        adjacency=adjacency, **common)
    return {"unlearn_steps": int(unlearn), "retrain_steps": int(retrain),
            "ratio": unlearn / retrain if retrain else float("nan"),
            "sensitivity": gradient_sensitivity(num_deleted, clip_norm, n_private, n_public,
                                                adjacency=adjacency),
            "retrain_sensitivity": float(clip_norm)}


def public_for_no_more_than_retraining(num_deleted: int, n_private: int) -> int:
    """The smallest n_pub with Δ = 2SM/(n_priv + n_pub) ≤ Δ_0 = M, i.e. max(0, 2S − n_priv):
    from there on K ≤ T for every σ, m, η, ε and δ (K is non-decreasing in Δ and equals T at
    Δ = M); below it K ≥ T. Whether K < T strictly from there on depends on the rounding of
    the integer step counts, which the experiments compute.

    Example:
      >>> [public_for_no_more_than_retraining(s, 10_000) for s in (1_000, 5_000, 7_000)]
      [0, 0, 4000]
    """
    n_private = check_int(n_private, "n_private", minimum=1)
    num_deleted = check_int(num_deleted, "num_deleted", minimum=1, maximum=n_private)
    return max(0, 2 * num_deleted - n_private)
