"""The jitted train and predict steps.

A training run is a sequence of calls to one compiled function ``step(state, order, inputs,
labels) -> (state, metrics)``. The whole dataset lives on the device; ``order`` is the epoch's
shuffled index order, padded to a whole number of batches. Each step slices its batch of indices
from ``order`` at ``state.step``, gathers and augments the batch on the device, and marks the
padding with weight 0, so no data crosses from the host inside the loop.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from jaxunlearn.losses import cross_entropy, weighted_accuracy
from jaxunlearn.train import keys
from jaxunlearn.train.core import Term, TermContext, apply_terms, gather_batch, update
from jaxunlearn.train.sharding import batch_sharded, replicated

LossFn = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]

TARGETS = ("labels", "inputs")
"""What a training loss compares the model output with: the integer labels (classifiers) or the
batch inputs themselves (image-to-image models, e.g. ``losses.reconstruction_mse``)."""


class TrainState(NamedTuple):
    """Everything a run needs to continue bit-identically.

    Attributes:
      step: int32 scalar, the number of optimizer steps taken.
      params: the ``params`` collection of the model variables.
      model_state: the other (mutable) collections, e.g. ``{"batch_stats": ...}``.
      opt_state: the Optax state.
      key: uint32 raw key data of the run's base PRNG key; step ``t`` uses ``fold_in(key, t)``, so
        the data order and augmentation are functions of (seed, step) alone.
    """

    step: jax.Array
    params: Any
    model_state: dict
    opt_state: Any
    key: jax.Array


def create_train_state(
    variables: dict, tx: optax.GradientTransformation, seed: int
) -> TrainState:
    """A fresh state at step 0 from model ``variables`` (``{"params": ..., ...}``)."""
    if "params" not in variables:
        raise ValueError("variables: expected a dict with a 'params' collection")
    params = variables["params"]
    model_state = {name: value for name, value in variables.items() if name != "params"}
    key = jax.random.key_data(jax.random.key(seed))
    return TrainState(jnp.zeros((), jnp.int32), params, model_state, tx.init(params), key)


def state_variables(state: TrainState) -> dict:
    """The model variables (``params`` plus mutable collections) held by ``state``."""
    return {"params": state.params, **state.model_state}


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Batches per epoch; the last batch is padded (weight 0), so every example is seen once."""
    return math.ceil(num_examples / batch_size)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _epoch_order_jit(key_data: jax.Array, epoch: jax.Array, num_examples: int, padded: int):
    permutation = jax.random.permutation(keys.order_key(key_data, epoch), num_examples)
    repeats = -(-padded // num_examples)
    return jnp.tile(permutation, repeats)[:padded]


def epoch_order(key_data: jax.Array, epoch: int, num_examples: int, batch_size: int) -> jax.Array:
    """The shuffled example order of ``epoch``, padded by wrapping to whole batches.

    A function of (key, epoch) only, so a resumed run sees the same order.
    """
    padded = steps_per_epoch(num_examples, batch_size) * batch_size
    return _epoch_order_jit(key_data, jnp.asarray(epoch, jnp.int32), num_examples, padded)


def training_term(loss_fn: LossFn = cross_entropy, targets: str = "labels") -> Term:
    """The one term of training: ``loss_fn`` of the model's train-mode outputs (dropout from
    the term's key) against the batch labels, or against the batch inputs for image-to-image
    models (``targets="inputs"``); its metric is the weighted accuracy (0 for ``"inputs"``)."""
    if targets not in TARGETS:
        raise ValueError(f"targets must be one of {TARGETS}, got {targets!r}")

    def term(params, model_state, batch, context):
        variables = {"params": params, **model_state}
        logits, new_model_state = context.apply_fn(variables, batch.inputs, True,
                                                   rng=context.key)
        batch_targets = batch.inputs if targets == "inputs" else batch.labels
        return loss_fn(logits, batch_targets, batch.weights), (new_model_state, logits)

    def metrics(logits, batch):
        accuracy = (weighted_accuracy(logits, batch.labels, batch.weights) if targets == "labels"
                    else jnp.zeros((), jnp.float32))
        return {"accuracy": accuracy}

    return Term("", term, metrics)


def train_on_batch(apply_fn: Callable, tx: optax.GradientTransformation, term: Term,
                   state: TrainState, order: jax.Array, position: jax.Array, *, batch_size: int,
                   count: Any, inputs: jax.Array, labels: jax.Array, augmentation: str | None,
                   per_epoch: int, sharding: Any = None) -> tuple[TrainState, dict]:
    """One training step of ``term``: the step's keys (:mod:`jaxunlearn.train.keys`), batch
    ``position`` of ``order`` (rows at or past ``count`` weigh 0), the term's gradient and the
    Optax update. Shared by :func:`make_train_step` and the pools' scan
    (:func:`jaxunlearn.train.train_many`)."""
    augment_key, dropout_key = keys.train_batch_keys(keys.step_key(state.key, state.step))
    batch = gather_batch(order, position, batch_size, count, inputs, labels, augment_key,
                         augmentation, sharding)
    context = TermContext(apply_fn, {}, {}, dropout_key, state.step, per_epoch, 0)
    grads, model_state, _, metrics = apply_terms([term], [batch], [context], state.params,
                                                 state.model_state)
    return update(tx, state, grads, model_state), metrics


def make_train_step(
    apply_fn: Callable,
    tx: optax.GradientTransformation,
    *,
    num_examples: int,
    batch_size: int,
    mesh: Mesh,
    loss_fn: LossFn = cross_entropy,
    augmentation: str | None = None,
    targets: str = "labels",
) -> Callable[..., tuple[TrainState, dict]]:
    """Compile one optimizer step on a device-resident dataset.

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      tx: the Optax transformation (optimizer and any add-ons).
      num_examples: the dataset size ``n``; positions ``>= n`` in the padded order get weight 0.
      batch_size: the global batch size (a multiple of the number of devices).
      mesh: the device mesh; the batch is sharded over its ``data`` axis.
      loss_fn: ``loss(logits, labels, weights) -> scalar``, minimised.
      augmentation: ``None``, ``"crop"`` or ``"crop_flip"``.
      targets: ``"labels"``: ``loss_fn(logits, labels, weights)``; ``"inputs"``:
        ``loss_fn(outputs, augmented batch inputs, weights)`` for image-to-image models, whose
        ``"accuracy"`` metric is then 0.

    Returns:
      ``step(state, order, inputs, labels) -> (state, {"loss", "accuracy"})``, jitted with the
      state donated.
    """
    term = training_term(loss_fn, targets)  # refuses unknown targets
    per_epoch = steps_per_epoch(num_examples, batch_size)
    batch_sharding = batch_sharded(mesh)

    def step(state: TrainState, order: jax.Array, inputs: jax.Array, labels: jax.Array):
        return train_on_batch(apply_fn, tx, term, state, order, state.step % per_epoch,
                              batch_size=batch_size, count=num_examples, inputs=inputs,
                              labels=labels, augmentation=augmentation, per_epoch=per_epoch,
                              sharding=batch_sharding)

    return jax.jit(step, donate_argnums=(0,), out_shardings=(replicated(mesh), replicated(mesh)))


def make_predict_fn(apply_fn: Callable, mesh: Mesh, batch_size: int) -> Callable:
    """Compile ``predict(variables, inputs) -> logits`` for one batch, sharded over ``mesh``."""
    del batch_size  # the batch shape comes from the inputs; kept for symmetry with training

    def predict(variables, inputs):
        inputs = jax.lax.with_sharding_constraint(inputs, batch_sharded(mesh))
        logits, _ = apply_fn(variables, inputs, False)
        return logits

    # replicated output: every process can read the logits (multi-process runs)
    return jax.jit(predict, out_shardings=replicated(mesh))


def predict_logits(
    apply_fn: Callable,
    variables: dict,
    inputs: np.ndarray,
    *,
    batch_size: int = 512,
    mesh: Mesh | None = None,
) -> np.ndarray:
    """Logits of the model in eval mode for every row of ``inputs``, as a float32 NumPy array.

    Batches are padded to a fixed size (a multiple of the device count) so one program serves all.
    """
    from jaxunlearn.train.sharding import make_mesh

    mesh = mesh or make_mesh()
    batch_size = max(mesh.size, (batch_size // mesh.size) * mesh.size)
    predict = make_predict_fn(apply_fn, mesh, batch_size)
    variables = jax.device_put(variables, replicated(mesh))
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = np.asarray(inputs[start : start + batch_size])
        real = len(chunk)
        if real < batch_size:
            pad = np.zeros((batch_size - real, *chunk.shape[1:]), chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        chunk = jax.device_put(chunk, batch_sharded(mesh))
        outputs.append(np.asarray(predict(variables, chunk))[:real])
    if not outputs:
        raise ValueError("inputs: cannot predict on an empty array")
    return np.concatenate(outputs).astype(np.float32)
