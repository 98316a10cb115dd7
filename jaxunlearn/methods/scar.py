"""SCAR (Bonato, Cotogni & Sabetta, "Is Retain Set All You Need in Machine Unlearning? Restoring
Performance of Unlearned Models with Out-Of-Distribution Images", ECCV 2024), class removal, as
the authors' code runs it (``jbonato1/SCAR``, ``src/Unlearning_methods.py: SCAR.run``,
``cov_mat_shrinkage``, ``normalize_cov``, ``mahalanobis_dist``, ``distill``; defaults in
``src/opts.py``). The paper's text could only be read as its abstract; the formulas follow the
code.

Before the first step, from the retain set's penultimate features f(x) (the input of the output
layer ``head_name``; original model, eval mode, training augmentation), for each remaining class
c: the Tukey transform t(f) = f^δ (δ = 0.5), the mean μ_c and the unbiased covariance Σ_c of t(f),
shrunk twice by Σ ← Σ + γ1 V1 I + γ2 V2 (11ᵀ − I) (V1 the mean variance, V2 the mean non-zero
off-diagonal entry; γ1 = γ2 = 3), turned into a correlation matrix R_c, and S_c = pinv(R_c).
Each step then minimises

    λ1 · mean_{x ∈ forget batch} d_{c*(x)}(f_θ(x)) + λ2 · KL(softmax(o/T) ‖ softmax(s))

- the squared Mahalanobis distance d_c(z) = (ẑ − μ̂_c)ᵀ S_c (ẑ − μ̂_c), ẑ = t(z)/‖t(z)‖ and
  μ̂_c = μ_c/‖μ_c‖, to the nearest other class c*(x) (argmin of d_c over the remaining classes),
  λ1 = 1;
- the distillation on *surrogate* data (the retain stream here is ``splits.public``; the paper's
  is ImageNet images for CIFAR): o the frozen original's logits, s the student's, T = 1, only the
  teacher tempered; rows the teacher assigns to a forgotten class are dropped and the forgotten
  classes' teacher logits set to the minimum of the kept teacher logits; λ2 = 5;
- Adam at 5e-4, no weight decay, batch 1024 for both streams, batch norm in train mode.

Differences from the code, all forced by the engine or deliberate:
- c*(x) is chosen once per forget example in ``prepare``, at the original model (eval mode). The
  code picks it at the first epoch's first step of each forget batch, at the parameters of that
  moment; for a forget set of one batch (every setting here) that is the original model in train
  mode.
- t(z) = z^δ has an infinite slope at z = 0, which the code's ``torch.pow`` turns into NaN for
  a ReLU feature that is exactly 0; here its gradient there is 0.
- The code takes 6 steps per forget batch (each with a new surrogate batch) and stops once the
  forget accuracy is below 1 % after the second epoch; here an epoch is one pass over the
  surrogate batches (the forget stream cycles beside it) and ``epochs`` is tuned instead of
  stopping early.
- The code's e^{1e-4} factor on the KL (from adding 1e-4 to both log-probabilities) is left out.
- The class-removal index quirk (nearest positions among C − 1 classes compared with the original
  label) does not arise: the forgotten classes are never candidates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.methods.base import (
    Method, Prepared, adam_coupled_decay, head_input, logits_of, register_method,
)
from jaxunlearn.methods.run import forget_classes
from jaxunlearn.train import keys
from jaxunlearn.train.augment import augment


def tukey(features: jax.Array, delta: float) -> jax.Array:
    """t(z) = z^δ on z ≥ 0 (0 elsewhere), with slope 0 instead of ∞ at z = 0."""
    positive = features > 0
    return jnp.where(positive, jnp.where(positive, features, 1.0) ** delta, 0.0)


def shrink(covariance: np.ndarray, gamma1: float, gamma2: float) -> np.ndarray:
    """Σ + γ1 V1 I + γ2 V2 (11ᵀ − I): V1 the mean diagonal entry, V2 the mean of the non-zero
    off-diagonal entries (the code's ``cov_mat_shrinkage``)."""
    size = len(covariance)
    off = covariance * (1.0 - np.eye(size))
    nonzero = off != 0.0
    v1 = np.mean(np.diag(covariance))
    v2 = off[nonzero].sum() / max(int(nonzero.sum()), 1)
    return covariance + gamma1 * v1 * np.eye(size) + gamma2 * v2 * (1.0 - np.eye(size))


def class_statistics(features: np.ndarray, labels: np.ndarray, classes, delta: float,
                     gamma1: float, gamma2: float) -> tuple[np.ndarray, np.ndarray]:
    """``(normalised means [K, d], inverse correlations [K, d, d])`` of t(f) per class in
    ``classes``, float64: two shrinkages, then correlation, then the pseudo-inverse."""
    transformed = np.where(features > 0, features, 0.0) ** delta
    means, inverses = [], []
    for c in classes:
        rows = transformed[labels == c]
        if len(rows) < 2:
            raise ValueError(f"scar: retained class {c} has {len(rows)} retain example(s); its "
                             "covariance needs at least 2")
        covariance = shrink(shrink(np.cov(rows, rowvar=False), gamma1, gamma2), gamma1, gamma2)
        sigma = np.sqrt(np.diag(covariance))
        correlation = covariance / np.outer(sigma, sigma)
        means.append(rows.mean(axis=0) / max(np.linalg.norm(rows.mean(axis=0)), 1e-300))
        inverses.append(np.linalg.pinv(correlation))
    return np.stack(means), np.stack(inverses)


def mahalanobis(features: jax.Array, means: jax.Array, inverses: jax.Array,
                delta: float) -> jax.Array:
    """[B, K] squared distances d_c of the normalised, Tukey-transformed ``features``."""
    z = tukey(features, delta)
    z = z / jnp.maximum(jnp.linalg.norm(z, axis=-1, keepdims=True), 1e-12)
    diff = z[:, None, :] - means[None]
    return jnp.einsum("bkd,kde,bke->bk", diff, inverses, diff)


_WHY = "SCAR reads the output layer's input"


def _forget(params, model_state, batch, context):
    hyper, aux = context.hyper, context.aux
    _, new_state, features = head_input(
        context.apply_fn, {"params": params, **model_state}, batch.inputs, True,
        hyper["head_name"], _WHY, context.key)
    distances = mahalanobis(features, aux["means"], aux["inverses"], hyper["delta"])
    targets = aux["targets"][batch.indices]
    chosen = jnp.take_along_axis(distances, targets[:, None], axis=1)[:, 0]
    weights = batch.weights
    loss = jnp.sum(weights * chosen) / jnp.maximum(jnp.sum(weights), 1.0)
    return hyper["lambda_forget"] * loss, new_state


def _surrogate(params, model_state, batch, context):
    hyper, aux = context.hyper, context.aux
    student, new_state = logits_of(context, params, model_state, batch.inputs)
    teacher, _ = context.apply_fn(aux["teacher"], batch.inputs, False)
    teacher = jax.lax.stop_gradient(teacher.astype(jnp.float32))
    forgotten = jnp.zeros((teacher.shape[-1],), bool).at[aux["forgotten"]].set(True)
    keep = batch.weights * (~forgotten[jnp.argmax(teacher, axis=-1)]).astype(jnp.float32)
    floor = jnp.min(jnp.where(keep[:, None] > 0, teacher, jnp.inf))
    floor = jnp.where(jnp.isfinite(floor), floor, 0.0)  # no row kept: the KL weighs nothing
    teacher = jnp.where(forgotten[None], floor, teacher) / hyper["temperature"]
    target = jax.nn.log_softmax(teacher)
    per_row = jnp.sum(jnp.exp(target) * (target - jax.nn.log_softmax(student)), axis=-1)
    kl = jnp.sum(keep * per_row) / jnp.maximum(jnp.sum(keep), 1.0)
    return hyper["lambda_retain"] * kl, new_state


def _prepare(model_fns, variables, splits, hyper, key):
    if getattr(splits, "public", None) is None or len(splits.public) == 0:
        raise ValueError("splits: scar distils on surrogate data and reads it from splits.public; "
                         "make the splits with public_size= or public_fraction= (or "
                         "public_source=, the paper's out-of-distribution images); from the "
                         "command line, train the original with --set data.public_source=<dataset> "
                         "--set data.public_size=<n>")
    forgotten = forget_classes(splits)
    classes = [c for c in range(splits.train.num_classes) if c not in forgotten]
    retain = splits.retain_set
    augmentation = splits.train.augmentation if hyper.get("augment", True) else None
    inputs = augment(keys.scar_key(key), jnp.asarray(retain.inputs), augmentation)
    head = hyper["head_name"]
    _, _, features = head_input(model_fns.apply, variables, inputs, False, head, _WHY)
    means, inverses = class_statistics(np.asarray(features, np.float64), np.asarray(retain.labels),
                                       classes, hyper["delta"], hyper["gamma1"], hyper["gamma2"])
    _, _, forget_features = head_input(model_fns.apply, variables,
                                       jnp.asarray(splits.forget_set.inputs), False, head, _WHY)
    distances = mahalanobis(forget_features, jnp.asarray(means, jnp.float32),
                            jnp.asarray(inverses, jnp.float32), hyper["delta"])
    public = splits.public
    # a batch larger than its stream is the whole stream: cap both (to a multiple of 8, so that
    # it still divides over a mesh), which spares the step the padding rows' work
    capped = {name: min(int(hyper[name]), -(-count // 8) * 8)
              for name, count in (("forget_batch_size", len(splits.forget_set)),
                                  ("batch_size", len(public)))}
    return Prepared(
        hyper={name: size for name, size in capped.items() if size < hyper[name]},
        aux={"teacher": variables, "means": jnp.asarray(means, jnp.float32),
             "inverses": jnp.asarray(inverses, jnp.float32),
             "targets": jnp.argmin(distances, axis=1).astype(jnp.int32),
             "forgotten": jnp.asarray(forgotten, jnp.int32)},
        retain_inputs=np.asarray(public.inputs), retain_labels=np.asarray(public.labels, np.int32),
        log={"surrogate_size": int(len(public)), "feature_width": int(features.shape[-1])})


def _validate(hyper: dict) -> None:
    for name in ("delta", "temperature"):
        if not hyper[name] > 0:
            raise ValueError(f"hyperparams: {name} must be > 0, got {hyper[name]!r}")
    for name in ("gamma1", "gamma2", "lambda_forget", "lambda_retain"):
        if not hyper[name] >= 0:
            raise ValueError(f"hyperparams: {name} must be >= 0, got {hyper[name]!r}")
    if not isinstance(hyper["head_name"], str) or not hyper["head_name"]:
        raise ValueError(f"hyperparams: head_name must be the output layer's submodule name, "
                         f"got {hyper['head_name']!r}")


SCAR = register_method(Method(
    name="scar",
    summary="SCAR: Mahalanobis pull of D_f features to the nearest other class + distillation on "
            "surrogate data (Bonato et al., ECCV 2024; jbonato1/SCAR SCAR.run)",
    forget_term=_forget,
    retain_term=_surrogate,
    primary="retain",
    defaults={"epochs": 30, "learning_rate": 5e-4, "momentum": 0.0, "weight_decay": 0.0,
              "batch_size": 1024, "forget_batch_size": 1024, "delta": 0.5, "gamma1": 3.0,
              "gamma2": 3.0, "lambda_forget": 1.0, "lambda_retain": 5.0, "temperature": 1.0,
              "head_name": "head"},
    optimizer=adam_coupled_decay,
    prepare=_prepare,
    validate=_validate,
    class_unlearning=True,
))
