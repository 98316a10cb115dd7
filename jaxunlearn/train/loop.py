"""The training loop: device-resident data, one compiled step, checkpoints, progress."""

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
    from jaxunlearn.transforms import clip_spectral_norm, record_layer_shapes

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
    epoch_sums = None if saved_sums is None else jnp.asarray(saved_sums, jnp.float32)
    epoch_count = int(progress_record.get("epoch_count", 0))
    seconds_before = float(progress_record.get("seconds", 0.0))

    def save(state: TrainState) -> None:
        if checkpointer is not None:
            progress_now = {
                "history": history, "epoch_count": epoch_count,
                "epoch_sums": None if epoch_sums is None
                else [float(value) for value in np.asarray(epoch_sums)],
                "seconds": seconds_before + time.perf_counter() - started}
            checkpointer.save(int(state.step), state, {"signature": signature,
                                                       "progress": progress_now})

    order = None
    order_epoch = -1
    bar = progress_bar(total_steps, description, enabled=progress, initial=start_step)
    started = time.perf_counter()
    try:
        for step in range(start_step, total_steps):
            epoch = step // per_epoch
            if epoch != order_epoch:
                order = epoch_order(state.key, epoch, len(dataset), config.batch_size)
                order_epoch = epoch
            state, metrics = step_fn(state, order, inputs, labels)
            pair = jnp.stack([metrics["loss"], metrics["accuracy"]])
            epoch_sums = pair if epoch_sums is None else epoch_sums + pair
            epoch_count += 1
            for callback in callbacks:
                callback(step + 1, metrics)
            bar.update(1)
            done = step + 1
            if done % config.log_every_steps == 0 and not bar.disable:
                bar.set_postfix(loss=f"{float(pair[0]):.4f}", acc=f"{float(pair[1]):.3f}")
            epoch_end = done % per_epoch == 0 or done == total_steps
            if epoch_end:
                loss, accuracy = np.asarray(epoch_sums) / epoch_count
                entry = {"epoch": epoch + 1, "step": done, "loss": float(loss)}
                if targets == "labels":
                    entry["accuracy"] = float(accuracy)
                history.append(entry)
                epoch_sums, epoch_count = None, 0
            every = config.checkpoint_every_steps
            if (every and done % every == 0) or (not every and epoch_end) or done == total_steps:
                save(state)
        jax.block_until_ready(state)
    finally:
        bar.close()
        if checkpointer is not None:
            checkpointer.close()
    seconds = seconds_before + time.perf_counter() - started
    return TrainResult(state_variables(state), state, history, seconds, resumed_from,
                       total_steps)
