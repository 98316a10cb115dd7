"""TRW, Tilted ReWeighting for class unlearning (Wang, Ebrahimpour-Boroojeny, Sundaram, arXiv
2506.20893): fine-tune forget-class inputs towards the original model's distribution over the
remaining classes, tilted towards classes similar to the forgotten one, plus CE on D_r.

The target is :func:`jaxunlearn.transforms.trw_target` with the similarity of
:func:`jaxunlearn.transforms.class_similarity` estimated from the original model; see there for
what of the paper's formula is reconstructed. Only valid for whole-class forget sets.
"""

import jax.numpy as jnp
import numpy as np

from jaxunlearn.losses import soft_cross_entropy
from jaxunlearn.methods.base import Method, Prepared, logits_of, register_method
from jaxunlearn.methods.terms import retain_cross_entropy
from jaxunlearn.train.steps import predict_logits
from jaxunlearn.transforms import class_similarity, trw_target


def _prepare(model_fns, variables, splits, hyper, key):
    forget = splits.forget_set
    logits = jnp.asarray(predict_logits(model_fns.apply, variables, forget.inputs))
    targets = np.zeros((len(forget), splits.train.num_classes), np.float32)
    for forgotten in np.unique(forget.labels):
        rows = forget.labels == forgotten
        similarity = class_similarity(logits[rows], int(forgotten))
        targets[rows] = np.asarray(trw_target(logits[rows], int(forgotten), similarity,
                                              hyper["tilt"]))
    # every forgotten class gets zero mass, not only each row's own one
    targets[:, np.unique(forget.labels)] = 0.0
    targets /= targets.sum(axis=1, keepdims=True)
    return Prepared(aux={"targets": jnp.asarray(targets)},
                    log={"trw_tilt": hyper["tilt"]})


def _forget(params, model_state, batch, context):
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    targets = context.aux["targets"][batch.indices]
    return soft_cross_entropy(logits, targets, batch.weights), new_state


TRW = register_method(Method(
    name="trw",
    summary="TRW: fit forget-class outputs to the tilted remaining-class distribution, plus CE on D_r",
    forget_term=_forget,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.01, "tilt": 1.0},
    prepare=_prepare,
    class_unlearning=True,
))
