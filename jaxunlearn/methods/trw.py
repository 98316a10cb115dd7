"""TRW, Tilted ReWeighting for class unlearning (Wang, Ebrahimpour-Boroojeny, Sundaram, arXiv
2506.20893; ICML 2026 as TREW): fine-tune forget-class inputs towards the original model's
distribution over the remaining classes, tilted towards classes similar to the forgotten one,
plus CE on D_r.

For a forget-class input x of class c the target is q_k(x) ∝ p_k(x) · exp(β s_k) with zero mass
on every forgotten class (:func:`jaxunlearn.methods.trw_targets.trw_target`), p the original model's
softmax and β the hyperparameter ``tilt`` (10, the paper's value). The class similarity s is

* ``similarity="pca_cosine"`` (default, the paper's as its reviews describe it): cosine between
  class representations, the means of the original model's logits over each class's training
  inputs after projection onto their top ``pca_components`` principal components (``None``:
  ⌈num_classes / 2⌉),
  through a softmax of temperature ``similarity_temperature`` (0.1) over the remaining classes
  (:func:`jaxunlearn.methods.trw_targets.pca_class_similarity`);
* ``similarity="probabilities"``: the mean over class-c inputs of the original model's
  probabilities renormalised without c
  (:func:`jaxunlearn.methods.trw_targets.class_similarity`), the estimate used here before the
  paper's was known; ``similarity_temperature`` and ``pca_components`` are then unused.

The official repository and the full text were not reachable: the target formula, β = 10 and the
steps of the similarity follow public reviews of the paper; the number of components, the
centring and the temperature are our choices. The paper's variant "TRW-2R" is not implemented.
Only valid for whole-class forget sets (``unlearn`` refuses others before anything compiles).
"""

import jax.numpy as jnp
import numpy as np

from jaxunlearn._numbers import check_real
from jaxunlearn.losses import soft_cross_entropy
from jaxunlearn.methods.base import Method, Prepared, logits_of, register_method
from jaxunlearn.methods.terms import retain_cross_entropy
from jaxunlearn.train.steps import predict_logits
from jaxunlearn.methods.trw_targets import (
    SIMILARITY_TEMPERATURE,
    class_similarity,
    pca_class_similarity,
    trw_target,
)

SIMILARITIES = ("pca_cosine", "probabilities")
"""TRW's ``similarity`` options: the paper's PCA-cosine estimate and the probability estimate."""


def check_hyperparameters(hyper: dict, num_classes: int | None = None) -> None:
    """Raise ``ValueError`` naming the hyperparameter unless TRW's own ones are valid."""
    if hyper["similarity"] not in SIMILARITIES:
        raise ValueError(f"hyperparams: similarity must be one of {list(SIMILARITIES)}, got "
                         f"{hyper['similarity']!r}")
    check_real(hyper["tilt"], "hyperparams: tilt")
    check_real(hyper["similarity_temperature"], "hyperparams: similarity_temperature",
               minimum=0.0, strict=True)
    components = hyper["pca_components"]
    if components is None:
        return
    upper = num_classes if num_classes is not None else components
    if isinstance(components, bool) or not isinstance(components, int) or not (
            1 <= components <= upper):
        raise ValueError(f"hyperparams: pca_components must be None or an int in [1, "
                         f"{num_classes if num_classes is not None else 'num_classes'}], "
                         f"got {components!r}")


def _prepare(model_fns, variables, splits, hyper, key):
    num_classes = splits.train.num_classes
    check_hyperparameters(hyper, num_classes)
    forget = splits.forget_set
    forgotten_classes = [int(c) for c in np.unique(forget.labels)]
    logits = jnp.asarray(predict_logits(model_fns.apply, variables, forget.inputs))
    if hyper["similarity"] == "pca_cosine":
        train = splits.train
        train_logits = predict_logits(model_fns.apply, variables, train.inputs)
    targets = np.zeros((len(forget), num_classes), np.float32)
    similarities = {}
    for forgotten in forgotten_classes:
        rows = forget.labels == forgotten
        if hyper["similarity"] == "pca_cosine":
            similarity = jnp.asarray(pca_class_similarity(
                train_logits, train.labels, forgotten, num_components=hyper["pca_components"],
                temperature=hyper["similarity_temperature"],
                exclude=[c for c in forgotten_classes if c != forgotten]), jnp.float32)
        else:
            similarity = class_similarity(logits[rows], forgotten)
        similarities[str(forgotten)] = [round(float(v), 6) for v in np.asarray(similarity)]
        targets[rows] = np.asarray(trw_target(logits[rows], forgotten, similarity,
                                              hyper["tilt"]))
    # every forgotten class gets zero mass, not only each row's own one
    targets[:, forgotten_classes] = 0.0
    targets /= targets.sum(axis=1, keepdims=True)
    return Prepared(aux={"targets": jnp.asarray(targets)},
                    log={"trw_tilt": hyper["tilt"], "trw_similarity": hyper["similarity"],
                         "trw_class_similarity": similarities})


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
    defaults={"epochs": 10, "learning_rate": 0.01, "tilt": 10.0, "similarity": "pca_cosine",
              "similarity_temperature": SIMILARITY_TEMPERATURE, "pca_components": None},
    prepare=_prepare,
    class_unlearning=True,
))
