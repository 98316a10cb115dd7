"""Retrain: the original recipe from a fresh initialisation on the retain set only.

Exact unlearning, and the reference every metric compares with (e.g. SalUn, Fan et al., ICLR 2024,
§5; Jia et al., NeurIPS 2023, §5). It never reads a forget batch.
"""

import optax

from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.terms import retain_cross_entropy


def _cosine_sgd(hyper, total_steps):
    schedule = optax.cosine_decay_schedule(hyper["learning_rate"], max(total_steps, 1))
    return optax.chain(optax.add_decayed_weights(hyper["weight_decay"]),
                       optax.sgd(schedule, momentum=hyper["momentum"] or None))


RETRAIN = register_method(Method(
    name="retrain",
    summary="train from scratch on D_r (the reference)",
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 182, "learning_rate": 0.1},  # SalUn's main_train (cosine here)
    optimizer=_cosine_sgd,
    from_scratch=True,
))
