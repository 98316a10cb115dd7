"""``unlearn()``: run any registered method, with add-ons, on device-resident data."""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from jaxunlearn.methods.addons import AddonContext, build_addons, resolve_addons
from jaxunlearn.methods.base import Method, Prepared, get_method
from jaxunlearn.methods.step import make_unlearn_step
from jaxunlearn.train import keys
from jaxunlearn.train.checkpoint import Checkpointer, CheckpointError, tree_digest
from jaxunlearn.train.loop import EpochOrders, run_loop
from jaxunlearn.train.progress import progress_bar
from jaxunlearn.train.sharding import check_divisible, make_mesh, replicate
from jaxunlearn.train.steps import create_train_state, epoch_order, state_variables, steps_per_epoch


@dataclasses.dataclass
class UnlearnResult:
    """What :func:`unlearn` returns.

    Attributes:
      variables: the unlearned model variables.
      log: method, hyperparameters, add-ons, steps, seconds, per-epoch losses and what the
        method's preparation recorded (JSON-able).
    """

    variables: dict
    log: dict


def _matching_batch_size(num_forget: int, num_retain: int, retain_batch: int, multiple: int) -> int:
    """The forget batch size giving as many forget as retain batches per epoch, rounded up to a
    multiple of ``multiple`` (devices × micro-batches)."""
    batches = steps_per_epoch(num_retain, retain_batch)
    size = -(-num_forget // batches)
    return -(-size // multiple) * multiple


def forget_classes(splits: Any) -> list[int]:
    """The forgotten classes when the forget set is whole classes, else ``[]``."""
    spec = getattr(splits, "spec", {}) or {}
    return list(spec.get("forget_classes", [])) if spec.get("kind") == "classes" else []


@dataclasses.dataclass
class RunPlan:
    """One unlearning run set up up to its loop (:func:`plan_run`).

    Attributes:
      prepared: what ``method.prepare`` returned.
      hyper: the run's hyperparameters, the forget batch size resolved (a new dict).
      variables: the variables the run starts from (``prepared.variables`` if it set them).
      tx: the full Optax chain (optimizer, add-ons, the preparation's transforms).
      microbatches: K of the add-ons that need gradient statistics (0: none).
      num_forget: size of the forget stream (the preparation may replace the forget set).
      total_steps / per_epoch: the run's length and the steps in one primary-stream epoch.
      forget_inputs / forget_labels / retain_inputs / retain_labels: the two streams' data,
        the splits' unless the preparation replaced them.
    """

    prepared: Prepared
    hyper: dict
    variables: dict
    tx: optax.GradientTransformation
    microbatches: int
    num_forget: int
    total_steps: int
    per_epoch: int
    forget_inputs: Any = None
    forget_labels: Any = None
    retain_inputs: Any = None
    retain_labels: Any = None

    @property
    def num_retain(self) -> int:
        return len(self.retain_labels)

    def retain_fixed_order(self) -> jax.Array | None:
        """The retain stream's one order padded (by wrapping) to whole batches, or ``None``
        (a fresh shuffle every epoch)."""
        order = self.prepared.retain_order
        if order is None:
            return None
        batch = self.hyper["batch_size"]
        padded = steps_per_epoch(self.num_retain, batch) * batch
        return jnp.asarray(np.resize(np.asarray(order, np.int32), padded))


def check_fixed_update(method: Method, tx: Any, addons: Sequence[Any]) -> None:
    """A method whose update is fixed (``Method.fixed_update``) takes no ``tx`` and no add-ons."""
    if not method.fixed_update:
        return
    if tx is not None:
        raise ValueError(f"tx: {method.name} takes no optimizer ({method.fixed_update})")
    if tuple(addons):
        raise ValueError(f"addons: {method.name} takes no add-ons ({method.fixed_update}), got "
                         f"{list(addons)}")


def plan_run(model_fns: Any, variables: dict, splits: Any, method: Method, resolved: Sequence,
             hyper: dict, key: int, steps: int | None, tx: optax.GradientTransformation | None,
             module: Any, device_multiple: int) -> RunPlan:
    """Prepare one run as :func:`unlearn` does, up to the loop: the method's ``prepare`` hook,
    the add-ons, the forget batch size matched to the retain stream (rounded up to a multiple
    of ``device_multiple`` × micro-batches; ``RunPlan.hyper`` holds it, ``hyper`` is not
    changed), the run's length and the Optax chain. Shared by :func:`unlearn` and
    :func:`jaxunlearn.methods.unlearn_many`."""
    hyper = dict(hyper)
    prepared = (method.prepare(model_fns, variables, splits, hyper, key)
                if method.prepare is not None else Prepared())
    hyper.update(prepared.hyper)
    if "batch_size" in prepared.hyper:  # a whole number of batches on every device
        hyper["batch_size"] = -(-hyper["batch_size"] // device_multiple) * device_multiple
    if prepared.variables is not None:
        variables = prepared.variables
    retain_inputs, retain_labels = (
        (prepared.retain_inputs, prepared.retain_labels) if prepared.retain_labels is not None
        else (splits.retain_set.inputs, splits.retain_set.labels))
    forget_inputs = (prepared.forget_inputs if prepared.forget_inputs is not None
                     else splits.forget_set.inputs)
    forget_labels = (prepared.forget_labels if prepared.forget_labels is not None
                     else splits.forget_set.labels)
    context = AddonContext(model_fns, variables, splits, hyper, key, module, tx)
    addon_transforms, microbatches = build_addons(resolved, context)
    num_forget, num_retain = len(forget_labels), len(retain_labels)
    if not hyper["forget_batch_size"]:
        hyper["forget_batch_size"] = _matching_batch_size(
            num_forget, num_retain, hyper["batch_size"], device_multiple * max(microbatches, 1))
    if microbatches:
        for name in ("batch_size", "forget_batch_size"):
            if hyper[name] % microbatches:
                raise ValueError(f"hyperparams: {name} must be divisible by {microbatches} for "
                                 "add-ons that need gradient statistics")
    primary_size = num_forget if method.primary == "forget" else num_retain
    primary_batch = hyper["forget_batch_size" if method.primary == "forget" else "batch_size"]
    per_epoch = steps_per_epoch(primary_size, primary_batch)
    total_steps = steps if steps is not None else hyper["epochs"] * per_epoch
    if total_steps < (0 if method.one_shot else 1):
        raise ValueError(f"steps must be >= 1, got {total_steps}")
    base = tx if tx is not None else method.optimizer(hyper, total_steps)
    full_tx = optax.chain(base, *addon_transforms, *prepared.addons)
    return RunPlan(prepared, hyper, variables, full_tx, microbatches, num_forget, total_steps,
                   per_epoch, forget_inputs, forget_labels, retain_inputs, retain_labels)


def stream_orders(make: Callable[[int, int, int, int], Any], num_forget: int, num_retain: int,
                  hyper: dict, fixed_retain: Any = None) -> EpochOrders:
    """The forget and retain streams' epoch orders for :func:`~jaxunlearn.train.loop.run_loop`:
    ``make(stream, size, batch_size, epoch)`` gives one epoch's order of stream 0 (forget) or 1
    (retain); each stream's epoch is its own size over its own batch size. A ``fixed_retain``
    order (:meth:`RunPlan.retain_fixed_order`) is the retain stream's order in every epoch."""
    sizes = ((max(num_forget, 1), hyper["forget_batch_size"]),
             (max(num_retain, 1), hyper["batch_size"]))
    makers = [functools.partial(make, stream, size, batch) for stream, (size, batch)
              in enumerate(sizes)]
    if fixed_retain is not None:
        makers[1] = lambda epoch: fixed_retain
    return EpochOrders([(maker, steps_per_epoch(size, batch))
                        for maker, (size, batch) in zip(makers, sizes)])


def unlearn(
    model_fns: Any,
    variables: dict,
    splits: Any,
    method: str | Method,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    tx: optax.GradientTransformation | None = None,
    addons: Sequence[Any] = (),
    key: int = 0,
    hyperparams: dict | None = None,
    module: Any = None,
    mesh: Mesh | None = None,
    progress: bool = True,
    workdir: str | None = None,
    callbacks: Sequence[Callable[[int, dict], None]] = (),
    epoch_callback: Callable[[int, dict], dict | None] | None = None,
) -> UnlearnResult:
    """Unlearn ``splits.forget_set`` from ``variables`` with ``method`` (a name or a Method).

    Args:
      model_fns: ``ModelFns`` (``init``, ``apply``).
      variables: the original model's variables.
      splits: :class:`jaxunlearn.data.Splits` (forget, retain and test sets).
      method: a registered name (``jaxunlearn.methods.METHODS``) or a :class:`Method`.
      steps / epochs: how long to run (``steps`` wins); default: the method's ``epochs``.
      tx: an Optax optimizer replacing the method's default one (add-ons still wrap it).
      addons: add-on names, ``(name, options)`` pairs or Optax transforms
        (:data:`jaxunlearn.methods.addons.ADDONS`), chained after the optimizer in order.
      key: seed of the data order, augmentation, random labels and the add-ons' randomness.
      hyperparams: overrides of the method's hyperparameters (unknown keys are an error).
      module: the Flax module, needed by ``clip_spectral_norm``.
      workdir: if given, Orbax checkpoints (every epoch) go to ``workdir/checkpoints`` and a
        rerun resumes.
      callbacks: ``callback(step, metrics)`` after every step.
      epoch_callback: ``epoch_callback(epoch, variables)`` at the end of every epoch (and of the
        run) with the model as it is then; what it returns (a dict of numbers, e.g. UA/RA/TA
        measured on the splits) joins that epoch's entry of ``log["history"]``: the curves of
        a metric over unlearning, from one run. The arrays are donated to the next step: use
        them within the call (copy what you keep, e.g. ``jax.device_get``).

    Returns:
      :class:`UnlearnResult`.
    """
    method = get_method(method)
    hyper = method.hyperparameters(hyperparams)
    if epochs is not None:
        hyper["epochs"] = int(epochs)
    if method.class_unlearning and not forget_classes(splits):
        raise ValueError(
            f"method {method.name!r} unlearns whole classes; make the splits with forget_classes=")
    if len(splits.forget_indices) == 0:
        raise ValueError("splits: the forget set is empty")
    check_fixed_update(method, tx, addons)
    resolved = resolve_addons(method.addon_specs(addons, hyper), method, module)
    mesh = mesh or make_mesh()
    check_divisible(hyper["batch_size"], mesh, "hyperparams.batch_size")
    if hyper["forget_batch_size"]:
        check_divisible(hyper["forget_batch_size"], mesh, "hyperparams.forget_batch_size")

    started = time.perf_counter()
    if method.from_scratch:
        variables = model_fns.init(jax.random.key(key), np.asarray(splits.train.inputs[:1]))
    plan = plan_run(model_fns, variables, splits, method, resolved, hyper, key, steps, tx,
                    module, mesh.size)
    prepared, hyper, variables, full_tx = plan.prepared, plan.hyper, plan.variables, plan.tx
    microbatches, total_steps, per_epoch = plan.microbatches, plan.total_steps, plan.per_epoch
    num_forget, num_retain = plan.num_forget, plan.num_retain

    state = create_train_state(variables, full_tx, key)
    signature = {"method": method.name, "hyper": hyper, "addons": [str(a) for a in resolved],
                 "forget": splits.forget_set.fingerprint(),
                 "retain": (splits.retain_set.fingerprint() if prepared.retain_labels is None
                            else tree_digest((plan.retain_inputs, plan.retain_labels))),
                 "steps": total_steps, "key": key, "variables": tree_digest(variables)}
    checkpointer, resumed_from = None, None
    if workdir is not None:
        checkpointer = Checkpointer(f"{workdir}/checkpoints", max_to_keep=2)
        if checkpointer.all_steps():
            state, metadata = checkpointer.restore(state)
            if metadata.get("signature") != signature:
                raise CheckpointError(f"checkpoints in {checkpointer.directory} belong to a "
                                      "different unlearning run; use another workdir")
            resumed_from = int(metadata["step"])
    state = jax.tree_util.tree_map(lambda leaf: leaf.copy(), replicate(state, mesh))
    arrays = replicate(
        (jnp.asarray(plan.forget_inputs), jnp.asarray(plan.forget_labels, jnp.int32),
         jnp.asarray(plan.retain_inputs), jnp.asarray(plan.retain_labels), prepared.aux), mesh)
    augmentation = splits.train.augmentation if hyper.get("augment", True) else None
    step_fn = make_unlearn_step(
        method, model_fns.apply, full_tx, hyper=hyper, num_forget=num_forget,
        num_retain=num_retain, num_classes=splits.train.num_classes, mesh=mesh,
        augmentation=augmentation, stats_microbatches=microbatches)

    forget_key = keys.stream_key(state.key, keys.FORGET_STREAM)
    retain_key = keys.stream_key(state.key, keys.RETAIN_STREAM)
    history: list[dict] = []

    def on_epoch(done, state, sums, count):
        history.append({"epoch": -(-done // per_epoch), "step": done,
                        **{k: float(v) / count for k, v in sums.items()}})
        if epoch_callback is not None:
            history[-1].update(epoch_callback(
                history[-1]["epoch"], method.result_variables(state_variables(state))) or {})
        if checkpointer is not None:
            checkpointer.save(done, state, {"signature": signature})
        return {k: v for k, v in history[-1].items() if k.endswith("loss")}

    bar = progress_bar(total_steps, method.name, enabled=progress, initial=int(state.step))
    try:
        state = run_loop(
            step_fn, state, arrays, start=int(state.step), total_steps=total_steps,
            per_epoch=per_epoch, callbacks=callbacks, bar=bar, on_epoch=on_epoch,
            orders=stream_orders(
                lambda stream, size, batch, epoch: epoch_order(
                    (forget_key, retain_key)[stream], epoch, size, batch),
                num_forget, num_retain, hyper, plan.retain_fixed_order()))
    finally:
        bar.close()
        if checkpointer is not None:
            checkpointer.close()
    log = {
        "method": method.name, "hyperparams": hyper, "addons": [str(a) for a in resolved],
        "steps": total_steps, "steps_per_epoch": per_epoch, "seconds": time.perf_counter() - started,
        "history": history, "resumed_from": resumed_from, "key": key, **prepared.log,
    }
    return UnlearnResult(method.result_variables(state_variables(state)), log)
