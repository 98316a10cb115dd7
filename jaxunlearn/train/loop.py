"""The one loop of the engine, and :func:`train` on it.

:func:`run_loop` is the host loop every run goes through: :func:`train`,
:func:`jaxunlearn.methods.unlearn` and :func:`jaxunlearn.methods.unlearn_many` (one model or M
stacked ones). Each step it takes the streams' epoch orders (:class:`EpochOrders`), calls the
compiled step, sums the step's metrics over the epoch, calls the per-step callbacks, moves the
progress bar, and hands epoch ends (and every step, for checkpoints) to the caller's hooks.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from jaxunlearn.config import TrainConfig, to_dict
from jaxunlearn.distributed import check_same_on_all_processes, main_print
from jaxunlearn.losses import cross_entropy
from jaxunlearn.train.checkpoint import Checkpointer, CheckpointError
from jaxunlearn.train.optim import make_optimizer
from jaxunlearn.train.progress import progress_bar
from jaxunlearn.train.sharding import check_divisible, make_mesh, replicate
from jaxunlearn.train.steps import (
    TARGETS,
    LossFn,
    TrainState,
    create_train_state,
    epoch_order,
    make_train_step,
    state_variables,
    steps_per_epoch,
)

# Fields that change how a run is logged or saved but not the numbers it computes.
_BOOKKEEPING_FIELDS = ("checkpoint_every_steps", "max_checkpoints", "log_every_steps")

StepCallback = Callable[[int, dict], None]


class EpochOrders:
    """The shuffled batch order of each data stream at a step.

    ``streams`` is a sequence of ``(make, steps)``: ``make(epoch)`` returns the stream's order
    for one of its epochs (e.g. :func:`~jaxunlearn.train.epoch_order`) and ``steps`` is its
    epochs' length in steps; a stream's order is made once per epoch of that stream.
    ``orders(step)`` returns one order per stream.
    """

    def __init__(self, streams: Sequence[tuple[Callable[[int], Any], int]]):
        self._streams = list(streams)
        self._cached: list[tuple[int, Any]] = [(-1, None)] * len(self._streams)

    def __call__(self, step: int) -> tuple:
        orders = []
        for index, (make, steps) in enumerate(self._streams):
            epoch = step // steps
            if self._cached[index][0] != epoch:
                self._cached[index] = (epoch, make(epoch))
            orders.append(self._cached[index][1])
        return tuple(orders)


def run_loop(step_fn: Callable, state: Any, arrays: tuple, *, start: int, total_steps: int,
             per_epoch: int, orders: EpochOrders, bar: Any,
             on_epoch: Callable[[int, Any, dict, int], dict | None],
             callbacks: Sequence[StepCallback] = (),
             after_step: Callable[[int, Any, dict, dict | None, int, bool], None] | None = None,
             sums: dict | None = None, count: int = 0) -> Any:
    """Steps ``start`` to ``total_steps`` of ``state, metrics = step_fn(state, *orders(step),
    *arrays)``; returns the final state, once computed.

    After each step: every ``callback(step, metrics)``; the progress bar; at the end of each
    epoch of ``per_epoch`` steps (and of the run) ``on_epoch(step, state, sums, count)`` with
    the metrics summed since the last epoch end (``count`` steps; ``sums``/``count`` resume an
    unfinished epoch), whose returned numbers the bar shows; then ``after_step(step, state,
    metrics, sums, count, epoch_end)`` with the sums as they stand (e.g. to checkpoint).
    """
    for step in range(start, total_steps):
        state, metrics = step_fn(state, *orders(step), *arrays)
        sums = metrics if sums is None else jax.tree_util.tree_map(jnp.add, sums, metrics)
        count += 1
        for callback in callbacks:
            callback(step + 1, metrics)
        bar.update(1)
        done = step + 1
        epoch_end = done % per_epoch == 0 or done == total_steps
        if epoch_end:
            shown = on_epoch(done, state, sums, count)
            sums, count = None, 0
            if not bar.disable and shown:
                bar.set_postfix({k: f"{v:.4f}" for k, v in shown.items()})
        if after_step is not None:
            after_step(done, state, metrics, sums, count, epoch_end)
    return jax.block_until_ready(state)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
      variables: the trained model variables (``params`` and mutable collections).
      state: the final :class:`TrainState` (for continuing or checkpointing).
      history: one dict per finished epoch with mean ``loss`` and ``accuracy`` over its steps;
        a resumed run's history is whole (the checkpoints carry it, with the running sums of an
        unfinished epoch), the same as an uninterrupted run's.
      seconds: wall-clock time of the loop (excluding restore), after the first compile; for a
        resumed run, the time before the interruption (as checkpointed) plus this run's.
      resumed_from: the checkpoint step the run resumed from, or ``None``.
      total_steps: the run's length; ``resumed_from == total_steps`` means it was already done.
    """

    variables: dict
    state: TrainState
    history: list[dict]
    seconds: float
    resumed_from: int | None = None
    total_steps: int | None = None


def _run_signature(config: TrainConfig, dataset: Any, extra: dict | None) -> dict:
    fields = {k: v for k, v in to_dict(config).items() if k not in _BOOKKEEPING_FIELDS}
    return {
        "train": fields,
        "dataset": dataset.fingerprint(),
        "num_examples": len(dataset),
        **(extra or {}),
    }


def training_transformation(
    config: TrainConfig, num_examples: int, variables: dict, module: Any = None,
    sample_inputs: Any = None,
) -> optax.GradientTransformation:
    """The optimizer ``config`` describes, followed by FastClip spectral clipping when
    ``config.spectral_max_norm`` > 0 (which needs the Flax ``module`` and one input batch)."""
    per_epoch = steps_per_epoch(num_examples, config.batch_size)
    total_steps = config.steps or config.epochs * per_epoch
    tx = make_optimizer(config, per_epoch, total_steps)
    if not config.spectral_max_norm:
        return tx
    if module is None or sample_inputs is None:
        raise ValueError("train.spectral_max_norm > 0 needs the Flax module (pass module=...)")
    from jaxunlearn.spectral import record_layer_shapes
    from jaxunlearn.transforms import clip_spectral_norm

    layers = record_layer_shapes(module, variables, sample_inputs, train=False)
    return optax.chain(tx, clip_spectral_norm(config.spectral_max_norm, layers,
                                              every_k_steps=config.spectral_every_steps))


def train(
    apply_fn: Callable,
    variables: dict,
    dataset: Any,
    config: TrainConfig,
    *,
    loss_fn: LossFn = cross_entropy,
    tx: optax.GradientTransformation | None = None,
    workdir: str | None = None,
    restore_step: int | None = None,
    mesh: Mesh | None = None,
    progress: bool = True,
    description: str = "train",
    callbacks: Sequence[StepCallback] = (),
    run_metadata: dict | None = None,
    module: Any = None,
    targets: str = "labels",
) -> TrainResult:
    """Train ``variables`` on ``dataset`` with ``config``; resumable when given a ``workdir``.

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``
        (``ModelFns.apply``).
      variables: initial model variables, ``{"params": ..., "batch_stats": ...}``.
      dataset: a :class:`jaxunlearn.data.Dataset` (inputs, labels, augmentation, fingerprint).
      config: optimizer, schedule, epochs/steps, batch size, seed, checkpoint cadence.
      loss_fn: ``loss(logits, labels, weights) -> scalar`` to minimise (cross-entropy by default;
        :func:`jaxunlearn.losses.gradient_ascent_loss` ascends instead).
      tx: an Optax transformation to use instead of the one ``config`` describes.
      workdir: if given, checkpoints go to ``workdir/checkpoints`` and a run finding checkpoints
        there resumes from the newest (or from ``restore_step``), after checking that they were
        written by the same config and dataset.
      mesh: device mesh (default: all devices on one ``data`` axis; after
        :func:`jaxunlearn.distributed.initialize`, the devices of all processes).
      progress: show a progress bar (only when stderr is a terminal, and on process 0).
      callbacks: called as ``callback(step, metrics)`` after every step with device metrics.
      run_metadata: extra JSON-able facts that must match on resume (e.g. the loss name).
      module: the Flax module, needed when ``config.spectral_max_norm`` > 0.
      targets: ``"labels"`` (classifiers) or ``"inputs"``: the loss compares the output with the
        batch inputs, for image-to-image models (``loss_fn=losses.reconstruction_mse``); the
        history then has no ``accuracy``.

    Returns:
      A :class:`TrainResult`.
    """
    if len(dataset) == 0:
        raise ValueError("dataset: cannot train on an empty dataset")
    if targets not in TARGETS:
        raise ValueError(f"targets must be one of {TARGETS}, got {targets!r}")
    mesh = mesh or make_mesh()
    check_divisible(config.batch_size, mesh, "train.batch_size")
    per_epoch = steps_per_epoch(len(dataset), config.batch_size)
    total_steps = config.steps or config.epochs * per_epoch
    if tx is None:
        tx = training_transformation(config, len(dataset), variables, module,
                                     np.asarray(dataset.inputs[:1]))
    if targets != "labels":  # recorded only when set, so older classifier checkpoints still match
        run_metadata = {**(run_metadata or {}), "targets": targets}
    signature = _run_signature(config, dataset, run_metadata)
    check_same_on_all_processes(json.dumps(signature, sort_keys=True, default=str),
                                "the training run (config and dataset fingerprint)")

    state = create_train_state(variables, tx, config.seed)
    checkpointer = None
    resumed_from = None
    progress_record: dict = {}  # history and unfinished-epoch sums from the restored checkpoint
    if workdir is not None:
        checkpointer = Checkpointer(f"{workdir}/checkpoints", max_to_keep=config.max_checkpoints)
        if checkpointer.all_steps():
            state, metadata = checkpointer.restore(state, restore_step)
            if metadata.get("signature") != signature:
                raise CheckpointError(
                    f"checkpoints in {checkpointer.directory} were written by a different run "
                    f"(config or dataset differ); use another workdir.\n"
                    f"  saved:   {metadata.get('signature')}\n  current: {signature}"
                )
            resumed_from = int(metadata["step"])
            progress_record = metadata.get("progress", {})
            if restore_step is not None:
                for path in checkpointer.set_aside_after(resumed_from):
                    main_print(f"resuming from step {resumed_from}: moved newer checkpoint to "
                               f"{path}")

    # The step donates its state: own a copy so the caller's variables stay alive.
    state = jax.tree_util.tree_map(lambda leaf: leaf.copy(), replicate(state, mesh))
    inputs = replicate(jnp.asarray(dataset.inputs), mesh)
    labels = replicate(jnp.asarray(dataset.labels), mesh)
    step_fn = make_train_step(
        apply_fn,
        tx,
        num_examples=len(dataset),
        batch_size=config.batch_size,
        mesh=mesh,
        loss_fn=loss_fn,
        augmentation=dataset.augmentation if config.augment else None,
        targets=targets,
    )

    start_step = int(state.step)
    # Checkpoints written before the history was checkpointed resume with an empty history.
    history: list[dict] = [dict(entry) for entry in progress_record.get("history", [])]
    saved_sums = progress_record.get("epoch_sums")
    resumed_sums = (None if saved_sums is None else
                    dict(zip(("loss", "accuracy"), jnp.asarray(saved_sums, jnp.float32))))
    seconds_before = float(progress_record.get("seconds", 0.0))
    run_key = np.asarray(state.key)  # the state's own copy is donated to the first step

    def on_epoch(done, state, sums, count):
        loss, accuracy = np.asarray([sums["loss"], sums["accuracy"]]) / count
        entry = {"epoch": -(-done // per_epoch), "step": done, "loss": float(loss)}
        if targets == "labels":
            entry["accuracy"] = float(accuracy)
        history.append(entry)
        return None

    def after_step(done, state, metrics, sums, count, epoch_end):
        if done % config.log_every_steps == 0 and not bar.disable:
            bar.set_postfix(loss=f"{float(metrics['loss']):.4f}",
                            acc=f"{float(metrics['accuracy']):.3f}")
        every = config.checkpoint_every_steps
        if checkpointer is not None and (
                (every and done % every == 0) or (not every and epoch_end) or done == total_steps):
            progress_now = {
                "history": history, "epoch_count": count,
                "epoch_sums": None if sums is None
                else [float(value) for value in np.asarray([sums["loss"], sums["accuracy"]])],
                "seconds": seconds_before + time.perf_counter() - started}
            checkpointer.save(done, state, {"signature": signature, "progress": progress_now})

    bar = progress_bar(total_steps, description, enabled=progress, initial=start_step)
    started = time.perf_counter()
    try:
        state = run_loop(
            step_fn, state, (inputs, labels), start=start_step, total_steps=total_steps,
            per_epoch=per_epoch, bar=bar, on_epoch=on_epoch, callbacks=callbacks,
            after_step=after_step, sums=resumed_sums,
            count=int(progress_record.get("epoch_count", 0)),
            orders=EpochOrders([(lambda epoch: epoch_order(run_key, epoch, len(dataset),
                                                            config.batch_size), per_epoch)]))
    finally:
        bar.close()
        if checkpointer is not None:
            checkpointer.close()
    seconds = seconds_before + time.perf_counter() - started
    return TrainResult(state_variables(state), state, history, seconds, resumed_from,
                       total_steps)
