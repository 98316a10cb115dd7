"""Unlearning methods, each a :class:`~jaxunlearn.methods.base.Method` in :data:`METHODS`.

``unlearn(model_fns, variables, splits, "salun", addons=("prob_mask",))`` runs any of them with
any add-on through one generic jitted step (:mod:`jaxunlearn.methods.step`);
``unlearn_many(model_fns, stacked_variables, splits, "salun", keys=[0, 1, 2])`` runs M stacked
models through that step vmapped (:mod:`jaxunlearn.methods.many`).
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
    boundary_expanding,
    boundary_shrink,
    finetune,
    gradient_ascent,
    i2i,
    i2i_decouple,
    i2i_noise_target,
    l1_sparse,
    l2ul,
    langevin,
    neggrad_plus,
    random_label,
    retrain,
    salun,
    scar,
    scrub,
    srl,
    svd_unlearning,
    trw,
    uam,
)
from jaxunlearn.methods.addons import ADDONS, Addon, AddonContext
from jaxunlearn.methods.run import UnlearnResult, forget_classes, unlearn
from jaxunlearn.methods.many import (
    UnlearnManyResult,
    can_vmap,
    unlearn_many,
    vmap_unsupported_reason,
)

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
    "UnlearnManyResult",
    "UnlearnResult",
    "can_vmap",
    "forget_classes",
    "get_method",
    "logits_of",
    "register_method",
    "unlearn",
    "unlearn_many",
    "vmap_unsupported_reason",
]
