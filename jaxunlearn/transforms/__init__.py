"""Optax gradient transformations for unlearning, one concern per module.

- :mod:`~jaxunlearn.transforms.langevin`: Langevin noise and ℓ2-ball projection (projected noisy GD).
- :mod:`~jaxunlearn.transforms.noise`: Gaussian noise shaped like a pytree, the one draw behind
  Langevin noise, ALU's chains and the Gaussian mechanism's output perturbation.
- :mod:`~jaxunlearn.transforms.tilted`: tilted aggregation (TERM); the TRW target is in
  :mod:`jaxunlearn.methods.trw_targets`.
- :mod:`~jaxunlearn.transforms.masks`: feasible-update masks (AND, PROB, focus) that wrap any
  first-order method, fed by :mod:`~jaxunlearn.transforms.grad_stats` through Optax extra args;
  probabilities in :mod:`~jaxunlearn.transforms.mask_probability`.
- :mod:`~jaxunlearn.transforms.phase_switch` and :mod:`~jaxunlearn.transforms.output_perturbation`:
  two optimizers in sequence, and the Gaussian mechanism's one-step release (``i2i_decouple``).
- :mod:`~jaxunlearn.transforms.saliency`: SalUn's saliency mask and a static element-wise mask.
- :mod:`~jaxunlearn.transforms.spectral`: FastClip layer-wise spectral-norm clipping; its
  numerics (layer maps, PowerQR, the layer shapes of a model) live in :mod:`jaxunlearn.spectral`.

The package exports what a user composes; the states and helpers stay importable from their
modules.
"""

from jaxunlearn.transforms.grad_stats import grad_stats_from_samples, microbatch_mean_stats
from jaxunlearn.transforms.langevin import add_langevin_noise, langevin_dynamics, project_l2_ball
from jaxunlearn.transforms.noise import gaussian_noise_like
from jaxunlearn.transforms.masks import (
    aggregate_identity,
    aggregate_ling,
    aggregate_ming,
    and_mask,
    feasible_mask,
    focus_above_threshold,
    focus_centered,
    focus_mask,
    focus_probability,
    prob_mask,
)
from jaxunlearn.transforms.output_perturbation import output_perturbation
from jaxunlearn.transforms.phase_switch import phase_switch
from jaxunlearn.transforms.saliency import saliency_mask, static_mask
from jaxunlearn.transforms.spectral import clip_spectral_norm
from jaxunlearn.transforms.tilted import tilted_aggregate, tilted_loss, tilted_weights

__all__ = [
    "add_langevin_noise",
    "aggregate_identity",
    "aggregate_ling",
    "aggregate_ming",
    "and_mask",
    "feasible_mask",
    "focus_above_threshold",
    "focus_centered",
    "focus_probability",
    "clip_spectral_norm",
    "focus_mask",
    "gaussian_noise_like",
    "langevin_dynamics",
    "grad_stats_from_samples",
    "microbatch_mean_stats",
    "output_perturbation",
    "phase_switch",
    "prob_mask",
    "saliency_mask",
    "static_mask",
    "project_l2_ball",
    "tilted_aggregate",
    "tilted_loss",
    "tilted_weights",
]
