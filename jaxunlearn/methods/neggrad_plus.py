"""NegGrad+ (Kurmanji et al., NeurIPS 2023, §4 baselines): minimise
β·CE(D_r) − (1 − β)·CE(D_f) on zipped retain and (cycled) forget batches.

L_U = −(1 − β)·CE_f and L_C = β·CE_r, so masks see the two parts. The reference code runs the
model in eval mode (batch norm frozen); ``batch_norm_train=False`` (default) does the same.
"""

from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.base import Method, logits_of, register_method


def _forget(params, model_state, batch, context):
    train = bool(context.hyper["batch_norm_train"])
    logits, new_state = logits_of(context, params, model_state, batch.inputs, train=train)
    return -(1.0 - context.hyper["beta"]) * cross_entropy(logits, batch.labels, batch.weights), new_state


def _retain(params, model_state, batch, context):
    train = bool(context.hyper["batch_norm_train"])
    logits, new_state = logits_of(context, params, model_state, batch.inputs, train=train)
    return context.hyper["beta"] * cross_entropy(logits, batch.labels, batch.weights), new_state


NEGGRAD_PLUS = register_method(Method(
    name="neggrad_plus",
    summary="NegGrad+: β CE(D_r) − (1−β) CE(D_f)",
    forget_term=_forget,
    retain_term=_retain,
    primary="retain",
    # DeepUnlearn's neggradplus: α (our β) 0.95, lr 0.01, momentum 0.9, 10 epochs, batch 256
    defaults={"epochs": 10, "learning_rate": 0.01, "beta": 0.95, "batch_norm_train": False},
))
