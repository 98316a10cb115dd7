"""The unlearning step: a method's two terms on the engine's one step.

:func:`build_unlearn_step` gives a :class:`~jaxunlearn.methods.Method` to
:mod:`jaxunlearn.train.core`: each step gathers a forget batch and a retain batch (each stream
with its own shuffled order), takes the gradients of the unlearning term L_U on the forget batch
and of the retain term L_C on the retain batch as the method's schedule switches them, and hands
their sum to the Optax chain with ``forget_grads`` / ``retain_grads`` and, for the add-ons that
ask, the K-micro-batch statistics (the core's docstring says how they cost little).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import optax
from jax.sharding import Mesh

from jaxunlearn.methods.base import AUGMENT_ROWS, Method
from jaxunlearn.train import keys
from jaxunlearn.train.core import TermContext, Term, apply_terms, gather_batch, update
from jaxunlearn.train.sharding import batch_sharded, replicated
from jaxunlearn.train.steps import TrainState, steps_per_epoch


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

    def step(state: TrainState, forget_order, retain_order, forget_inputs, forget_labels,
             retain_inputs, retain_labels, aux):
        key = keys.step_key(state.key, state.step)
        forget_active, retain_active = method.schedule(state.step, per_epoch, hyper)
        terms, batches, contexts, active, forget_rows = [], [], [], [], None
        streams = (
            ("forget", method.forget_term, forget_active, forget_order, forget_per_epoch,
             forget_batch, num_forget, forget_inputs, forget_labels),
            ("retain", method.retain_term, retain_active, retain_order, retain_per_epoch,
             retain_batch, num_retain, retain_inputs, retain_labels),
        )
        for index, (name, term, flag, order, stream_epoch, batch_size, size, inputs,
                    labels) in enumerate(streams):
            reads = name == "forget" and method.retain_reads_forget
            if term is None and not reads:
                continue
            augment_key, term_key = keys.term_keys(key, index)
            rows = (aux.get(AUGMENT_ROWS) if name == "forget" and isinstance(aux, dict)
                    else None)
            batch = gather_batch(order, state.step % stream_epoch, batch_size, size, inputs,
                                 labels, augment_key, augmentation, sharding, rows)
            if reads:
                forget_rows = batch
            if term is None:
                continue
            batches.append(batch)
            contexts.append(TermContext(apply_fn, aux, hyper, term_key, state.step, per_epoch,
                                        num_classes, forget_rows if name == "retain" else None))
            terms.append(Term(name, term, value_and_grad=(
                method.retain_value_and_grad if name == "retain" else None)))
            active.append(flag)
        grads, model_state, extra, metrics = apply_terms(
            terms, batches, contexts, state.params, state.model_state, active=active,
            stats_microbatches=stats_microbatches, stats_parallel=stats_parallel)
        if "batch_stats" in state.model_state:  # the running statistics before the step
            extra["batch_stats"] = state.model_state["batch_stats"]  # (FastClip's clamp)
        return update(tx, state, grads, model_state, extra), metrics

    return step


def make_unlearn_step(method: Method, apply_fn: Callable, tx: optax.GradientTransformation, *,
                      mesh: Mesh, **options: Any) -> Callable:
    """Compile ``step(state, forget_order, retain_order, forget_inputs, forget_labels,
    retain_inputs, retain_labels, aux) -> (state, metrics)`` for ``method``: the step of
    :func:`build_unlearn_step` (same arguments), jitted with the state donated and the outputs
    replicated over ``mesh``."""
    step = build_unlearn_step(method, apply_fn, tx, mesh=mesh, **options)
    return jax.jit(step, donate_argnums=(0,), out_shardings=(replicated(mesh), replicated(mesh)))
