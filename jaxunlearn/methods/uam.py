"""UAM, Unlearning-Aware Minimization (Kim, Kim, Chae & Yoon, NeurIPS 2025), as the authors' code
runs it (``Harry24k/machine-unlearning-pytorch``, ``torchunlearn/optim/minimizer.py``,
``UAM.step``): a sharpness-aware step whose inner maximisation is over the *forget* loss,

    ε_t = ρ_t · ∇L_f(θ_t) / (‖∇L_f(θ_t)‖₂ + 1e-16),    θ_{t+1} = OptStep(θ_t, ∇L_r(θ_t + ε_t)),

i.e. the retain gradient taken where the forget loss rises fastest within radius ρ_t, handed to
the base optimizer at θ_t (SGD with momentum 0.9 and weight decay 5e-4 in the code's example).
To first order it minimises L_r(θ) + ρ⟨∇L_r, ∇L_f⟩/‖∇L_f‖: steps that lower the retain loss
along directions that would also lower the forget loss are penalised.

As the code does:

- the ascent's one train-mode forward runs on the forget and retain batches together, the CE
  averaged over the forget rows only (batch norm sees both); the descent forward is on the retain
  batch alone, at θ + ε; batch norm's running statistics are updated by both forwards;
- ρ_t = ρ (1 + cos(π t / T)) / 2 when ``cosine_rho`` (the code's ``CosineAnnealingUpdater``,
  t = 0 at the first step, T the run's ``epochs`` × steps per epoch), else ρ;
- an epoch is one pass over the retain batches, the forget stream cycling beside it, both with
  the same batch size (its ``MergedLoaders``): ``forget_batch_size`` 0 means ``batch_size``.

The paper's equations and tables could not be read here, and the repository publishes no ρ: the
default 0.05 is SAM's customary radius, and the experiments tune it. The code's ``gamma``
(a projection helper it never calls) is not implemented. That the "UAM" of TRW's tables is this
method could not be confirmed from TRW's text (its reference list was not readable).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.base import (
    Batch, Method, Prepared, TermContext, logits_of, register_method,
)
from jaxunlearn.methods.terms import retain_cross_entropy


def uam_radius(step: jax.Array, rho: float, total_steps: int, cosine: bool) -> jax.Array:
    """ρ_t: ρ, or with ``cosine`` ρ (1 + cos(π min(t, T) / T)) / 2."""
    if not cosine:
        return jnp.float32(rho)
    fraction = jnp.minimum(step.astype(jnp.float32), total_steps) / max(total_steps, 1)
    return jnp.float32(rho) * (1.0 + jnp.cos(jnp.float32(math.pi) * fraction)) / 2.0


def uam_direction(term, params, model_state, batch: Batch, context: TermContext):
    """The retain term's step direction ∇L_r(θ + ε) (module docstring; L_r the ``term``), with
    the retain loss at θ + ε as its value; ``context.forget_batch`` is the step's forget batch."""
    forget, hyper = context.forget_batch, context.hyper
    inputs = jnp.concatenate([forget.inputs, batch.inputs])
    labels = jnp.concatenate([forget.labels, batch.labels])
    weights = jnp.concatenate([forget.weights, jnp.zeros_like(batch.weights)])

    def forget_loss(theta):
        logits, state = logits_of(context, theta, model_state, inputs)
        return cross_entropy(logits, labels, weights), state

    forget_grads, ascent_state = jax.grad(forget_loss, has_aux=True)(params)
    rho = uam_radius(context.step, hyper["rho"], hyper["epochs"] * context.steps_per_epoch,
                     hyper["cosine_rho"])
    scale = rho / (optax.tree.norm(forget_grads) + 1e-16)
    perturbed = jax.tree_util.tree_map(lambda p, g: p + (scale * g).astype(p.dtype), params,
                                       forget_grads)
    (loss, new_state), grads = jax.value_and_grad(term, has_aux=True)(
        perturbed, ascent_state, batch, context)
    return (loss, new_state), grads


def _prepare(model_fns, variables, splits, hyper, key):
    del model_fns, variables, splits, key
    return Prepared(hyper={} if hyper["forget_batch_size"] else
                    {"forget_batch_size": hyper["batch_size"]})


def _validate(hyper: dict) -> None:
    if not hyper["rho"] > 0:
        raise ValueError(f"hyperparams: rho must be > 0, got {hyper['rho']!r}")


UAM = register_method(Method(
    name="uam",
    summary="UAM: retain gradient at θ + ρ∇L_f/‖∇L_f‖, SAM over the forget loss (Kim et al., "
            "NeurIPS 2025; torchunlearn UAM.step)",
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 5, "learning_rate": 0.01, "batch_size": 128, "rho": 0.05,
              "cosine_rho": True},
    prepare=_prepare,
    validate=_validate,
    retain_value_and_grad=uam_direction,
    retain_reads_forget=True,
))
