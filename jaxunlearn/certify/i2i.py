"""The (ε, δ) certificate of ``i2i_decouple``'s decoupling phase, in NumPy/SciPy (no JAX).

Varshney & Torra, "Realistic Image-to-Image Machine Unlearning via Decoupling and Knowledge
Retention" (arXiv 2502.04260) state an (ε, δ) unlearning guarantee for the decoupling phase.
**Reconstruction, not the paper's equations.** Only the paper's abstract could be read; its
update bound, its constants and the statement of its guarantee are not known here. What is
implemented is the team note's reconstruction (``papers/i2i.md`` §7.2, marked [inferred]):

* The decoupling phase runs T (``ascent_steps``) plain-SGD ascent steps of length ≤ η_a·L on
  gradients clipped to the Lipschitz constant L, so ‖θ_T − θ_0‖ ≤ η_a T L, whatever the data
  (:func:`ascent_displacement_bound`).
* Step T is an output perturbation θ_T + N(0, σ² I) with the Gaussian mechanism's
  σ = Δ √(2 ln(1.25/δ)) / ε (Dwork & Roth 2014, Thm A.1, 0 < ε < 1; :func:`gaussian_noise_std`)
  and Δ = 2 L n_f / (λ n) + η_a T L, a bound on ‖θ_T − θ_retrain‖ by the triangle inequality:
  the first term is the distance between the minimisers of a λ-strongly convex, L-Lipschitz
  regularised ERM with and without the n_f forget examples (Chaudhuri, Monteleoni & Sarwate,
  JMLR 2011, Cor. 8; Sekhari et al., NeurIPS 2021, for m deletions) [recalled;
  :func:`training_sensitivity_bound`], the second the ascent displacement above.
* ``epsilon = 0`` adds no noise: the strong convexity that Δ assumes does not hold for a neural
  autoencoder, and for any λ one could claim the calibrated σ would destroy it (λ = 0.01 on
  digits, forgetting digit 0, gives σ ≈ 216 at ε = 0.5).

The exact δ(ε) of the mechanism (Balle & Wang, ICML 2018, Thm 8) is
:func:`gaussian_mechanism_delta`; :class:`DecouplingGuarantee` collects the certificate the
``i2i_decouple`` method (:mod:`jaxunlearn.methods.i2i_decouple`) records in its log.

Example:
  >>> guarantee = DecouplingGuarantee(lipschitz=1.0, strong_convexity=0.0, num_train=1000,
  ...                                 num_forget=100, ascent_learning_rate=0.05, ascent_steps=20)
  >>> guarantee.ascent_displacement, guarantee.noise_std
  (1.0, 0.0)
"""

from __future__ import annotations

import dataclasses
import math

from scipy import stats


def ascent_displacement_bound(learning_rate: float, steps: int, lipschitz: float) -> float:
    """η_a T L: the most that T plain-SGD steps of length ≤ η_a·L (clipped gradients) move θ.

    >>> ascent_displacement_bound(0.05, 50, 1.0)
    2.5
    """
    return float(learning_rate) * int(steps) * float(lipschitz)


def training_sensitivity_bound(lipschitz: float, strong_convexity: float, num_train: int,
                               num_forget: int) -> float:
    """2 L n_f / (λ n): ‖argmin over D − argmin over D ∖ D_f‖ for λ-strongly convex, L-Lipschitz
    regularised ERM (Chaudhuri et al. 2011, Cor. 8; Sekhari et al. 2021) — an assumption.

    >>> training_sensitivity_bound(1.0, 0.01, 1000, 100)
    20.0
    """
    return 2.0 * float(lipschitz) * int(num_forget) / (float(strong_convexity) * int(num_train))


def gaussian_noise_std(sensitivity: float, epsilon: float, delta: float) -> float:
    """σ = Δ √(2 ln(1.25/δ)) / ε, the classical Gaussian mechanism (Dwork & Roth 2014,
    Thm A.1): releasing θ + N(0, σ²I) is (ε, δ)-indistinguishable from θ' + N(0, σ²I) whenever
    ‖θ − θ'‖ ≤ Δ, for 0 < ε < 1.

    >>> round(gaussian_noise_std(1.0, 0.5, 1e-5), 4)
    9.6896
    """
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1) for the classical Gaussian mechanism, "
                         f"got {epsilon}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if not sensitivity >= 0.0 or not math.isfinite(sensitivity):
        raise ValueError(f"sensitivity must be a finite number >= 0, got {sensitivity}")
    return float(sensitivity) * math.sqrt(2.0 * math.log(1.25 / delta)) / float(epsilon)


def gaussian_mechanism_delta(sensitivity: float, noise_std: float, epsilon: float) -> float:
    """The exact δ(ε) of the Gaussian mechanism, sup over ‖θ − θ'‖ ≤ Δ of the hockey-stick
    divergence of N(θ, σ²I) from N(θ', σ²I) (Balle & Wang, ICML 2018, Thm 8):
    Φ(Δ/(2σ) − εσ/Δ) − e^ε Φ(−Δ/(2σ) − εσ/Δ).

    At the classical mechanism's σ the exact δ is below the target (that σ is conservative):

    >>> gaussian_mechanism_delta(1.0, gaussian_noise_std(1.0, 0.5, 1e-5), 0.5) < 1e-5
    True
    """
    if sensitivity <= 0.0:
        return 0.0
    if noise_std <= 0.0:
        return 1.0
    ratio = sensitivity / noise_std
    return float(stats.norm.cdf(ratio / 2 - epsilon / ratio)
                 - math.exp(epsilon) * stats.norm.cdf(-ratio / 2 - epsilon / ratio))


@dataclasses.dataclass(frozen=True)
class DecouplingGuarantee:
    """The (ε, δ) certificate of the decoupling phase, as reconstructed (module docstring).

    Attributes:
      lipschitz: L, the per-example loss's Lipschitz constant and the ascent's gradient clip.
      strong_convexity: λ of the regularised training objective (an assumption).
      num_train / num_forget: n and n_f.
      ascent_learning_rate / ascent_steps: η_a and T.
      epsilon / delta: the target guarantee; ``epsilon = 0`` means no noise (not certified).

    Example (Δ = 2 L n_f / (λ n) + η_a T L = 20 + 2.5):
      >>> guarantee = DecouplingGuarantee(lipschitz=1.0, strong_convexity=0.01, num_train=1000,
      ...                                 num_forget=100, ascent_learning_rate=0.05,
      ...                                 ascent_steps=50)
      >>> guarantee.training_sensitivity, guarantee.ascent_displacement, guarantee.noise_std
      (20.0, 2.5, 0.0)
    """

    lipschitz: float
    strong_convexity: float
    num_train: int
    num_forget: int
    ascent_learning_rate: float
    ascent_steps: int
    epsilon: float = 0.0
    delta: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("lipschitz", "ascent_learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.strong_convexity < 0:
            raise ValueError(f"strong_convexity must be >= 0, got {self.strong_convexity}")
        if not 0 < self.num_forget < self.num_train:
            raise ValueError(f"need 0 < num_forget < num_train, got {self.num_forget} of "
                             f"{self.num_train} (is the forget set empty?)")
        if self.ascent_steps < 1:
            raise ValueError(f"ascent_steps must be >= 1, got {self.ascent_steps}")
        if self.epsilon < 0 or self.epsilon >= 1:
            raise ValueError(f"epsilon must be 0 (no noise) or in (0, 1), got {self.epsilon}")
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {self.delta}")
        if self.epsilon > 0 and self.strong_convexity <= 0:
            raise ValueError("an (epsilon, delta) guarantee needs strong_convexity > 0: the bound "
                             "on the distance to the retrained model assumes a λ-strongly convex "
                             "training objective")

    @property
    def ascent_displacement(self) -> float:
        """η_a T L."""
        return ascent_displacement_bound(self.ascent_learning_rate, self.ascent_steps,
                                         self.lipschitz)

    @property
    def training_sensitivity(self) -> float:
        """2 L n_f / (λ n), or inf when λ = 0."""
        if self.strong_convexity == 0:
            return math.inf
        return training_sensitivity_bound(self.lipschitz, self.strong_convexity,
                                          self.num_train, self.num_forget)

    @property
    def sensitivity(self) -> float:
        """Δ, the bound on ‖θ_T − θ_retrain‖."""
        return self.training_sensitivity + self.ascent_displacement

    @property
    def noise_std(self) -> float:
        """σ of the output perturbation (0 when ``epsilon`` = 0)."""
        if self.epsilon == 0:
            return 0.0
        return gaussian_noise_std(self.sensitivity, self.epsilon, self.delta)

    def as_dict(self) -> dict:
        """JSON-able record, for the unlearning log (an unbounded Δ, when λ = 0, is ``None``)."""
        finite = math.isfinite(self.sensitivity)
        return {**dataclasses.asdict(self), "ascent_displacement": self.ascent_displacement,
                "training_sensitivity": self.training_sensitivity if finite else None,
                "sensitivity": self.sensitivity if finite else None,
                "noise_std": self.noise_std, "certified": self.epsilon > 0}
