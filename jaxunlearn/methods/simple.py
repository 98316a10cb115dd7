"""The reference (retrain) and the two simplest unlearning baselines (fine-tune, gradient ascent).

Notation: θ_o is the original model trained on D = D_r ∪ D_f. All three reuse the training
engine; they differ in the starting point, the data and the sign of the loss.

- Retrain: the original recipe from a fresh initialisation on D_r only; the reference every
  unlearning metric compares with (exact unlearning).
- FT (fine-tune, Warnecke et al. 2023; Jia et al., NeurIPS 2023 §5): a few epochs of
  cross-entropy on D_r from θ_o, relying on catastrophic forgetting of D_f.
- GA (gradient ascent, Thudi et al. 2022; Jia et al., NeurIPS 2023 §5): minimise −CE on D_f from
  θ_o for a few steps with a small learning rate.
"""

from __future__ import annotations

from typing import Any

import jax

from jaxunlearn.config import TrainConfig
from jaxunlearn.losses import cross_entropy, gradient_ascent_loss
from jaxunlearn.train.loop import TrainResult, train


def retrain(model_fns: Any, splits: Any, config: TrainConfig, sample_inputs, **kwargs) -> TrainResult:
    """Train from a fresh initialisation (seed ``config.seed``) on the retain set only."""
    variables = model_fns.init(jax.random.key(config.seed), sample_inputs)
    return train(model_fns.apply, variables, splits.retain_set, config, loss_fn=cross_entropy, **kwargs)


def finetune(model_fns: Any, variables: dict, splits: Any, config: TrainConfig, **kwargs) -> TrainResult:
    """FT: continue training the original ``variables`` with cross-entropy on the retain set."""
    return train(model_fns.apply, variables, splits.retain_set, config, loss_fn=cross_entropy, **kwargs)


def gradient_ascent(
    model_fns: Any, variables: dict, splits: Any, config: TrainConfig, **kwargs
) -> TrainResult:
    """GA: ascend the cross-entropy of the original ``variables`` on the forget set."""
    return train(
        model_fns.apply,
        variables,
        splits.forget_set,
        config,
        loss_fn=gradient_ascent_loss,
        run_metadata={"loss": "gradient_ascent"},
        **kwargs,
    )
