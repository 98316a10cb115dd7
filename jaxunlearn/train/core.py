"""The one step: gather each stream's batch on the device, take each loss term's gradient, update.

Every run's step is built here: training (:func:`jaxunlearn.train.make_train_step`, one term on
one stream), model pools (:func:`jaxunlearn.train.train_many`, the same term vmapped over a model
axis) and unlearning (:func:`jaxunlearn.methods.step.build_unlearn_step`, the method's unlearning
term L_U on forget batches and retain term L_C on retain batches). A step:

1. derives its key from the run key and the step counter (:mod:`jaxunlearn.train.keys`);
2. gathers each stream's batch from device-resident data at the step's position in the stream's
   epoch order, padding to whole batches with weight 0 (:func:`gather_batch`);
3. evaluates each term on its batch (:func:`apply_terms`): its value and gradient, the terms'
   gradients summed; an unlearning schedule switches terms off (SCRUB's max- and min-steps);
4. hands the summed gradient to the Optax chain, with what add-ons may need as extra arguments:
   ``forget_grads`` / ``retain_grads`` (∇L_U, ∇L_C) and, when an add-on asks,
   ``forget_stats`` / ``retain_stats`` (K-micro-batch gradient statistics,
   :func:`jaxunlearn.transforms.microbatch_mean_stats`).

Statistics at the cost of their gradients (issue 18): the K micro-batch gradients are computed
together (``jax.vmap``), and for a model without mutable state (no batch norm) the term's own
gradient is their weighted mean, Σ_k (W_k / W) ∇L(micro-batch k) with W_k the micro-batch's
example weight, which equals the batch gradient of a term that is a weighted mean over examples
plus parameter-only parts (every term here) up to float rounding. The statistics then cost no
gradient beyond the micro-batches' (about 1.4× one batch gradient on CPU, against ~5× for a
batch gradient plus K sequential micro-batch gradients). A term that draws random numbers per
batch shape (SRL's labels) draws them per micro-batch, as its statistics always did. With batch
norm, whose train-mode statistics are per batch, the batch gradient stays separate.
``stats_parallel=False`` computes the K gradients one after another (memory 1 × |θ|).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.train.augment import augment
from jaxunlearn.transforms.grad_stats import (
    grad_stats_from_samples,
    microbatch_gradients,
    microbatch_mean_stats,
    split_microbatches,
    weighted_sum,
)


class Batch(NamedTuple):
    """A batch gathered on the device.

    Attributes:
      inputs: (batch, H, W, C) float32.
      labels: (batch,) int32.
      weights: (batch,) float32, 0 for the padding that keeps shapes fixed.
      indices: (batch,) int32 positions in the stream's dataset (for per-example auxiliary data).
    """

    inputs: jax.Array
    labels: jax.Array
    weights: jax.Array
    indices: jax.Array


class TermContext(NamedTuple):
    """Everything a loss term may read besides params, model state and its batch.

    Attributes:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      aux: the pytree ``Method.prepare`` returned (device arrays), or ``{}``.
      hyper: the method's hyperparameters (a dict of Python numbers).
      key: a PRNG key for this step and term (dropout, random labels).
      step: the int32 step counter.
      steps_per_epoch: steps in one epoch of the primary stream.
      num_classes: number of classes.
      forget_batch: the step's forget batch, given to the retain term of a method whose step
        direction reads both streams (``Method.retain_reads_forget``: UAM's ascent on the forget
        loss before the retain gradient), else ``None``.
    """

    apply_fn: Callable
    aux: Any
    hyper: dict
    key: jax.Array
    step: jax.Array
    steps_per_epoch: int
    num_classes: int
    forget_batch: Any = None


# term(params, model_state, batch, context) -> (loss, new_model_state), or, for a term with
# metrics, (loss, (new_model_state, outputs))
LossTerm = Callable[[Any, dict, Batch, TermContext], tuple[jax.Array, Any]]


class Term(NamedTuple):
    """One loss term of a step.

    Attributes:
      name: ``"forget"`` / ``"retain"`` for unlearning (metrics ``<name>_loss``, extra arguments
        ``<name>_grads`` / ``<name>_stats``), ``""`` for training (metric ``loss``).
      fn: the :data:`LossTerm`.
      metrics: ``None``, or ``metrics(outputs, batch) -> {name: scalar}`` of the model outputs
        ``fn`` returns beside its new model state (training's accuracy), computed outside the
        gradient.
      value_and_grad: ``None`` (the gradient of ``fn``, ``jax.value_and_grad``), or
        ``value_and_grad(fn, params, model_state, batch, context) -> ((loss, new_model_state),
        grads)`` for a term whose step direction is not its plain gradient (ALU's
        per-example-clipped gradient of ``fn``, UAM's gradient of ``fn`` at a perturbed point).
    """

    name: str
    fn: LossTerm
    metrics: Callable[[Any, Batch], dict] | None = None
    value_and_grad: Callable | None = None


def gather_batch(order: jax.Array, position: jax.Array, batch_size: int, count: Any,
                 inputs: jax.Array, labels: jax.Array, key: jax.Array, augmentation: str | None,
                 sharding: Any = None, augment_rows: jax.Array | None = None) -> Batch:
    """Batch ``position`` of an epoch ``order``: rows at or past ``count`` (the stream's size,
    a number or a traced per-model count) weigh 0; inputs are augmented with ``key``, except the
    rows whose ``augment_rows`` flag is False; ``sharding`` constrains the indices and weights
    to the data-parallel layout (``None`` inside ``vmap``)."""
    start = position * batch_size
    indices = jax.lax.dynamic_slice(order, (start,), (batch_size,))
    if sharding is not None:
        indices = jax.lax.with_sharding_constraint(indices, sharding)
    weights = (start + jnp.arange(batch_size) < count).astype(jnp.float32)
    if sharding is not None:
        weights = jax.lax.with_sharding_constraint(weights, sharding)
    raw = inputs[indices]
    batch_inputs = augment(key, raw, augmentation)
    if augment_rows is not None and augmentation is not None:  # rows never augmented stay raw
        keep = augment_rows[indices].reshape((-1,) + (1,) * (raw.ndim - 1))
        batch_inputs = jnp.where(keep, batch_inputs, raw)
    return Batch(batch_inputs, labels[indices], weights, indices.astype(jnp.int32))


def _fused_value_and_grad(fn, params, model_state, batch: Batch, context, num_microbatches):
    """The term's value and gradient on ``batch`` as the weighted mean of its values and
    gradients on the K strided micro-batches, and the K gradients (leading axis K)."""
    def loss_of(params, microbatch):
        return fn(params, model_state, Batch(*microbatch), context)[0]

    losses, micro_grads = microbatch_gradients(loss_of, params, tuple(batch), num_microbatches)
    weights = split_microbatches(batch.weights, num_microbatches).sum(axis=1)
    shares = weights / jnp.maximum(weights.sum(), 1.0)
    loss = jnp.sum(shares * losses)
    grads = jax.tree_util.tree_map(lambda g: weighted_sum(shares, g), micro_grads)
    return loss, grads, micro_grads


def _where(active: jax.Array, new: Any, old: Any) -> Any:
    return jax.tree_util.tree_map(lambda a, b: jnp.where(active > 0, a, b), new, old)


def apply_terms(terms: Sequence[Term], batches: Sequence[Batch], contexts: Sequence[TermContext],
                params: Any, model_state: dict, *, active: Sequence[jax.Array] | None = None,
                stats_microbatches: int = 0, stats_parallel: bool = True,
                ) -> tuple[Any, dict, dict, dict]:
    """Each term's value and gradient on its batch: ``(summed gradient, new model state,
    extra arguments for the Optax chain, metrics)``.

    With ``active`` (one 0/1 flag per term, an unlearning schedule) the gradients are summed
    from zeros, an inactive term's gradient is exactly zero and its model-state update is
    dropped, and the extra arguments hold each term's gradient (and its statistics when
    ``stats_microbatches`` > 1); without, the one term's gradient is the step's.
    """
    scheduled = active is not None
    grads = jax.tree_util.tree_map(jnp.zeros_like, params) if scheduled else None
    extra, metrics = {}, {}
    for index, (term, batch, context) in enumerate(zip(terms, batches, contexts)):
        fused = (stats_microbatches > 1 and stats_parallel and term.value_and_grad is None
                 and not jax.tree_util.tree_leaves(model_state))
        if term.value_and_grad is not None:
            (loss, new_model_state), term_grads = term.value_and_grad(
                term.fn, params, model_state, batch, context)
            term_metrics = {}
        elif fused:  # the term's gradient is the weighted mean of its micro-batch gradients
            loss, term_grads, micro_grads = _fused_value_and_grad(
                term.fn, params, model_state, batch, context, stats_microbatches)
            new_model_state, term_metrics = model_state, {}
        else:
            (loss, aux), term_grads = jax.value_and_grad(term.fn, has_aux=True)(
                params, model_state, batch, context)
            if term.metrics is None:
                new_model_state, term_metrics = aux, {}
            else:
                new_model_state, outputs = aux
                term_metrics = term.metrics(outputs, batch)
        metrics["loss" if not term.name else f"{term.name}_loss"] = loss
        metrics.update(term_metrics)
        if not scheduled:
            grads, model_state = term_grads, new_model_state
            continue
        flag = active[index]
        # where, not a product: an inactive term's non-finite gradient must not leak (0·NaN)
        term_grads = jax.tree_util.tree_map(
            lambda g: jnp.where(flag > 0, g, jnp.zeros_like(g)), term_grads)
        model_state = _where(flag, new_model_state, model_state)
        grads = jax.tree_util.tree_map(jnp.add, grads, term_grads)
        extra[f"{term.name}_grads"] = term_grads
        if fused:
            extra[f"{term.name}_stats"] = grad_stats_from_samples(jax.tree_util.tree_map(
                lambda g: jnp.where(flag > 0, g, jnp.zeros_like(g)), micro_grads))
        elif stats_microbatches > 1:
            frozen_state = model_state

            def microbatch_loss(params, microbatch, fn=term.fn, context=context, flag=flag):
                loss = fn(params, frozen_state, microbatch, context)[0]
                return jnp.where(flag > 0, loss, 0.0)  # an inactive term has no gradient

            extra[f"{term.name}_stats"] = microbatch_mean_stats(
                microbatch_loss, params, batch, stats_microbatches, parallel=stats_parallel)
    return grads, model_state, extra, metrics


def update(tx: optax.GradientTransformation, state: Any, grads: Any, model_state: dict,
           extra: dict | None = None) -> Any:
    """The optimizer step: ``tx.update`` (with ``extra`` arguments when given) and the new
    :class:`~jaxunlearn.train.TrainState`, one step further."""
    if extra is None:
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
    else:
        updates, opt_state = tx.update(grads, state.opt_state, state.params, **extra)
    params = optax.apply_updates(state.params, updates)
    return type(state)(state.step + 1, params, model_state, opt_state, state.key)
