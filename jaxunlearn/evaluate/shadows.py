"""Many shadow models at once: LiRA membership bookkeeping and vmapped training.

Membership inference attacks (LiRA, Carlini et al., IEEE S&P 2022, §IV; RMIA; U-LiRA) need a pool
of ``M`` shadow models, model ``m`` trained on a random half of a pool of ``N`` examples. The
membership is a boolean matrix ``in_mask[M, N]`` (LiRA's ``keep``), balanced so every example is IN
for exactly half of the models.

The pool is trained as one compiled program: the whole recipe of one model (init, the epoch loop
as a ``lax.scan`` over epochs of ``lax.scan`` over steps) is ``jax.vmap``-ed over a leading model
axis of the keys and of ``in_mask``, and ``jax.jit``-ed once. The dataset stays on the device and
each model gathers its own batch ``inputs[order[m, step]]`` at the nominal batch size, so model
``m`` only ever reads its own members. With several devices and ``M`` divisible by their number,
the model axis is sharded over them (``NamedSharding`` on the leading axis); after
:func:`jaxunlearn.distributed.initialize` that is the devices of all hosts (256 models on 8 GPUs
hold 32 each), and :func:`model_outputs` gathers the logits of every model on every process.

Recipe of model ``m`` (identical in :func:`train_many` and :func:`train_sequential`):

- its key is ``jax.random.key(seeds[m])`` when per-model seeds are given, otherwise
  ``fold_in(jax.random.key(seed), m)``; ``fold_in(key, 0)`` initialises the variables and
  ``fold_in(key, 1)`` is the run key of its :class:`~jaxunlearn.train.TrainState` (step ``t``
  augments and drops out with ``fold_in(run_key, t)``, as :func:`~jaxunlearn.train.make_train_step`);
- every epoch has ``P = ceil(max_m |members_m| / batch_size)`` steps, the same for all models so
  the shapes agree; the epoch order of model ``m`` is a fresh random permutation of its own members,
  wrapped around to ``P * batch_size`` positions; positions past its member count weigh 0;
- a step whose batch is all padding (a model with fewer members than the largest) leaves the
  model unchanged (no momentum, weight decay or schedule tick), so model ``m`` takes
  ``ceil(|members_m| / batch_size)`` real optimizer steps per epoch;
- the optimizer is :func:`~jaxunlearn.train.make_optimizer` of ``config`` with ``P`` steps per
  epoch and ``config.steps or config.epochs * P`` total steps; the dataset's augmentation is used
  when ``config.augment``.

The membership matrix and the per-model keys are built in :mod:`jaxunlearn.evaluate.shadow_masks`
(:func:`membership_masks` is re-exported here); this module trains and evaluates the pool.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxunlearn.config import TrainConfig
from jaxunlearn.evaluate.shadow_masks import _check_in_mask, _model_keys, membership_masks
from jaxunlearn.losses import cross_entropy, weighted_accuracy
from jaxunlearn.train.augment import augment
from jaxunlearn.train.optim import make_optimizer
from jaxunlearn.train.sharding import put, to_host
from jaxunlearn.train.steps import LossFn, TrainState, state_variables, steps_per_epoch

__all__ = ["MODEL_AXIS", "membership_masks", "train_many", "train_sequential", "num_models",
           "model_outputs"]

MODEL_AXIS = "models"
"""Name of the mesh axis the model axis is sharded over."""

_ORDER_SALT = 0x0DA7A  # the same salt as jaxunlearn.train.steps.epoch_order


# --- the recipe of one model ----------------------------------------------------------------


def _member_order(run_key: jax.Array, epoch: jax.Array, mask: jax.Array, count: jax.Array,
                  padded: int) -> jax.Array:
    """A random permutation of the members of ``mask``, wrapped around to ``padded`` positions;
    non-members are never among the indices."""
    key = jax.random.fold_in(jax.random.fold_in(run_key, _ORDER_SALT), epoch)
    noise = jax.random.uniform(key, mask.shape)
    permutation = jnp.argsort(jnp.where(mask, noise, 2.0))  # members first
    return permutation[jnp.arange(padded) % jnp.maximum(count, 1)]


@functools.lru_cache(maxsize=32)
def _trainer(
    model_fns: Any,
    tx: optax.GradientTransformation,
    loss_fn: LossFn,
    augmentation: str | None,
    batch_size: int,
    per_epoch: int,
    total_steps: int,
    vmapped: bool,
) -> Callable:
    """The jitted ``train(key_data[M?, 2], mask[M?, N], inputs, labels) -> (variables, history)``,
    cached so repeated calls with the same recipe reuse one compiled program."""
    num_epochs = -(-total_steps // per_epoch)
    padded = per_epoch * batch_size

    def train_one(key_data, mask, inputs, labels):
        key = jax.random.wrap_key_data(key_data)
        variables = model_fns.init(jax.random.fold_in(key, 0), inputs[:1])
        params = variables["params"]
        model_state = {name: value for name, value in variables.items() if name != "params"}
        run_key = jax.random.key_data(jax.random.fold_in(key, 1))
        state = TrainState(jnp.zeros((), jnp.int32), params, model_state, tx.init(params),
                           run_key)
        count = jnp.sum(mask, dtype=jnp.int32)

        def epoch_body(state, epoch):
            order = _member_order(jax.random.wrap_key_data(run_key), epoch, mask, count, padded)

            def step_body(state, position):
                start = position * batch_size
                indices = jax.lax.dynamic_slice(order, (start,), (batch_size,))
                weights = (start + jnp.arange(batch_size) < count).astype(jnp.float32)
                active = (start < count) & (state.step < total_steps)
                step_key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
                augment_key, dropout_key = jax.random.split(step_key)
                batch_inputs = augment(augment_key, inputs[indices], augmentation)
                batch_labels = labels[indices]

                def objective(params):
                    variables = {"params": params, **state.model_state}
                    logits, new_model_state = model_fns.apply(variables, batch_inputs, True,
                                                              rng=dropout_key)
                    return loss_fn(logits, batch_labels, weights), (logits, new_model_state)

                (loss, (logits, new_model_state)), grads = jax.value_and_grad(
                    objective, has_aux=True)(state.params)
                updates, opt_state = tx.update(grads, state.opt_state, state.params)
                params = optax.apply_updates(state.params, updates)
                # An all-padding batch (or a step past config.steps) leaves the model unchanged.
                keep = functools.partial(jax.tree.map, lambda new, old: jnp.where(active, new, old))
                new_state = TrainState(
                    state.step + 1,
                    keep(params, state.params),
                    keep(new_model_state, state.model_state),
                    keep(opt_state, state.opt_state),
                    state.key,
                )
                metrics = jnp.stack([loss, weighted_accuracy(logits, batch_labels, weights),
                                     active.astype(jnp.float32)])
                return new_state, metrics

            state, metrics = jax.lax.scan(step_body, state, jnp.arange(per_epoch))
            steps = jnp.maximum(jnp.sum(metrics[:, 2]), 1.0)
            means = jnp.sum(metrics[:, :2] * metrics[:, 2:], axis=0) / steps
            return state, means

        state, history = jax.lax.scan(epoch_body, state, jnp.arange(num_epochs))
        return state_variables(state), history

    if vmapped:
        return jax.jit(jax.vmap(train_one, in_axes=(0, 0, None, None)))
    return jax.jit(train_one)


# Configs are frozen (hashable), so one recipe maps to one transformation and one cached program.
_cached_optimizer = functools.lru_cache(maxsize=32)(make_optimizer)


def _prepare(model_fns, dataset, in_mask, config, seeds, tx):
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if len(dataset) == 0:
        raise ValueError("dataset: cannot train on an empty dataset")
    mask = _check_in_mask(in_mask, len(dataset))
    keys = _model_keys(mask.shape[0], seeds, config.seed)
    per_epoch = steps_per_epoch(int(mask.sum(axis=1).max()), config.batch_size)
    total_steps = config.steps or config.epochs * per_epoch
    if tx is None:
        if config.spectral_max_norm:
            raise ValueError("config.spectral_max_norm > 0 is not supported here; pass tx=...")
        tx = _cached_optimizer(config, per_epoch, total_steps)
    augmentation = dataset.augmentation if config.augment else None
    recipe = (tx, augmentation, config.batch_size, per_epoch, total_steps)
    return mask, keys, recipe


def _stack_history(history: Any) -> np.ndarray:
    return np.asarray(to_host(history), dtype=np.float32)


def train_many(
    model_fns: Any,
    dataset: Any,
    in_mask: Any,
    config: TrainConfig,
    *,
    seeds: int | Sequence[int] | None = None,
    loss_fn: LossFn = cross_entropy,
    tx: optax.GradientTransformation | None = None,
    mesh: Mesh | None = None,
    return_history: bool = False,
) -> Any:
    """Train ``M`` models, model ``m`` on the examples where ``in_mask[m]``, in one program.

    The per-model recipe (see the module docstring) is ``jax.vmap``-ed over the model axis and
    ``jax.jit``-ed once: a ``lax.scan`` over epochs of a ``lax.scan`` over steps, so there is one
    dispatch for the whole training. When the mesh (default: all devices) has more than one
    device and divides ``M``, the model axis is sharded over it.

    Args:
      model_fns: a :class:`~jaxunlearn.models.ModelFns` (``init(key, x)``, ``apply``).
      dataset: a :class:`~jaxunlearn.data.Dataset` holding the pool (``N`` examples).
      in_mask: bool ``(M, N)``; every model needs at least one member.
      config: the :class:`~jaxunlearn.config.TrainConfig` recipe (epochs/steps, batch size,
        optimizer, schedule, augmentation switch). ``config.seed`` is the base seed when ``seeds``
        is ``None``.
      seeds: an int base seed (model ``m`` uses ``fold_in(key(seed), m)``) or ``M`` int seeds.
      loss_fn: ``loss(logits, labels, weights) -> scalar``.
      tx: an Optax transformation instead of the one ``config`` describes.
      mesh: a one-axis mesh to shard the model axis over (default: all devices, used only when
        their number divides ``M``).
      return_history: also return per-model, per-epoch ``[loss, accuracy]`` means ``(M, E, 2)``.

    Returns:
      The stacked variables (every leaf has a leading axis of size ``M``), and the history when
      ``return_history``.
    """
    mask, keys, recipe = _prepare(model_fns, dataset, in_mask, config, seeds, tx)
    program = _trainer(model_fns, recipe[0], loss_fn, *recipe[1:], True)
    inputs = jnp.asarray(dataset.inputs, jnp.float32)
    labels = jnp.asarray(dataset.labels, jnp.int32)
    mask_array = jnp.asarray(mask)
    devices = list(mesh.devices.flat) if mesh is not None else jax.devices()
    if len(devices) > 1 and mask.shape[0] % len(devices) == 0:
        # jax.devices() spans every process after jax.distributed.initialize, so the models are
        # spread over all hosts; put() builds each process's shards from its own (equal) copy.
        model_mesh = Mesh(np.asarray(devices), (MODEL_AXIS,))
        sharded = NamedSharding(model_mesh, PartitionSpec(MODEL_AXIS))
        replicated = NamedSharding(model_mesh, PartitionSpec())
        keys, mask_array = put((keys, mask_array), sharded)
        inputs, labels = put((inputs, labels), replicated)
    variables, history = program(keys, mask_array, inputs, labels)
    if return_history:
        return variables, _stack_history(history)
    return variables


def train_sequential(
    model_fns: Any,
    dataset: Any,
    in_mask: Any,
    config: TrainConfig,
    *,
    seeds: int | Sequence[int] | None = None,
    loss_fn: LossFn = cross_entropy,
    tx: optax.GradientTransformation | None = None,
    model_indices: Sequence[int] | None = None,
    return_history: bool = False,
) -> Any:
    """The recipe of :func:`train_many`, one model at a time (one compiled program, called per
    model): the reference for tests and benchmarks. Same keys, orders and steps, so the results
    agree with :func:`train_many` up to floating-point reassociation.

    Arguments are those of :func:`train_many`; ``model_indices`` trains only those rows of
    ``in_mask`` (the recipe, e.g. the steps per epoch, still follows the whole mask).

    Returns:
      The stacked variables of the trained models (leading axis ``len(model_indices)``, default
      ``M``), and the history ``(models, E, 2)`` when ``return_history``.
    """
    mask, keys, recipe = _prepare(model_fns, dataset, in_mask, config, seeds, tx)
    if model_indices is None:
        model_indices = range(mask.shape[0])
    model_indices = [int(index) for index in model_indices]
    if not model_indices or not all(0 <= index < mask.shape[0] for index in model_indices):
        raise ValueError(f"model_indices: must be non-empty indices into {mask.shape[0]} models")
    program = _trainer(model_fns, recipe[0], loss_fn, *recipe[1:], False)
    inputs = jnp.asarray(dataset.inputs, jnp.float32)
    labels = jnp.asarray(dataset.labels, jnp.int32)
    results = [program(keys[index], jnp.asarray(mask[index]), inputs, labels)
               for index in model_indices]
    variables = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[r[0] for r in results])
    if return_history:
        return variables, _stack_history(jnp.stack([r[1] for r in results]))
    return variables


# --- evaluation ----------------------------------------------------------------------------


def num_models(stacked_variables: Any) -> int:
    """The size ``M`` of the leading model axis shared by every leaf of ``stacked_variables``."""
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None
             for leaf in jax.tree.leaves(stacked_variables)}
    if not sizes or None in sizes or len(sizes) != 1:
        raise ValueError(
            "stacked_variables: every leaf needs the same leading model axis, got sizes "
            f"{sorted(str(size) for size in sizes)}"
        )
    return int(sizes.pop())


@functools.lru_cache(maxsize=32)
def _vmapped_predict(apply_fn: Callable) -> Callable:
    def predict(variables, inputs):
        logits, _ = apply_fn(variables, inputs, False)
        return logits.astype(jnp.float32)

    return jax.jit(jax.vmap(predict, in_axes=(0, None)))


def model_outputs(
    apply_fn: Callable, stacked_variables: Any, inputs: Any, *, batch_size: int = 512
) -> np.ndarray:
    """Eval-mode logits of every model on every input, vmapped over models, chunked over inputs.

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      stacked_variables: variables with a leading model axis ``M`` (from :func:`train_many`).
      inputs: ``(N, ...)`` inputs, e.g. the pool's ``dataset.inputs``.
      batch_size: inputs per chunk (the last chunk is padded, so one program serves all).

    Returns:
      float32 NumPy logits of shape ``(M, N, C)``.
    """
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
    num_models(stacked_variables)
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim < 1 or len(inputs) == 0:
        raise ValueError("inputs: cannot compute outputs on an empty array")
    predict = _vmapped_predict(apply_fn)
    batch_size = min(int(batch_size), len(inputs))
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        real = len(chunk)
        if real < batch_size:
            chunk = np.concatenate([chunk, np.zeros((batch_size - real, *chunk.shape[1:]),
                                                    chunk.dtype)])
        logits = to_host(predict(stacked_variables, jnp.asarray(chunk)))  # models on all hosts
        outputs.append(logits[:, :real])
    return np.concatenate(outputs, axis=1)
