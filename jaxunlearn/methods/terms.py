"""Loss terms shared by several methods: ``term(params, model_state, batch, context)``."""

from __future__ import annotations

import jax.numpy as jnp

from jaxunlearn.losses import capped_reconstruction_mse, cross_entropy, reconstruction_mse
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


def retain_reconstruction(params, model_state, batch: Batch, context: TermContext):
    """L_C = reconstruction MSE on the retain batch (knowledge retention, plain fine-tuning of an
    image-to-image model; Varshney & Torra, arXiv 2502.04260)."""
    outputs, new_state = logits_of(context, params, model_state, batch.inputs)
    return reconstruction_mse(outputs, batch.inputs, batch.weights), new_state


def forget_reconstruction_ascent(params, model_state, batch: Batch, context: TermContext):
    """L_U = −reconstruction MSE on the forget batch (unbounded gradient ascent, the "Max Loss"
    baseline of Li et al., ICLR 2024)."""
    outputs, new_state = logits_of(context, params, model_state, batch.inputs)
    return -reconstruction_mse(outputs, batch.inputs, batch.weights), new_state


def bounded_forget_ascent(params, model_state, batch: Batch, context: TermContext):
    """L_U = −(1/|B|) Σ_i min(e_i, τ): ascent that stops at the unseen-data error level τ
    (``context.aux["stop_level"]``); an example at or above τ has no gradient (``i2i_decouple``'s
    decoupling phase, as reconstructed in :mod:`jaxunlearn.certify.i2i`)."""
    outputs, new_state = logits_of(context, params, model_state, batch.inputs)
    return -capped_reconstruction_mse(outputs, batch.inputs, batch.weights,
                                      context.aux["stop_level"]), new_state


def l1_norm(params) -> jnp.ndarray:
    """‖θ‖₁ over every parameter."""
    import jax

    return sum(jnp.sum(jnp.abs(leaf)) for leaf in jax.tree_util.tree_leaves(params))
