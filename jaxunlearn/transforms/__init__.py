"""Optax gradient transformations for unlearning, one concern per module.

- :mod:`~jaxunlearn.transforms.langevin`: Langevin noise and ℓ2-ball projection (projected noisy GD).
- :mod:`~jaxunlearn.transforms.tilted`: tilted aggregation (TERM) and the TRW target.
"""

from jaxunlearn.transforms.langevin import (
    LangevinNoiseState,
    add_langevin_noise,
    global_norm,
    project_l2_ball,
)
from jaxunlearn.transforms.tilted import (
    TiltedAggregateState,
    class_similarity,
    tilted_aggregate,
    tilted_loss,
    tilted_weights,
    trw_target,
)

__all__ = [
    "LangevinNoiseState",
    "TiltedAggregateState",
    "add_langevin_noise",
    "class_similarity",
    "global_norm",
    "project_l2_ball",
    "tilted_aggregate",
    "tilted_loss",
    "tilted_weights",
    "trw_target",
]
