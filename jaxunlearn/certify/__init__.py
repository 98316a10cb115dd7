"""Rényi and (ε, δ) certificates for Langevin unlearning and ALU, in NumPy/SciPy (no JAX).

* :mod:`.constants` — gradient sensitivity Δ (private/public, replace/remove) and the logistic
  (m, L) convention of the official code.
* :mod:`.langevin` — PNGD bounds ε0, ε_RU(α, K) and sequential requests (Chien et al., NeurIPS
  2024, "Langevin Unlearning").
* :mod:`.noisy_sgd` — PNSGD bounds with cyclic mini-batches (Chien et al., NeurIPS 2024,
  "Certified Machine Unlearning via Noisy Stochastic Gradient Descent").
* :mod:`.conversion` — Rényi → (ε, δ) (Mironov 2017; Balle et al. 2020) and the inverses
  (smallest K, smallest σ for a target ε).
* :mod:`.baselines` — noise of Descent-to-Delete and of PABI noisy fine-tuning.
* :mod:`.retraining` — the cost of retraining under the same certificate (a fresh chain from
  the data-free stationary law to the same (ε, δ)), to compare with the unlearning steps K.
* :mod:`.i2i` — the (ε, δ) Gaussian-mechanism certificate of ``i2i_decouple``'s decoupling
  phase, as reconstructed (Varshney & Torra 2025; Dwork & Roth 2014, Thm A.1).
* :mod:`.certificate` — one-call certificates used by the CLI and the experiments; public data
  (ALU, Inane et al., ICML 2026) enters through Δ = 2SM/(n_private + n_public).

Example:
  >>> from jaxunlearn.certify import langevin_epsilon, logistic_constants
  >>> m, L = logistic_constants(1e-6, 10_000)
  >>> round(langevin_epsilon(sigma=0.2431, steps=1, n_private=10_000, strong_convexity=m,
  ...                        step_size=1 / L)["epsilon"], 4)
  0.05
"""

from jaxunlearn.certify.baselines import d2d_sigma, pabi_sigma
from jaxunlearn.certify.certificate import (
    describe_certificate, langevin_epsilon, langevin_sigma_for_target, langevin_steps_for_target,
)
from jaxunlearn.certify.constants import gradient_sensitivity, logistic_constants
from jaxunlearn.certify.conversion import rdp_to_dp, sigma_for_target, steps_for_target
from jaxunlearn.certify.langevin import lu_eps0, lu_renyi, lu_sequential
from jaxunlearn.certify.retraining import (
    data_free_variance, public_for_no_more_than_retraining, retraining_epsilon,
    retraining_steps_for_target, unlearning_vs_retraining,
)
from jaxunlearn.certify.noisy_sgd import (
    pnsgd_renyi, pnsgd_renyi_finite_T, pnsgd_sequential, pnsgd_Z,
)

__all__ = [
    "gradient_sensitivity", "logistic_constants",
    "lu_eps0", "lu_renyi", "lu_sequential",
    "pnsgd_Z", "pnsgd_renyi", "pnsgd_sequential", "pnsgd_renyi_finite_T",
    "rdp_to_dp", "steps_for_target", "sigma_for_target",
    "d2d_sigma", "pabi_sigma",
    "langevin_epsilon", "langevin_steps_for_target", "langevin_sigma_for_target",
    "describe_certificate",
    "data_free_variance", "retraining_epsilon", "retraining_steps_for_target",
    "unlearning_vs_retraining", "public_for_no_more_than_retraining",
]
