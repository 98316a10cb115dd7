"""Langevin unlearning (Chien, Wang, Chen, Li, NeurIPS 2024, Eq. (2)): continue projected noisy
gradient descent on the retain set,

    θ ← Π_{C_R}(θ − η ∇[CE(θ; D_r) + (λ/2)‖θ‖²] + √(2ησ²) W),

as ``optax.chain(add_decayed_weights(λ), langevin_dynamics(η, σ, noise_seed, R))``, the
library's one Langevin chain (:func:`jaxunlearn.transforms.langevin_dynamics`: ``sgd(η)``,
``add_langevin_noise(η, σ)``, ``project_l2_ball(R)`` for R > 0).
Set ``batch_size`` to the retain-set size for full-batch noisy GD (the paper's setting; the
noisy-SGD variant of Chien et al. uses mini-batches). The asymmetric, public-data variant (ALU)
extends this method.
"""

import optax

from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.terms import retain_cross_entropy
from jaxunlearn.transforms import langevin_dynamics


def _optimizer(hyper, total_steps):
    del total_steps
    return optax.chain(optax.add_decayed_weights(hyper["weight_decay"]),
                       langevin_dynamics(hyper["learning_rate"], hyper["sigma"],
                                         int(hyper["noise_seed"]), hyper["radius"]))


LANGEVIN = register_method(Method(
    name="langevin",
    summary="Langevin unlearning: projected noisy GD on D_r",
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 5, "learning_rate": 0.05, "momentum": 0.0, "weight_decay": 1e-3,
              "sigma": 0.01, "radius": 0.0, "noise_seed": 0, "augment": False},
    optimizer=_optimizer,
))
