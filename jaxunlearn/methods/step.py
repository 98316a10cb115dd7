"""The one jitted unlearning step that runs every method.

Each step gathers a forget batch and a retain batch from device-resident data (each stream with
its own shuffled order, padded to whole batches with weight 0), evaluates the method's unlearning
term L_U on the forget batch and its retain term L_C on the retain batch, and hands the summed
gradient to the Optax chain together with what add-ons may need as extra args:
``forget_grads`` / ``retain_grads`` (∇L_U, ∇L_C) and, when an add-on asks for them,
``forget_stats`` / ``retain_stats`` (K-micro-batch gradient statistics,
:func:`jaxunlearn.transforms.microbatch_mean_stats`).

Statistics at the cost of their gradients (issue 18): the K micro-batch gradients are computed
together (``jax.vmap``), and for a model without mutable state (no batch norm) the step's own
gradient of that term is their weighted mean, Σ_k (W_k / W) ∇L(micro-batch k) with W_k the
micro-batch's example weight, which equals the batch gradient of a term that is a weighted mean
over examples plus parameter-only parts (every term here) up to float rounding. The statistics
then cost no gradient beyond the micro-batches' (about 1.4× one batch gradient on CPU, against
~5× for a batch gradient plus K sequential micro-batch gradients). A term that draws random
numbers per batch shape (SRL's labels) draws them per micro-batch, as its statistics always did.
With batch norm, whose train-mode statistics are per batch, the batch gradient stays separate.
``stats_parallel=False`` computes the K gradients one after another (memory 1 × |θ|).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from jaxunlearn.methods.base import AUGMENT_ROWS, Batch, Method, TermContext
from jaxunlearn.train.augment import augment
from jaxunlearn.train.sharding import batch_sharded, replicated
from jaxunlearn.train.steps import TrainState, steps_per_epoch
from jaxunlearn.transforms.grad_stats import (
    grad_stats_from_samples,
    microbatch_gradients,
    microbatch_mean_stats,
    split_microbatches,
    weighted_sum,
)


def _gather(order, position, batch_size, num_examples, inputs, labels, key, augmentation,
            sharding, augment_rows=None) -> Batch:
    start = position * batch_size
    indices = jax.lax.dynamic_slice(order, (start,), (batch_size,))
    indices = jax.lax.with_sharding_constraint(indices, sharding)
    weights = (start + jnp.arange(batch_size) < num_examples).astype(jnp.float32)
    raw = inputs[indices]
    batch_inputs = augment(key, raw, augmentation)
    if augment_rows is not None and augmentation is not None:  # rows never augmented stay raw
        keep = augment_rows[indices].reshape((-1,) + (1,) * (raw.ndim - 1))
        batch_inputs = jnp.where(keep, batch_inputs, raw)
    return Batch(batch_inputs, labels[indices], weights, indices.astype(jnp.int32))


def _fused_value_and_grad(term, params, model_state, batch: Batch, context, num_microbatches):
    """The term's value and gradient on ``batch`` as the weighted mean of its values and
    gradients on the K strided micro-batches, and the K gradients (leading axis K)."""
    def loss_of(params, microbatch):
        return term(params, model_state, Batch(*microbatch), context)[0]

    losses, micro_grads = microbatch_gradients(loss_of, params, tuple(batch), num_microbatches)
    weights = split_microbatches(batch.weights, num_microbatches).sum(axis=1)
    shares = weights / jnp.maximum(weights.sum(), 1.0)
    loss = jnp.sum(shares * losses)
    grads = jax.tree_util.tree_map(lambda g: weighted_sum(shares, g), micro_grads)
    return loss, grads, micro_grads


def _select(active: jax.Array, new: Any, old: Any) -> Any:
    return jax.tree_util.tree_map(lambda a, b: jnp.where(active > 0, a, b), new, old)


def build_unlearn_step(
    method: Method,
    apply_fn: Callable,
    tx: optax.GradientTransformation,
    *,
    hyper: dict,
    num_forget: int,
    num_retain: int,
    num_classes: int,
    mesh: Mesh,
    augmentation: str | None = None,
    stats_microbatches: int = 0,
    stats_parallel: bool = True,
) -> Callable:
    """The un-jitted ``step(state, forget_order, retain_order, forget_inputs, forget_labels,
    retain_inputs, retain_labels, aux) -> (state, metrics)`` of ``method``, a pure function of one
    model's state: :func:`make_unlearn_step` jits it, :func:`jaxunlearn.methods.unlearn_many`
    vmaps it over a leading model axis first.

    Args:
      method: the :class:`Method` (its terms and schedule).
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      tx: the full Optax chain (add-ons and optimizer).
      hyper: the method's hyperparameters (``batch_size`` for retain batches,
        ``forget_batch_size`` for forget batches).
      num_forget / num_retain: stream sizes; an epoch is one pass over the ``method.primary``
        stream, the other stream cycles.
      mesh: the devices the batches are sharded over.
      stats_microbatches: K > 1 computes ``forget_stats``/``retain_stats`` for the add-ons.
      stats_parallel: the K micro-batch gradients together (and, without mutable model state,
        the term's gradient from them), or one after another (bounded memory).
    """
    forget_batch, retain_batch = hyper["forget_batch_size"], hyper["batch_size"]
    forget_per_epoch = steps_per_epoch(max(num_forget, 1), forget_batch)
    retain_per_epoch = steps_per_epoch(max(num_retain, 1), retain_batch)
    per_epoch = forget_per_epoch if method.primary == "forget" else retain_per_epoch
    sharding = batch_sharded(mesh)

    def term_value_and_grad(term, params, model_state, batch, context):
        return jax.value_and_grad(term, has_aux=True)(params, model_state, batch, context)

    def step(state: TrainState, forget_order, retain_order, forget_inputs, forget_labels,
             retain_inputs, retain_labels, aux):
        key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
        forget_active, retain_active = method.schedule(state.step, per_epoch, hyper)
        model_state = state.model_state
        zeros = jax.tree_util.tree_map(jnp.zeros_like, state.params)
        grads, extra, metrics = zeros, {}, {}
        terms = (
            ("forget", method.forget_term, forget_active, forget_order, forget_per_epoch,
             forget_batch, num_forget, forget_inputs, forget_labels),
            ("retain", method.retain_term, retain_active, retain_order, retain_per_epoch,
             retain_batch, num_retain, retain_inputs, retain_labels),
        )
        for index, (name, term, active, order, stream_epoch, batch_size, size, inputs,
                    labels) in enumerate(terms):
            if term is None:
                continue
            term_key = jax.random.fold_in(key, index)
            rows = (aux.get(AUGMENT_ROWS) if name == "forget" and isinstance(aux, dict)
                    else None)
            batch = _gather(order, state.step % stream_epoch, batch_size, size, inputs, labels,
                            jax.random.fold_in(term_key, 7), augmentation, sharding, rows)
            context = TermContext(apply_fn, aux, hyper, term_key, state.step, per_epoch,
                                  num_classes)
            fused = (stats_microbatches > 1 and stats_parallel
                     and not jax.tree_util.tree_leaves(model_state))
            if fused:  # the term's gradient is the weighted mean of its micro-batch gradients
                loss, term_grads, micro_grads = _fused_value_and_grad(
                    term, state.params, model_state, batch, context, stats_microbatches)
                new_model_state = model_state
            else:
                (loss, new_model_state), term_grads = term_value_and_grad(
                    term, state.params, model_state, batch, context)
            # where, not a product: an inactive term's non-finite gradient must not leak (0·NaN)
            term_grads = jax.tree_util.tree_map(
                lambda g: jnp.where(active > 0, g, jnp.zeros_like(g)), term_grads)
            model_state = _select(active, new_model_state, model_state)
            grads = jax.tree_util.tree_map(jnp.add, grads, term_grads)
            extra[f"{name}_grads"] = term_grads
            metrics[f"{name}_loss"] = loss
            if fused:
                extra[f"{name}_stats"] = grad_stats_from_samples(jax.tree_util.tree_map(
                    lambda g: jnp.where(active > 0, g, jnp.zeros_like(g)), micro_grads))
            elif stats_microbatches > 1:
                frozen_state = model_state

                def microbatch_loss(params, microbatch, term=term, context=context,
                                    active=active):
                    loss = term(params, frozen_state, microbatch, context)[0]
                    return jnp.where(active > 0, loss, 0.0)  # an inactive term has no gradient

                extra[f"{name}_stats"] = microbatch_mean_stats(
                    microbatch_loss, state.params, batch, stats_microbatches,
                    parallel=stats_parallel)
        if "batch_stats" in state.model_state:  # the running statistics before the step
            extra["batch_stats"] = state.model_state["batch_stats"]  # (FastClip's clamp)
        updates, opt_state = tx.update(grads, state.opt_state, state.params, **extra)
        params = optax.apply_updates(state.params, updates)
        new_state = TrainState(state.step + 1, params, model_state, opt_state, state.key)
        return new_state, metrics

    return step


def make_unlearn_step(method: Method, apply_fn: Callable, tx: optax.GradientTransformation, *,
                      mesh: Mesh, **options: Any) -> Callable:
    """Compile ``step(state, forget_order, retain_order, forget_inputs, forget_labels,
    retain_inputs, retain_labels, aux) -> (state, metrics)`` for ``method``: the step of
    :func:`build_unlearn_step` (same arguments), jitted with the state donated and the outputs
    replicated over ``mesh``."""
    step = build_unlearn_step(method, apply_fn, tx, mesh=mesh, **options)
    return jax.jit(step, donate_argnums=(0,), out_shardings=(replicated(mesh), replicated(mesh)))
