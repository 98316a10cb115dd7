"""RL, random labels (Golatkar et al. 2020; SalUn, Fan et al., ICLR 2024, Eq. (6) with α = 1): CE
on the forget set relabelled with y′ ≠ y, drawn once per example, plus CE on the retain set.
(SalUn's CIFAR-10 code re-draws labels from all classes at every access; that is ``srl``,
:mod:`jaxunlearn.methods.srl`.)
"""

import jax
import numpy as np

from jaxunlearn.losses import random_other_labels
from jaxunlearn.methods.base import Method, Prepared, register_method
from jaxunlearn.methods.terms import forget_cross_entropy, retain_cross_entropy
from jaxunlearn.train.keys import random_label_key


def _prepare_fixed_labels(model_fns, variables, splits, hyper, key):
    labels = splits.forget_set.labels
    drawn = random_other_labels(random_label_key(key), jax.numpy.asarray(labels),
                                splits.train.num_classes, exclude_true=True)
    return Prepared(forget_labels=np.asarray(drawn, np.int32))


RANDOM_LABEL = register_method(Method(
    name="random_label",
    summary="RL: CE on D_f with fixed random labels y' != y, plus CE on D_r",
    forget_term=forget_cross_entropy,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.013},  # SalUn's RL setting
    prepare=_prepare_fixed_labels,
))
