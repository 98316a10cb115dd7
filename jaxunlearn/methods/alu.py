"""Asymmetric Langevin Unlearning (Inane, Quirion, Dziugaite & Mitliagkas, ICML 2026): continue
the projected noisy gradient dynamics of Chien, Wang, Chen & Li (NeurIPS 2024, Eq. (2)) on the
retain set **and** the public set,

    θ ← Π_{C_R}( θ − η Σ_i a_i clip_M(∇CE_i(θ) + m θ) + √(2ησ²) W ),   i ∈ D_r ∪ D_pub,

with per-example clipping (``regularizer="after"`` adds m θ after the clip), a_i uniform over
D_r ∪ D_pub (or public mass ``public_weight`` w), mini-batches cut from one fixed permutation per
run and cycled every epoch (noisy SGD; a ``batch_size`` ≥ |D_r ∪ D_pub| is full-batch PNGD, the
setting of the certificate). Without a public set it is symmetric Langevin unlearning with
per-example clipping. ``weight_decay`` is m.

It runs on the engine like every method: ``prepare`` replaces the retain stream by D_r ∪ D_pub
(with the weights a_i, read per row through ``Batch.indices``) and fixes its order; the retain
term's step direction is the per-example-clipped gradient (:mod:`jaxunlearn.alu.clipping`,
``Method.retain_value_and_grad``); the update is the library's one Langevin chain
(:func:`jaxunlearn.transforms.langevin_dynamics`: ``sgd(η)``, Langevin noise from ``noise_seed``,
projection for R > 0), the same program :mod:`jaxunlearn.alu.dynamics` scans for its audits. It
never reads the forget set, and takes no other optimizer and no add-ons (the certificate is for
this update). The certificate (:meth:`ALUMethod.certify`, ``jaxunlearn unlearn --epsilon``) holds
only for an m-strongly convex, (1/4 + m)-smooth loss (logistic regression on unit-norm features)
whose original model was learned by the same dynamics on D ∪ D_pub; for other models the method
is an empirical one. The public set is method configuration: :meth:`ALUMethod.public_request`
reads ``--public``'s ``fraction=…,size=…,skew=…,corruption=…``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax.numpy as jnp
import numpy as np

from jaxunlearn.alu.clipping import REGULARIZERS, clipped_value_and_grad
from jaxunlearn.alu.dynamics import chain_permutation
from jaxunlearn.alu.objective import alu_data, check_weighting
from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.base import Batch, Method, Prepared, TermContext, logits_of, register_method
from jaxunlearn.train.keys import alu_order_key
from jaxunlearn.transforms import langevin_dynamics

# the Prepared.aux key of the a_i of D_r ∪ D_pub, one per row of the retain stream
EXAMPLE_WEIGHTS = "example_weights"


def alu_cross_entropy(params, model_state, batch: Batch, context: TermContext):
    """CE on a retain or public batch in eval mode: the dynamics sample from a fixed objective,
    so nothing in the loss may depend on the batch (no batch-norm statistics)."""
    logits, _ = logits_of(context, params, model_state, batch.inputs, train=False)
    return cross_entropy(logits, batch.labels, batch.weights), model_state


def check_hyper(hyper: dict) -> None:
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


def _prepare(model_fns, variables, splits, hyper, key):
    """D_r ∪ D_pub as the retain stream, with its a_i and one fixed permutation (from ``key``);
    full batch when ``batch_size`` ≥ |D_r ∪ D_pub|."""
    del model_fns, variables
    data, num_public = _dataset(splits, hyper)
    size = len(data)
    full_batch = hyper["batch_size"] >= size
    order = chain_permutation(alu_order_key(key), size)
    return Prepared(
        aux={EXAMPLE_WEIGHTS: jnp.asarray(data.weights, jnp.float32)},
        retain_inputs=np.asarray(data.inputs), retain_labels=np.asarray(data.labels, np.int32),
        retain_order=np.asarray(order), hyper={"batch_size": size} if full_batch else {},
        log={"retain_size": size - num_public, "public_size": num_public,
             "full_batch": full_batch})


def clipped_gradient(term, params, model_state, batch: Batch, context: TermContext):
    """The retain term's step direction: Σ_i a_i clip_M(∇CE_i(θ) [+ m θ]) [+ m θ] over the
    batch's rows (CE_i the ``term`` on row i alone), a_i normalised over the batch (padding
    weighs 0), by :func:`jaxunlearn.alu.clipping.clipped_value_and_grad`; the loss is
    Σ_i a_i CE_i."""
    hyper = context.hyper
    weights = batch.weights * context.aux[EXAMPLE_WEIGHTS][batch.indices]

    def loss_fn(theta, x, y):
        one = Batch(x[None], y[None], jnp.ones((1,), jnp.float32), jnp.zeros((1,), jnp.int32))
        return term(theta, model_state, one, context)[0]

    loss, grads = clipped_value_and_grad(
        loss_fn, params, (batch.inputs, batch.labels), hyper["clip_norm"],
        hyper["weight_decay"], hyper["regularizer"], weights)
    return (loss, model_state), grads


def _optimizer(hyper, total_steps):
    del total_steps
    return langevin_dynamics(hyper["learning_rate"], hyper["sigma"], int(hyper["noise_seed"]),
                             hyper["radius"])


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

    check_hyper(hyper)
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


_PUBLIC_KEYS = {"fraction": "public_fraction", "size": "public_size",
                "skew": "public_class_skew", "corruption": "public_corruption"}


@dataclasses.dataclass(frozen=True)
class ALUMethod(Method):
    """A :class:`Method` that trains on public data and carries a certificate.

    Attributes:
      uses_public: the method trains on ``splits.public``.
      certify: the certificate function (:func:`certify`).
    """

    uses_public: bool = True
    certify: Callable | None = None

    @staticmethod
    def public_request(text: str, name: str = "--public") -> dict:
        """``make_splits``' public-set arguments from ``"fraction=0.3,skew=1"`` (a bare number is
        a fraction; keys ``fraction``, ``size``, ``skew``, ``corruption``; exactly one of
        fraction and size). Errors name ``name``."""
        request = {}
        for item in str(text).split(","):
            key, equals, value = item.partition("=")
            if not equals:
                key, value = "fraction", item
            if key not in _PUBLIC_KEYS:
                raise ValueError(f"{name}: unknown key {key!r}; use {sorted(_PUBLIC_KEYS)}")
            try:
                request[_PUBLIC_KEYS[key]] = int(value) if key == "size" else float(value)
            except ValueError:
                raise ValueError(f"{name}: {key}={value!r} is not a number") from None
        if ("public_fraction" in request) == ("public_size" in request):
            raise ValueError(f"{name}: give a fraction or size= (exactly one)")
        return request

    def certified_steps(self, hyperparams: dict, splits: Any, epsilon: float,
                        name: str = "--epsilon") -> tuple[int, dict, dict]:
        """The smallest certified K for ``epsilon`` on these splits, at full batch as the
        certificate assumes: ``(K, certificate, hyperparams with batch_size = |D_r ∪ D_pub|)``
        (K ≥ 1: a target K = 0 already meets still runs one step). A smaller ``batch_size``
        raises a ``ValueError`` naming ``name``."""
        num_public = 0 if splits.public is None else len(splits.public)
        size = len(splits.retain_indices) + num_public
        if hyperparams.get("batch_size", size) < size:
            raise ValueError(f"{name} certifies full-batch noisy GD: drop --hp batch_size or "
                             f"set it >= {size} (retain + public)")
        hyperparams = {**hyperparams, "batch_size": size}
        certificate = self.certify(
            self.hyperparameters(hyperparams), num_private=len(splits.train),
            num_public=num_public, num_deleted=len(splits.forget_indices),
            target_epsilon=epsilon)
        certificate = {key: value.item() if hasattr(value, "item") else value  # NumPy scalars
                       for key, value in certificate.items()}
        return max(certificate["steps"], 1), certificate, hyperparams


ALU = register_method(ALUMethod(
    name="alu",
    summary="ALU: per-example-clipped projected noisy GD on D_r ∪ D_pub (Inane et al. 2026; "
            "Chien et al. 2024, Eq. (2))",
    retain_term=alu_cross_entropy,
    primary="retain",
    defaults={"epochs": 5, "learning_rate": 0.05, "momentum": 0.0, "weight_decay": 1e-3,
              "sigma": 0.01, "clip_norm": 1.0, "radius": 0.0, "regularizer": "inside",
              "public_weight": "uniform", "noise_seed": 0, "augment": False},
    optimizer=_optimizer,
    prepare=_prepare,
    validate=check_hyper,
    retain_value_and_grad=clipped_gradient,
    fixed_update="its update is Chien et al.'s Eq. (2) exactly, which its certificate assumes",
    certify=certify,
))
