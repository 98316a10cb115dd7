"""Asymmetric Langevin Unlearning (Inane, Quirion, Dziugaite & Mitliagkas, ICML 2026): continue
the projected noisy gradient dynamics of Chien, Wang, Chen & Li (NeurIPS 2024, Eq. (2)) on the
retain set **and** the public set,

    θ ← Π_{C_R}( θ − η Σ_i a_i clip_M(∇CE_i(θ) + m θ) + √(2ησ²) W ),   i ∈ D_r ∪ D_pub,

with per-example clipping (``regularizer="after"`` adds m θ after the clip), a_i uniform over
D_r ∪ D_pub (or public mass ``public_weight`` w), mini-batches cut from one fixed permutation per
run and cycled every epoch (noisy SGD; a ``batch_size`` ≥ |D_r ∪ D_pub| is full-batch PNGD, the
setting of the certificate). Without a public set it is symmetric Langevin unlearning with
per-example clipping. ``weight_decay`` is m.

The generic step reads one retain and one forget stream and clips nothing per example, so this
method runs its own program (:mod:`jaxunlearn.alu.dynamics`, one ``lax.scan`` under one
``jax.jit``) through the ``run`` hook of :func:`jaxunlearn.methods.unlearn`. It never reads the
forget set. The certificate (:meth:`ALUMethod.certify`, ``jaxunlearn unlearn --epsilon``) holds
only for an m-strongly convex, (1/4 + m)-smooth loss (logistic regression on unit-norm features)
whose original model was learned by the same dynamics on D ∪ D_pub; for other models the method
is an empirical one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.alu.clipping import REGULARIZERS
from jaxunlearn.alu.dynamics import LangevinDynamics, as_key, build_run, chain_permutation
from jaxunlearn.alu.objective import alu_data, check_weighting
from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.base import Batch, Method, TermContext, logits_of, register_method

# fold_in tag of the run's permutation (the noise key is ``noise_seed``)
_ORDER_TAG = 0xA1C


def alu_cross_entropy(params, model_state, batch: Batch, context: TermContext):
    """CE on a retain or public batch in eval mode: the dynamics sample from a fixed objective,
    so nothing in the loss may depend on the batch (no batch-norm statistics)."""
    logits, _ = logits_of(context, params, model_state, batch.inputs, train=False)
    return cross_entropy(logits, batch.labels, batch.weights), model_state


def _check_hyper(hyper: dict) -> None:
    if hyper["momentum"]:
        raise ValueError(f"hyperparams: alu has no momentum (Langevin dynamics), got momentum="
                         f"{hyper['momentum']}")
    for name, strict in (("sigma", False), ("clip_norm", True), ("weight_decay", False),
                         ("radius", False)):
        value = hyper[name]
        if isinstance(value, (bool, str)) or value < 0 or (strict and value == 0):
            raise ValueError(f"hyperparams: {name} must be {'>' if strict else '>='} 0, "
                             f"got {value!r}")
    if hyper["regularizer"] not in REGULARIZERS:
        raise ValueError(f"hyperparams: regularizer must be one of {REGULARIZERS}, got "
                         f"{hyper['regularizer']!r}")
    check_weighting(hyper["public_weight"], "hyperparams: public_weight")
    if isinstance(hyper["noise_seed"], bool) or not isinstance(hyper["noise_seed"], int) or (
            hyper["noise_seed"] < 0):
        raise ValueError(f"hyperparams: noise_seed must be an int >= 0, got "
                         f"{hyper['noise_seed']!r}")


def _dataset(splits, hyper):
    retain = splits.retain_set
    public = getattr(splits, "public", None)
    if public is None or len(public) == 0:
        return alu_data(retain.inputs, retain.labels, weighting=hyper["public_weight"]), 0
    return alu_data(retain.inputs, retain.labels, public.inputs, public.labels,
                    hyper["public_weight"]), len(public)


def run_alu(method: Method, model_fns: Any, variables: dict, splits: Any, hyper: dict, *,
            steps: int | None = None, key: int = 0, tx: Any = None, addons: Any = (),
            progress: bool = True, callbacks: Any = (), **unused: Any):
    """The ``run`` hook of :func:`jaxunlearn.methods.unlearn` for ``alu``.

    ``key`` seeds the mini-batch permutation, ``hyperparams.noise_seed`` the Langevin noise (W_t
    from ``fold_in(key(noise_seed), t)``, :func:`jaxunlearn.alu.step_noise`). Mesh, work
    directory and progress bar do not apply: the whole run is one compiled program, so there is
    nothing to checkpoint or resume.
    """
    from jaxunlearn.methods.run import UnlearnResult

    del unused, progress
    if tx is not None:
        raise ValueError("tx: alu runs its own Langevin dynamics and takes no optimizer")
    if tuple(addons):
        raise ValueError(f"addons: alu takes no add-ons (its update is Chien et al.'s Eq. (2) "
                         f"exactly), got {list(addons)}")
    _check_hyper(hyper)
    started = time.perf_counter()
    data, num_public = _dataset(splits, hyper)
    size = len(data)
    full_batch = hyper["batch_size"] >= size
    per_epoch = 1 if full_batch else math.ceil(size / hyper["batch_size"])
    total_steps = steps if steps is not None else hyper["epochs"] * per_epoch
    if total_steps < 1:
        raise ValueError(f"steps must be >= 1, got {total_steps}")
    if not hyper["forget_batch_size"]:
        hyper["forget_batch_size"] = max(1, math.ceil(len(splits.forget_indices) / per_epoch))

    params = variables["params"]
    model_state = {name: value for name, value in variables.items() if name != "params"}
    context = TermContext(model_fns.apply, {}, hyper, jax.random.key(int(key)), jnp.int32(0),
                          per_epoch, splits.train.num_classes)
    term = method.retain_term

    def loss_fn(theta, x, y):
        batch = Batch(x[None], y[None], jnp.ones((1,), jnp.float32), jnp.zeros((1,), jnp.int32))
        return term(theta, model_state, batch, context)[0]

    dynamics = LangevinDynamics(loss_fn, step_size=hyper["learning_rate"], sigma=hyper["sigma"],
                                clip_norm=hyper["clip_norm"], regularization=hyper["weight_decay"],
                                regularizer=hyper["regularizer"], radius=hyper["radius"])
    run = build_run(loss_fn, hyper["regularizer"], int(total_steps),
                    None if full_batch else hyper["batch_size"])
    order = chain_permutation(jax.random.fold_in(as_key(int(key)), _ORDER_TAG), size)
    new_params, losses = run(params, data.inputs, data.labels, data.weights, order,
                             jax.random.key(hyper["noise_seed"]), dynamics.scalars())
    losses = np.asarray(jax.block_until_ready(losses), np.float64)

    history = []
    for end in range(per_epoch, total_steps + per_epoch, per_epoch):
        end = min(end, total_steps)
        start = history[-1]["step"] if history else 0
        history.append({"epoch": -(-end // per_epoch), "step": end,
                        "retain_loss": float(losses[start:end].mean())})
        if end == total_steps:
            break
    for step, value in enumerate(losses, start=1):
        for callback in callbacks:
            callback(step, {"retain_loss": float(value)})
    log = {
        "method": method.name, "hyperparams": hyper, "addons": [], "steps": int(total_steps),
        "steps_per_epoch": per_epoch, "seconds": time.perf_counter() - started,
        "history": history, "resumed_from": None, "key": key,
        "retain_size": size - num_public, "public_size": num_public, "full_batch": full_batch,
    }
    return UnlearnResult({"params": new_params, **model_state}, log)


def certify(hyper: dict, *, num_private: int, num_public: int, num_deleted: int,
            target_epsilon: float | None = None, steps: int | None = None,
            delta: float | None = None) -> dict:
    """The strongly convex certificate of a full-batch ``alu`` run (alu.md §1.2 and §4.2).

    Give ``target_epsilon`` to pick the smallest K (``langevin_steps_for_target``) or ``steps``
    for the ε of K steps. Constants: σ = ``sigma``, η = ``learning_rate``, m = ``weight_decay``,
    M = ``clip_norm``, public weight from ``public_weight``, remove-S adjacency (the method
    trains on the retain set); δ defaults to 1/(n_private + n_public).

    Returns:
      ``{"steps": K, **langevin_epsilon(...)}``.
    """
    from jaxunlearn.certify import langevin_epsilon, langevin_steps_for_target

    _check_hyper(hyper)
    if (target_epsilon is None) == (steps is None):
        raise ValueError("give exactly one of target_epsilon and steps")
    if not hyper["weight_decay"] > 0:
        raise ValueError("hyperparams: weight_decay (the strong convexity m) must be > 0 for a "
                         "certificate")
    if not hyper["sigma"] > 0:
        raise ValueError("hyperparams: sigma must be > 0 for a certificate")
    weighting = hyper["public_weight"]
    kwargs = {"sigma": hyper["sigma"], "n_private": int(num_private),
              "n_public": int(num_public), "num_deleted": int(num_deleted),
              "clip_norm": hyper["clip_norm"], "strong_convexity": hyper["weight_decay"],
              "step_size": hyper["learning_rate"], "delta": delta,
              "public_weight": None if weighting == "uniform" else float(weighting),
              "adjacency": "remove"}
    if target_epsilon is not None:
        if not target_epsilon > 0:
            raise ValueError(f"target_epsilon must be > 0, got {target_epsilon}")
        steps = int(langevin_steps_for_target(float(target_epsilon), **kwargs))
    return {"steps": int(steps), **langevin_epsilon(steps=int(steps), **kwargs)}


@dataclasses.dataclass(frozen=True)
class ALUMethod(Method):
    """A :class:`Method` that runs its own program.

    Attributes:
      run: ``run(method, model_fns, variables, splits, hyper, **options) -> UnlearnResult``,
        called by :func:`jaxunlearn.methods.unlearn` instead of the generic step.
      uses_public: the method trains on ``splits.public``.
      certify: the certificate function (:func:`certify`).
    """

    run: Callable | None = None
    uses_public: bool = True
    certify: Callable | None = None


ALU = register_method(ALUMethod(
    name="alu",
    summary="ALU: per-example-clipped projected noisy GD on D_r ∪ D_pub (Inane et al. 2026; "
            "Chien et al. 2024, Eq. (2))",
    retain_term=alu_cross_entropy,
    primary="retain",
    defaults={"epochs": 5, "learning_rate": 0.05, "momentum": 0.0, "weight_decay": 1e-3,
              "sigma": 0.01, "clip_norm": 1.0, "radius": 0.0, "regularizer": "inside",
              "public_weight": "uniform", "noise_seed": 0},
    run=run_alu,
    certify=certify,
))
