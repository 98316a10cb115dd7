"""Loss terms shared by several methods: ``term(params, model_state, batch, context)``."""

from __future__ import annotations

import jax.numpy as jnp

from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.base import Batch, TermContext, logits_of


def retain_cross_entropy(params, model_state, batch: Batch, context: TermContext):
    """L_C = CE on the retain batch, batch norm in train mode."""
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    return cross_entropy(logits, batch.labels, batch.weights), new_state


def forget_cross_entropy(params, model_state, batch: Batch, context: TermContext):
    """CE on the forget stream with its own labels (AMUN fine-tunes on D_f ∪ D_adv this way)."""
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    return cross_entropy(logits, batch.labels, batch.weights), new_state


def forget_ascent(params, model_state, batch: Batch, context: TermContext):
    """L_U = −CE on the forget batch (gradient ascent)."""
    loss, new_state = forget_cross_entropy(params, model_state, batch, context)
    return -loss, new_state


def l1_norm(params) -> jnp.ndarray:
    """‖θ‖₁ over every parameter."""
    import jax

    return sum(jnp.sum(jnp.abs(leaf)) for leaf in jax.tree_util.tree_leaves(params))
