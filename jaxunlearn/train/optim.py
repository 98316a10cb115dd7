"""Optimizers and learning-rate schedules built from a :class:`~jaxunlearn.config.TrainConfig`."""

from __future__ import annotations

import optax

from jaxunlearn.config import TrainConfig


def make_schedule(config: TrainConfig, steps_per_epoch: int, total_steps: int) -> optax.Schedule:
    """The learning-rate schedule named by ``config.schedule`` over ``total_steps`` steps."""
    lr = config.learning_rate
    if config.schedule == "constant":
        return optax.constant_schedule(lr)
    if config.schedule == "cosine":
        return optax.cosine_decay_schedule(lr, decay_steps=max(total_steps, 1))
    if config.schedule == "warmup_cosine":
        warmup = int(round(config.warmup_epochs * steps_per_epoch))
        return optax.warmup_cosine_decay_schedule(
            0.0, lr, warmup_steps=warmup, decay_steps=max(total_steps, warmup + 1)
        )
    boundaries = {int(e * steps_per_epoch): config.decay_factor for e in config.decay_epochs}
    return optax.piecewise_constant_schedule(lr, boundaries)


def make_optimizer(
    config: TrainConfig, steps_per_epoch: int, total_steps: int
) -> optax.GradientTransformation:
    """SGD (momentum, optional Nesterov), Adam or AdamW with the configured schedule.

    For ``sgd`` and ``adam`` weight decay is the coupled L2 term added to the gradient, as in
    PyTorch's ``weight_decay`` that the unlearning papers' code uses; ``adamw`` decouples it.
    """
    schedule = make_schedule(config, steps_per_epoch, total_steps)
    if config.optimizer == "adamw":
        return optax.adamw(schedule, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        base = optax.adam(schedule)
    else:
        base = optax.sgd(schedule, momentum=config.momentum or None, nesterov=config.nesterov)
    if config.weight_decay:
        return optax.chain(optax.add_decayed_weights(config.weight_decay), base)
    return base
