"""SRL, successive random relabelling (the DeepUnlearn benchmark, the base method of the masks
paper's figures): CE on the forget set with labels re-drawn uniformly over all classes at every
access, plus CE on the retain set."""


from jaxunlearn.losses import cross_entropy, random_other_labels
from jaxunlearn.methods.base import Method, logits_of, register_method
from jaxunlearn.methods.terms import retain_cross_entropy
from jaxunlearn.train.keys import srl_label_key


def _redrawn(params, model_state, batch, context):
    labels = random_other_labels(srl_label_key(context.key), batch.labels,
                                 context.num_classes, exclude_true=False)
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    return cross_entropy(logits, labels, batch.weights), new_state


SRL = register_method(Method(
    name="srl",
    summary="SRL: CE on D_f with labels re-drawn at every access, plus CE on D_r",
    forget_term=_redrawn,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.01},
))
