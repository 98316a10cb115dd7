"""``unlearn_many()``: unlearn M models stacked on a leading model axis in one compiled program.

Multi-seed comparisons and U-LiRA's unlearned shadow pools (Hayes et al., SaTML 2025, §4) run the
same unlearning recipe on M models. :func:`unlearn_many` runs them together: model ``m`` gets
exactly what ``unlearn(model_fns, unstack_model(stacked_variables, m), splits, method,
key=keys[m], ...)`` would do, and the M runs share one jitted step, the step of
:func:`~jaxunlearn.methods.step.build_unlearn_step` ``jax.vmap``-ed over the model axis, in the
style of :func:`~jaxunlearn.train.train_many`.

What is per model and what is shared:

- **host side, per model** (as in :func:`~jaxunlearn.methods.unlearn`): ``method.prepare`` with
  the model's variables and key, the add-ons built from that model's context, the forget batch
  size matched to the retain stream, the Optax chain, the initial ``TrainState``, and each
  stream's epoch orders (``epoch_order`` of the model's own stream keys);
- **vmapped** (leading axis M): the train state (params, mutable collections, optimizer and
  add-on state, run key), the forget and retain orders, and what ``prepare`` returned: ``aux``
  (e.g. SCRUB's teacher, TRW's targets), ``forget_inputs`` / ``forget_labels`` (RL's drawn
  labels) when the method replaces them, and ``variables``;
- **shared** (``in_axes=None``): the retain inputs and labels (also when every model's
  ``prepare`` replaces them by the same arrays, ALU's D_r ∪ D_pub), the forget set when
  ``prepare`` does not replace it, the hyperparameters and the program itself.

Per-model values of the Optax chain (SalUn's saliency mask and the ``salun_mask`` add-on, both
a :func:`~jaxunlearn.transforms.static_mask` of the model's own gradient; the add-ons' PRNG keys)
live in its state: each model's own ``init`` sets them, the M states are stacked, and one
``update``, the same Python program for every model, runs vmapped over them. That the M chains'
updates are one program is checked without tracing
(:func:`~jaxunlearn.methods.same_program.same_update`); a transform whose update closes over a
per-model value (a Python number, an array) is not vmapped, nor are static masks whose uniform
leaves (kept or frozen whole, closed over as constants) differ between models.

Not vmapped (``sequential_fallback=True`` loops over :func:`~jaxunlearn.methods.unlearn`,
otherwise a ``ValueError`` names the cause): ``from_scratch`` methods (``retrain``), methods
that declare ``per_model_data`` (AMUN's adversarial set: its size varies per model),
``workdir`` checkpointing, and, found after ``prepare`` has run, per-model preparations whose
shapes or hyperparameters differ or chains whose updates differ. The vmapped path runs on one
device (the first of ``jax.devices()``); hyperparameters (the matched forget batch size)
follow the default mesh of :func:`~jaxunlearn.methods.unlearn` so that each model's recipe is the
same.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.methods.addons import resolve_addons
from jaxunlearn.methods.base import Method, get_method
from jaxunlearn.methods.run import (
    UnlearnResult,
    check_fixed_update,
    forget_classes,
    plan_run,
    stream_orders,
    unlearn,
)
from jaxunlearn.methods.same_program import same_update
from jaxunlearn.methods.step import build_unlearn_step
from jaxunlearn.train.keys import FORGET_STREAM, RETAIN_STREAM, stream_key
from jaxunlearn.train.loop import run_loop
from jaxunlearn.train.pools import num_models, stack_models, unstack_model
from jaxunlearn.train.progress import progress_bar
from jaxunlearn.train.sharding import check_divisible, make_mesh, replicate, replicated
from jaxunlearn.train.steps import create_train_state, epoch_order, state_variables

__all__ = ["UnlearnManyResult", "can_vmap", "unlearn_many", "vmap_unsupported_reason"]


class _NotVmappable(Exception):
    """The M runs do not fit one vmapped program (found after ``prepare``)."""


def _stack(trees: Sequence[Any], what: str) -> Any:
    """Stack pytrees along a new leading axis, or raise :class:`_NotVmappable` naming ``what``."""
    structure = jax.tree.structure(trees[0])
    shapes = [(np.shape(leaf), jnp.result_type(leaf)) for leaf in jax.tree.leaves(trees[0])]
    for index, tree in enumerate(trees[1:], start=1):
        if (jax.tree.structure(tree) != structure or
                [(np.shape(leaf), jnp.result_type(leaf)) for leaf in jax.tree.leaves(tree)]
                != shapes):
            raise _NotVmappable(f"{what} of model {index} differs in structure or shape from "
                                "model 0's")
    return jax.tree.map(lambda *leaves: jnp.stack([jnp.asarray(leaf) for leaf in leaves]), *trees)


def _per_model_or_shared(values: Sequence[Any], default: Any, what: str) -> tuple[Any, int | None]:
    """``(shared, None)`` when no model replaces ``default``, else ``(stacked, 0)``."""
    if all(value is None for value in values):
        return default, None
    return _stack([default if value is None else value for value in values], what), 0


def _shared_if_equal(values: Sequence[Any], default: Any, what: str) -> tuple[Any, int | None]:
    """As :func:`_per_model_or_shared`, but replacements equal in every model are shared."""
    first = values[0]
    if first is not None and all(value is not None and np.array_equal(value, first)
                                 for value in values[1:]):
        return first, None
    return _per_model_or_shared(values, default, what)


@dataclasses.dataclass
class UnlearnManyResult:
    """What :func:`unlearn_many` returns: stacked variables, one log per model.

    Indexing gives model ``m`` as an :class:`~jaxunlearn.methods.UnlearnResult`
    (``result[m].variables``, ``result[m].log``); ``len(result)`` is M and iterating yields the
    M results in order, so the result reads as a list while ``variables`` stays stacked for
    :func:`~jaxunlearn.evaluate.model_outputs` and :func:`~jaxunlearn.evaluate.ulira_models`.

    Attributes:
      variables: the unlearned variables, every leaf with a leading model axis of size M.
      logs: model ``m``'s log: what :func:`~jaxunlearn.methods.unlearn` records, plus
        ``"vmapped"`` (whether the models ran in one program), ``"num_models"`` and
        ``"model_index"``; ``"seconds"`` is the wall time of all M models together when vmapped.
    """

    variables: Any
    logs: list[dict]

    def __len__(self) -> int:
        return len(self.logs)

    def __getitem__(self, index: int) -> UnlearnResult:
        return UnlearnResult(unstack_model(self.variables, index), self.logs[index])

    def __iter__(self):
        return (self[index] for index in range(len(self)))


def vmap_unsupported_reason(method: str | Method, addons: Sequence[Any] = (), *,
                            module: Any = None, workdir: str | None = None) -> str | None:
    """Why :func:`unlearn_many` cannot vmap ``method`` with ``addons`` (``None`` if it can).

    The static check: it does not see what ``method.prepare`` will return, so a run may still
    fall back when the models' preparations do not stack (see the module docstring). Unknown or
    ill-fitting add-ons raise as in :func:`~jaxunlearn.methods.unlearn`.
    """
    method = get_method(method)
    if method.from_scratch:
        return f"method {method.name!r} re-initialises the model (from_scratch)"
    if method.per_model_data:
        return (f"method {method.name!r} prepares a stream whose size depends on each model "
                "(per_model_data)")
    if workdir is not None:
        return "workdir: checkpointing runs the models one by one"
    resolve_addons(addons, method, module)
    return None


def can_vmap(method: str | Method, addons: Sequence[Any] = (), *, module: Any = None,
             workdir: str | None = None) -> bool:
    """Whether :func:`unlearn_many` vmaps ``method`` with ``addons``: every method that is not
    ``from_scratch`` and has no ``per_model_data``, with any registered add-on, without
    ``workdir``.
    See :func:`vmap_unsupported_reason` for the cause and its limits."""
    return vmap_unsupported_reason(method, addons, module=module, workdir=workdir) is None


def _check_keys(keys: Any, count: int) -> list[int]:
    if isinstance(keys, (str, bytes)) or np.ndim(keys) != 1:
        raise ValueError(f"keys: expected a sequence of {count} int seeds (one per model), "
                         f"got {keys!r}")
    keys = list(keys)
    if len(keys) != count:
        raise ValueError(f"keys: got {len(keys)} seeds for {count} stacked models; pass one per "
                         "model")
    for key in keys:
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)) or key < 0:
            raise ValueError(f"keys: every seed must be an int >= 0, got {key!r}")
    return [int(key) for key in keys]


@dataclasses.dataclass
class _ModelPlan:
    """One model's run as :func:`unlearn` sets it up, before the loop."""

    hyper: dict
    tx: optax.GradientTransformation
    state: Any
    forget_inputs: Any  # None: the splits' forget set
    forget_labels: Any
    retain_inputs: Any  # None: the splits' retain set
    retain_labels: Any
    retain_order: Any  # None: a fresh shuffle every epoch
    aux: Any
    log: dict
    microbatches: int
    num_forget: int
    total_steps: int
    per_epoch: int


def _plan_model(model_fns, variables, splits, method, resolved, hyper, key, steps, tx, module,
                device_count) -> _ModelPlan:
    plan = plan_run(model_fns, variables, splits, method, resolved, hyper, key, steps, tx,
                    module, device_count)
    prepared = plan.prepared
    return _ModelPlan(plan.hyper, plan.tx, create_train_state(plan.variables, plan.tx, key),
                      prepared.forget_inputs, prepared.forget_labels, prepared.retain_inputs,
                      prepared.retain_labels, plan.retain_fixed_order(), prepared.aux,
                      prepared.log, plan.microbatches, plan.num_forget, plan.total_steps,
                      plan.per_epoch)


def _sequential(model_fns, stacked_variables, splits, method, keys, reason, *, workdir,
                **options) -> UnlearnManyResult:
    results = []
    for index, key in enumerate(keys):
        result = unlearn(model_fns, unstack_model(stacked_variables, index), splits, method,
                         key=key, workdir=None if workdir is None else f"{workdir}/model_{index}",
                         **options)
        result.log.update(vmapped=False, vmap_fallback_reason=reason, num_models=len(keys),
                          model_index=index)
        results.append(result)
    return UnlearnManyResult(stack_models([r.variables for r in results]),
                             [r.log for r in results])


def unlearn_many(
    model_fns: Any,
    stacked_variables: Any,
    splits: Any,
    method: str | Method,
    *,
    keys: Sequence[int],
    steps: int | None = None,
    epochs: int | None = None,
    tx: optax.GradientTransformation | None = None,
    addons: Sequence[Any] = (),
    hyperparams: dict | None = None,
    module: Any = None,
    progress: bool = True,
    workdir: str | None = None,
    callbacks: Sequence[Callable[[int, dict], None]] = (),
    sequential_fallback: bool = True,
) -> UnlearnManyResult:
    """Unlearn ``splits.forget_set`` from M stacked models with one vmapped, jitted step.

    Model ``m`` follows :func:`~jaxunlearn.methods.unlearn` with ``key=keys[m]`` exactly (same
    preparation, data orders, optimizer and add-on chain), up to floating-point reassociation
    of the batched computation; the module docstring says what is vmapped and what falls back.

    Args:
      model_fns: ``ModelFns`` (``init``, ``apply``), shared by the models.
      stacked_variables: the M original models' variables, every leaf with a leading model
        axis (e.g. from :func:`~jaxunlearn.train.train_many` or
        :func:`~jaxunlearn.train.stack_models`).
      splits: :class:`jaxunlearn.data.Splits`, shared.
      method: a registered name or a :class:`~jaxunlearn.methods.Method`.
      keys: M int seeds, ``keys[m]`` the ``key`` of model ``m``'s run.
      steps / epochs / tx / addons / hyperparams / module: as in
        :func:`~jaxunlearn.methods.unlearn`, the same for every model.
      progress: show one progress bar for the M models.
      workdir: checkpoint each model under ``workdir/model_{m}`` (runs them one by one).
      callbacks: ``callback(step, metrics)`` after every step, ``metrics`` holding one value
        per model (shape ``(M,)``); when the models run one by one, each run calls them with
        its own scalar metrics.
      sequential_fallback: when the models cannot be vmapped, run them one by one with
        :func:`~jaxunlearn.methods.unlearn` (``True``) or raise a ``ValueError`` (``False``).

    Returns:
      :class:`UnlearnManyResult` (stacked variables, M logs, each with ``"vmapped"``).

    Raises:
      ValueError: stacked leaves without a common leading axis (``stacked_variables``), not one
        seed per model (``keys``), an empty forget set, and whatever
        :func:`~jaxunlearn.methods.unlearn` rejects, before anything compiles.
    """
    method = get_method(method)
    check_fixed_update(method, tx, addons)
    count = num_models(stacked_variables)
    if not isinstance(stacked_variables, dict) or "params" not in stacked_variables:
        raise ValueError("stacked_variables: expected a dict with a 'params' collection")
    keys = _check_keys(keys, count)
    if len(splits.forget_indices) == 0:
        raise ValueError("splits: the forget set is empty")
    if method.class_unlearning and not forget_classes(splits):
        raise ValueError(
            f"method {method.name!r} unlearns whole classes; make the splits with forget_classes=")
    options = dict(steps=steps, epochs=epochs, tx=tx, addons=addons, hyperparams=hyperparams,
                   module=module, progress=progress, callbacks=callbacks)

    def not_vmapped(reason: str) -> UnlearnManyResult:
        if not sequential_fallback:
            raise ValueError(f"unlearn_many cannot vmap this run: {reason} "
                             "(pass sequential_fallback=True to run the models one by one)")
        return _sequential(model_fns, stacked_variables, splits, method, keys, reason,
                           workdir=workdir, **options)

    reason = vmap_unsupported_reason(method, addons, module=module, workdir=workdir)
    if reason is not None:
        return not_vmapped(reason)
    hyper = method.hyperparameters(hyperparams)
    if epochs is not None:
        hyper["epochs"] = int(epochs)
    resolved = resolve_addons(method.addon_specs(addons, hyper), method, module)
    default_mesh = make_mesh()  # unlearn()'s mesh: the recipe (batch rounding) follows it
    check_divisible(hyper["batch_size"], default_mesh, "hyperparams.batch_size")
    if hyper["forget_batch_size"]:
        check_divisible(hyper["forget_batch_size"], default_mesh, "hyperparams.forget_batch_size")

    started = time.perf_counter()
    plans = [_plan_model(model_fns, unstack_model(stacked_variables, index), splits, method,
                         resolved, hyper, key, steps, tx, module, default_mesh.size)
             for index, key in enumerate(keys)]
    first = plans[0]
    hyper, num_forget, total_steps, per_epoch = (first.hyper, first.num_forget, first.total_steps,
                                                 first.per_epoch)
    forget_set, retain = splits.forget_set, splits.retain_set
    mesh = make_mesh(jax.devices()[:1])
    augmentation = splits.train.augmentation if hyper.get("augment", True) else None

    forget_keys = [stream_key(plan.state.key, FORGET_STREAM) for plan in plans]
    retain_keys = [stream_key(plan.state.key, RETAIN_STREAM) for plan in plans]

    def orders(stream_keys, size, batch_size, epoch):
        return jnp.stack([epoch_order(key, epoch, size, batch_size)
                          for key in stream_keys])

    fixed_retain = None

    try:
        if any(plan.hyper != hyper or plan.num_forget != num_forget for plan in plans[1:]):
            raise _NotVmappable("the models' hyperparameters or forget-set sizes differ after "
                                "prepare")
        forget_inputs, forget_axis = _per_model_or_shared(
            [plan.forget_inputs for plan in plans], forget_set.inputs, "forget_inputs")
        forget_labels, labels_axis = _per_model_or_shared(
            [plan.forget_labels for plan in plans], forget_set.labels, "forget_labels")
        retain_inputs, retain_axis = _shared_if_equal(
            [plan.retain_inputs for plan in plans], retain.inputs, "retain_inputs")
        retain_labels, retain_labels_axis = _shared_if_equal(
            [plan.retain_labels for plan in plans], retain.labels, "retain_labels")
        num_retain = len(retain_labels) if retain_labels_axis is None else retain_labels.shape[1]
        fixed_orders = [plan.retain_order for plan in plans]
        if any(order is None for order in fixed_orders) != all(order is None
                                                               for order in fixed_orders):
            raise _NotVmappable("some models' preparations fix the retain order and some do not")
        aux = _stack([plan.aux for plan in plans], "prepare's aux")
        if not all(same_update(plan.tx, first.tx) for plan in plans[1:]):
            raise _NotVmappable("the Optax chains' update programs differ between models (a "
                                "transform's update closes over a per-model value; keep such "
                                "values in its state)")
        states = _stack([plan.state for plan in plans], "the state")
        if fixed_orders[0] is not None:
            fixed_retain = jnp.stack(fixed_orders)
    except _NotVmappable as error:
        return not_vmapped(str(error))

    state = jax.tree.map(lambda leaf: leaf.copy(), replicate(states, mesh))
    arrays = replicate((jnp.asarray(forget_inputs), jnp.asarray(forget_labels, jnp.int32),
                        jnp.asarray(retain_inputs), jnp.asarray(retain_labels, jnp.int32), aux),
                       mesh)
    step = build_unlearn_step(  # the first model's chain: its update is every model's
        method, model_fns.apply, first.tx, hyper=hyper, num_forget=num_forget,
        num_retain=num_retain, num_classes=splits.train.num_classes, mesh=mesh,
        augmentation=augmentation, stats_microbatches=first.microbatches)
    step_fn = jax.jit(
        jax.vmap(step, in_axes=(0, 0, 0, forget_axis, labels_axis, retain_axis,
                                retain_labels_axis, 0)),
        donate_argnums=(0,), out_shardings=(replicated(mesh), replicated(mesh)))

    histories: list[list[dict]] = [[] for _ in plans]

    def on_epoch(done, state, sums, steps_summed):
        host = {name: np.asarray(value) for name, value in sums.items()}
        for index, history in enumerate(histories):
            history.append({"epoch": -(-done // per_epoch), "step": done,
                            **{name: float(value[index]) / steps_summed
                               for name, value in host.items()}})
        return {name: np.mean([h[-1][name] for h in histories])  # the mean over the models
                for name in host if name.endswith("loss")}

    bar = progress_bar(total_steps, f"{method.name} x{count}", enabled=progress)
    try:
        state = run_loop(
            step_fn, state, arrays, start=0, total_steps=total_steps, per_epoch=per_epoch,
            callbacks=callbacks, bar=bar, on_epoch=on_epoch,
            orders=stream_orders(
                lambda stream, size, batch, epoch: orders(
                    (forget_keys, retain_keys)[stream], size, batch, epoch),
                num_forget, num_retain, hyper, fixed_retain))
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    logs = [{"method": method.name, "hyperparams": dict(hyper),
             "addons": [str(a) for a in resolved], "steps": total_steps,
             "steps_per_epoch": per_epoch, "seconds": seconds, "history": history,
             "resumed_from": None, "key": key, **plan.log, "vmapped": True, "num_models": count,
             "model_index": index}
            for index, (key, plan, history) in enumerate(zip(keys, plans, histories))]
    return UnlearnManyResult(method.result_variables(state_variables(state)), logs)
