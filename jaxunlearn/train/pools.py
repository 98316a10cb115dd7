"""Model pools: M models trained at once, the engine's vmapped training.

Membership inference attacks (LiRA, Carlini et al., IEEE S&P 2022, §IV; RMIA; U-LiRA) and
multi-seed comparisons need a pool of ``M`` models, model ``m`` trained on the examples where
``in_mask[m]`` (:func:`jaxunlearn.evaluate.membership_masks` draws LiRA's balanced halves).
:func:`train_many` trains the pool as one compiled program: the whole recipe of one model (init,
the epoch loop as a ``lax.scan`` over epochs of ``lax.scan`` over steps, each step the engine's
:func:`~jaxunlearn.train.steps.gradient_step`) is ``jax.vmap``-ed over a leading model axis of the
keys and of ``in_mask``, and ``jax.jit``-ed once. The dataset stays on the device and each model
gathers its own batch ``inputs[order[m, step]]`` at the nominal batch size, so model ``m`` only
ever reads its own members. With several devices and ``M`` divisible by their number, the model
axis is sharded over them (``NamedSharding`` on the leading axis); after
:func:`jaxunlearn.distributed.initialize` that is the devices of all hosts.

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

Pools are stacked variables (every leaf with a leading model axis): :func:`stack_models`,
:func:`unstack_model` and :func:`num_models` move between them and single models, and
:func:`jaxunlearn.methods.unlearn_many` unlearns a whole pool with one vmapped step.
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
from jaxunlearn.losses import cross_entropy
from jaxunlearn.train import keys
from jaxunlearn.train.optim import make_optimizer
from jaxunlearn.train.sharding import put, to_host
from jaxunlearn.train.steps import (
    LossFn,
    TrainState,
    state_variables,
    steps_per_epoch,
    train_on_batch,
    training_term,
)

__all__ = ["MODEL_AXIS", "train_many", "train_sequential", "train_original_and_retrained",
           "num_models", "stack_models", "unstack_model"]

MODEL_AXIS = "models"
"""Name of the mesh axis the model axis is sharded over."""



# --- the recipe of one model ----------------------------------------------------------------


def _member_order(run_key: jax.Array, epoch: jax.Array, mask: jax.Array, count: jax.Array,
                  padded: int) -> jax.Array:
    """A random permutation of the members of ``mask``, wrapped around to ``padded`` positions;
    non-members are never among the indices."""
    noise = jax.random.uniform(keys.order_key(run_key, epoch), mask.shape)
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

    term = training_term(loss_fn)

    def train_one(key_data, mask, inputs, labels):
        init_key, run_key = keys.pool_model_keys(key_data)
        variables = model_fns.init(init_key, inputs[:1])
        params = variables["params"]
        model_state = {name: value for name, value in variables.items() if name != "params"}
        state = TrainState(jnp.zeros((), jnp.int32), params, model_state, tx.init(params),
                           run_key)
        count = jnp.sum(mask, dtype=jnp.int32)

        def epoch_body(state, epoch):
            order = _member_order(run_key, epoch, mask, count, padded)

            def step_body(state, position):
                active = (position * batch_size < count) & (state.step < total_steps)
                new, metrics = train_on_batch(
                    model_fns.apply, tx, term, state, order, position, batch_size=batch_size,
                    count=count, inputs=inputs, labels=labels, augmentation=augmentation,
                    per_epoch=per_epoch)
                # An all-padding batch (or a step past config.steps) leaves the model unchanged.
                keep = functools.partial(jax.tree.map, lambda new, old: jnp.where(active, new, old))
                new_state = TrainState(state.step + 1, keep(new.params, state.params),
                                       keep(new.model_state, state.model_state),
                                       keep(new.opt_state, state.opt_state), state.key)
                return new_state, jnp.stack([metrics["loss"], metrics["accuracy"],
                                             active.astype(jnp.float32)])

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
    model_keys = _model_keys(mask.shape[0], seeds, config.seed)
    per_epoch = steps_per_epoch(int(mask.sum(axis=1).max()), config.batch_size)
    total_steps = config.steps or config.epochs * per_epoch
    if tx is None:
        if config.spectral_max_norm:
            raise ValueError("config.spectral_max_norm > 0 is not supported here; pass tx=...")
        tx = _cached_optimizer(config, per_epoch, total_steps)
    augmentation = dataset.augmentation if config.augment else None
    recipe = (tx, augmentation, config.batch_size, per_epoch, total_steps)
    return mask, model_keys, recipe


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
    mask, model_keys, recipe = _prepare(model_fns, dataset, in_mask, config, seeds, tx)
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
        model_keys, mask_array = put((model_keys, mask_array), sharded)
        inputs, labels = put((inputs, labels), replicated)
    variables, history = program(model_keys, mask_array, inputs, labels)
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
    mask, model_keys, recipe = _prepare(model_fns, dataset, in_mask, config, seeds, tx)
    if model_indices is None:
        model_indices = range(mask.shape[0])
    model_indices = [int(index) for index in model_indices]
    if not model_indices or not all(0 <= index < mask.shape[0] for index in model_indices):
        raise ValueError(f"model_indices: must be non-empty indices into {mask.shape[0]} models")
    program = _trainer(model_fns, recipe[0], loss_fn, *recipe[1:], False)
    inputs = jnp.asarray(dataset.inputs, jnp.float32)
    labels = jnp.asarray(dataset.labels, jnp.int32)
    results = [program(model_keys[index], jnp.asarray(mask[index]), inputs, labels)
               for index in model_indices]
    variables = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[r[0] for r in results])
    if return_history:
        return variables, _stack_history(jnp.stack([r[1] for r in results]))
    return variables



# --- pools of stacked models -------------------------------------------------------------


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


def stack_models(models: Sequence[Any]) -> Any:
    """Stack a sequence of variables pytrees with the same structure along a new leading axis."""
    models = list(models)
    if not models:
        raise ValueError("models: need at least one variables pytree to stack")
    structure = jax.tree.structure(models[0])
    for index, model in enumerate(models[1:], start=1):
        if jax.tree.structure(model) != structure:
            raise ValueError(f"models: model {index} has a different pytree structure from model 0")
    return jax.tree.map(lambda *leaves: jnp.stack([jnp.asarray(leaf) for leaf in leaves]), *models)


def unstack_model(stacked: Any, index: int) -> Any:
    """Model ``index`` of stacked variables (the inverse of :func:`stack_models` for one model)."""
    size = num_models(stacked)
    if not 0 <= int(index) < size:
        raise ValueError(f"index: {index} is outside the {size} stacked models")
    return jax.tree.map(lambda leaf: leaf[int(index)], stacked)


def train_original_and_retrained(
    model_fns: Any, splits: Any, config: Any, *, original_seeds: Sequence[int],
    retrain_seeds: Sequence[int],
) -> tuple[Any, Any]:
    """The two pools U-LiRA and multi-seed comparisons start from, each trained vmapped in one
    program (:func:`train_many`): one original on all of ``splits.train``
    per seed of ``original_seeds``, one model on the retain set alone (never seeing the forget
    set) per seed of ``retrain_seeds``.

    Returns:
      ``(originals, retrained)``, stacked variables with leading axes ``len(original_seeds)``
      and ``len(retrain_seeds)``.
    """
    total = len(splits.train)
    retain = np.zeros(total, bool)
    retain[splits.retain_indices] = True
    originals = train_many(model_fns, splits.train, np.ones((len(original_seeds), total), bool),
                           config, seeds=list(original_seeds))
    retrained = train_many(model_fns, splits.train, np.tile(retain, (len(retrain_seeds), 1)),
                           config, seeds=list(retrain_seeds))
    return originals, retrained


# --- validation --------------------------------------------------------------------------


def _check_in_mask(in_mask: Any, num_examples: int) -> np.ndarray:
    mask = np.asarray(in_mask)
    if mask.ndim != 2:
        raise ValueError(f"in_mask: expected shape (num_models, {num_examples}), got {mask.shape}")
    if mask.shape[0] == 0:
        raise ValueError("in_mask: needs at least one model (got num_models = 0)")
    if mask.shape[1] != num_examples:
        raise ValueError(
            f"in_mask: has {mask.shape[1]} columns but the dataset has {num_examples} examples"
        )
    if mask.dtype != np.bool_:
        if mask.dtype.kind not in "biu" or not np.isin(mask, (0, 1)).all():
            raise ValueError(f"in_mask: must be boolean (or 0/1), got dtype {mask.dtype}")
        mask = mask.astype(bool)
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(f"in_mask: model(s) {empty[:10].tolist()} have no member examples")
    return mask


def _model_keys(num_models: int, seeds: Any, base_seed: int) -> jax.Array:
    """Raw key data ``(M, 2)``: ``key(seeds[m])`` or ``fold_in(key(seed), m)``."""
    if seeds is None or isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seed = base_seed if seeds is None else int(seeds)
        if seed < 0:
            raise ValueError(f"seeds: a base seed must be >= 0, got {seed}")
        base = jax.random.key(seed)
        stacked = jax.vmap(lambda m: jax.random.fold_in(base, m))(jnp.arange(num_models))
        return jax.random.key_data(stacked)
    values = np.asarray(seeds)
    if values.shape != (num_models,) or values.dtype.kind not in "iu":
        raise ValueError(
            f"seeds: expected an int base seed or {num_models} int seeds (one per model), "
            f"got shape {values.shape} dtype {values.dtype}"
        )
    if (values < 0).any():
        raise ValueError("seeds: must be >= 0")
    raw = [jax.random.key_data(jax.random.key(int(seed))) for seed in values]
    return jnp.stack(raw)
