"""SCRUB (Kurmanji, Triantafillou, Hayes, Triantafillou, "Towards Unbounded Machine Unlearning",
NeurIPS 2023, Eqs. (1)–(3)): the student starts at the original model, which stays frozen as
teacher; max-steps push the student away from the teacher on D_f (maximise KL_T(p_o ‖ p_θ)) and
min-steps keep it close on D_r (α·KL_T + γ·CE).

Here both run in the same step during the first ``max_steps_epochs`` epochs (L_U = −KL on the
forget batch, L_C = α·KL + γ·CE on the retain batch); afterwards only the min-step term is
active. The reference code alternates whole max and min passes; the simultaneous form is the
same descent-ascent game with one step per pair.

With a feasible-update mask add-on (``and_mask``, ``prob_mask``, ``focus_mask``) the min-step-only
epochs do not move the model: with the unlearning term off its gradient is zero, and no
coordinate agrees in sign with zero. Use masks with SCRUB only while the max-steps run.
"""

import jax.numpy as jnp

from jaxunlearn.losses import cross_entropy, distillation_kl
from jaxunlearn.methods.base import (
    Method, Prepared, adam_coupled_decay, logits_of, register_method,
)


def _teacher_logits(context, inputs):
    logits, _ = context.apply_fn(context.aux["teacher"], inputs, False)
    return logits


def _forget(params, model_state, batch, context):
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    kl = distillation_kl(logits, _teacher_logits(context, batch.inputs), batch.weights,
                         context.hyper["temperature"])
    return -kl, new_state


def _retain(params, model_state, batch, context):
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    kl = distillation_kl(logits, _teacher_logits(context, batch.inputs), batch.weights,
                         context.hyper["temperature"])
    ce = cross_entropy(logits, batch.labels, batch.weights)
    return context.hyper["alpha"] * kl + context.hyper["gamma"] * ce, new_state


def _schedule(step, steps_per_epoch, hyper):
    max_phase = (step // steps_per_epoch) < hyper["max_steps_epochs"]
    return max_phase.astype(jnp.float32), jnp.float32(1.0)


def _prepare(model_fns, variables, splits, hyper, key):
    return Prepared(aux={"teacher": variables})


SCRUB = register_method(Method(
    name="scrub",
    summary="SCRUB: max KL to the teacher on D_f, min KL + CE on D_r",
    forget_term=_forget,
    retain_term=_retain,
    primary="retain",
    # DeepUnlearn's SCRUB "ORIGINAL": Adam lr 5e-4, α 0.5, γ 1, T 2, 3 max-step epochs of 10,
    # retain batch 32 and forget batch 64 (their weight decay of 0.1 is not carried over: as
    # coupled L2 under Adam it would dominate a 5e-4 learning rate; 5e-4 is used)
    defaults={"epochs": 10, "learning_rate": 5e-4, "alpha": 0.5, "gamma": 1.0,
              "temperature": 2.0, "max_steps_epochs": 3, "batch_size": 32,
              "forget_batch_size": 64},
    optimizer=adam_coupled_decay,
    schedule=_schedule,
    prepare=_prepare,
))
