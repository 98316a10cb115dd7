"""Optax gradient transformations for unlearning, one concern per module.

- :mod:`~jaxunlearn.transforms.langevin`: Langevin noise and ℓ2-ball projection (projected noisy GD).
- :mod:`~jaxunlearn.transforms.noise`: Gaussian noise shaped like a pytree, the one draw behind
  Langevin noise, ALU's chains and the Gaussian mechanism's output perturbation.
- :mod:`~jaxunlearn.transforms.tilted`: tilted aggregation (TERM) and the TRW target.
- :mod:`~jaxunlearn.transforms.masks`: feasible-update masks (AND, PROB, focus) that wrap any
  first-order method, fed by :mod:`~jaxunlearn.transforms.grad_stats` through Optax extra args;
  probabilities in :mod:`~jaxunlearn.transforms.mask_probability`.
- :mod:`~jaxunlearn.transforms.phase_switch` and :mod:`~jaxunlearn.transforms.output_perturbation`:
  two optimizers in sequence, and the Gaussian mechanism's one-step release (``i2i_decouple``).
- :mod:`~jaxunlearn.transforms.saliency`: SalUn's saliency mask and a static element-wise mask.
- :mod:`~jaxunlearn.transforms.spectral`: FastClip layer-wise spectral-norm clipping, with the
  layer shapes recorded by :mod:`~jaxunlearn.transforms.layer_shapes`.
"""

from jaxunlearn.transforms.grad_stats import (
    GradStats,
    combine_stats,
    grad_stats_from_samples,
    microbatch_mean_stats,
    per_example_grad_stats,
)

from jaxunlearn.transforms.langevin import (
    LangevinNoiseState,
    add_langevin_noise,
    global_norm,
    project_l2_ball,
)
from jaxunlearn.transforms.noise import gaussian_noise_like
from jaxunlearn.transforms.mask_probability import (
    agreement_probability,
    centered_sign_probability,
    joint_feasibility_probability,
    sign_agreement,
)
from jaxunlearn.transforms.masks import (
    FeasibleMaskState,
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
from jaxunlearn.transforms.output_perturbation import (
    OutputPerturbationState,
    output_perturbation,
)
from jaxunlearn.transforms.phase_switch import PhaseSwitchState, phase_switch
from jaxunlearn.transforms.layer_shapes import LayerSpec, record_batch_norms, record_layer_shapes
from jaxunlearn.transforms.saliency import StaticMaskState, saliency_mask, static_mask
from jaxunlearn.transforms.spectral import (
    ClipSpectralNormState,
    clip_spectral_norm,
    layer_spectral_norms,
    spectral_norm,
)
from jaxunlearn.transforms.tilted import (
    TiltedAggregateState,
    tilted_aggregate,
    tilted_loss,
    tilted_weights,
)

__all__ = [
    "ClipSpectralNormState",
    "FeasibleMaskState",
    "GradStats",
    "LangevinNoiseState",
    "LayerSpec",
    "OutputPerturbationState",
    "PhaseSwitchState",
    "StaticMaskState",
    "TiltedAggregateState",
    "add_langevin_noise",
    "aggregate_identity",
    "aggregate_ling",
    "aggregate_ming",
    "agreement_probability",
    "and_mask",
    "centered_sign_probability",
    "clip_spectral_norm",
    "combine_stats",
    "feasible_mask",
    "focus_above_threshold",
    "focus_centered",
    "focus_mask",
    "focus_probability",
    "gaussian_noise_like",
    "grad_stats_from_samples",
    "joint_feasibility_probability",
    "layer_spectral_norms",
    "microbatch_mean_stats",
    "output_perturbation",
    "per_example_grad_stats",
    "phase_switch",
    "prob_mask",
    "record_batch_norms",
    "record_layer_shapes",
    "saliency_mask",
    "sign_agreement",
    "spectral_norm",
    "static_mask",
    "global_norm",
    "project_l2_ball",
    "tilted_aggregate",
    "tilted_loss",
    "tilted_weights",
]
