"""Unlearning methods, each a :class:`~jaxunlearn.methods.base.Method` in :data:`METHODS`.

``unlearn(model_fns, variables, splits, "salun", addons=("prob_mask",))`` runs any of them with
any add-on through one generic jitted step (:mod:`jaxunlearn.methods.step`).
"""

from jaxunlearn.methods.base import (
    COMMON_DEFAULTS,
    METHODS,
    Batch,
    Method,
    Prepared,
    TermContext,
    get_method,
    logits_of,
    register_method,
)
from jaxunlearn.methods import (  # noqa: F401  (registration side effects)
    alu,
    amun,
    finetune,
    gradient_ascent,
    i2i,
    l1_sparse,
    langevin,
    neggrad_plus,
    random_label,
    retrain,
    salun,
    scrub,
    trw,
)
from jaxunlearn.methods.addons import ADDONS, Addon, AddonContext
from jaxunlearn.methods.run import UnlearnResult, forget_classes, unlearn

__all__ = [
    "ADDONS",
    "Addon",
    "AddonContext",
    "Batch",
    "COMMON_DEFAULTS",
    "METHODS",
    "Method",
    "Prepared",
    "TermContext",
    "UnlearnResult",
    "forget_classes",
    "get_method",
    "logits_of",
    "register_method",
    "unlearn",
]
