"""Random labels: RL and SRL.

- ``random_label`` (RL; Golatkar et al. 2020; SalUn, Fan et al., ICLR 2024, Eq. (6) with α = 1):
  CE on the forget set relabelled with y′ ≠ y, drawn once per example, plus CE on the retain
  set. (SalUn's CIFAR-10 code re-draws labels from all classes at every access; that is SRL.)
- ``srl`` (successive random relabelling, the DeepUnlearn benchmark used as the base method in
  the masks paper's figures): labels re-drawn uniformly over all classes at every access.
"""

import jax
import numpy as np

from jaxunlearn.losses import cross_entropy, random_other_labels
from jaxunlearn.methods.base import Method, Prepared, logits_of, register_method
from jaxunlearn.methods.terms import forget_cross_entropy, retain_cross_entropy


def _prepare_fixed_labels(model_fns, variables, splits, hyper, key):
    labels = splits.forget_set.labels
    drawn = random_other_labels(jax.random.key(key + 1), jax.numpy.asarray(labels),
                                splits.train.num_classes, exclude_true=True)
    return Prepared(forget_labels=np.asarray(drawn, np.int32))


def _redrawn(params, model_state, batch, context):
    labels = random_other_labels(jax.random.fold_in(context.key, 11), batch.labels,
                                 context.num_classes, exclude_true=False)
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    return cross_entropy(logits, labels, batch.weights), new_state


RANDOM_LABEL = register_method(Method(
    name="random_label",
    summary="RL: CE on D_f with fixed random labels y' != y, plus CE on D_r",
    forget_term=forget_cross_entropy,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.013},  # SalUn's RL setting
    prepare=_prepare_fixed_labels,
))

SRL = register_method(Method(
    name="srl",
    summary="SRL: CE on D_f with labels re-drawn at every access, plus CE on D_r",
    forget_term=_redrawn,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.01},
))
