"""AMUN, Adversarial Machine UNlearning (Ebrahimpour-Boroojeny, Sundaram, Chandrasekaran, ICML 2025,
arXiv 2503.00917): fine-tune on the training data together with adversarial examples of the forget
samples, labelled with the model's own (wrong) prediction on them.

As the authors run it (``Ali-E/AMUN``: ``build_advdataset.py`` builds D_adv, ``adversarial_unlearn.py``
fine-tunes; our notes in ``amun_fastclip_trw.md``):

* **D_adv**, built once from the original model in eval mode: for each forget sample, untargeted
  ℓ2 PGD on the cross-entropy of its label, 50 steps of size ε/10 from x (no random start), every
  iterate clamped to the pixel box [0, 1]; a sample stops at its first misclassified iterate; the
  others double ε (initial 0.04, in pixel units) and continue from where they stopped. The label is
  the model's prediction at x_adv; a sample it already misclassifies keeps x_adv = x with its
  predicted label. The authors double without a cap; here ``max_rounds`` is a safety cap (ε up to
  0.04 · 2^19), and a sample that never flips is reported (``amun_unflipped`` in the log and a
  warning), not silently dropped. Our data are normalised, ``(pixel − mean) / std``; the attack
  runs in pixel space (the model is applied to the renormalised input), so ε and the clamp are the
  authors' (``clamp_pixels=False`` for inputs that are not pixels in [0, 1]).
* **One shuffled stream**, the concatenation of a base set and D_adv, with plain cross-entropy,
  uniform over the concatenation. The base set names the variant:

  ===================== ================== ==========================================
  method                 stream             paper / authors' code
  ===================== ================== ==========================================
  ``amun``               D ∪ D_adv          the evaluated default (D = D_r ∪ D_f)
  ``amun_retain_adv``    D_r ∪ D_adv        "advonly" with the retain set
  ``amun_forget_adv``    D_f ∪ D_adv        without the retain set
  ``amun_adv_only``      D_adv              without the retain set, D_adv alone
  ===================== ================== ==========================================

  The base set keeps the dataset's augmentation; D_adv is never augmented (a shifted or flipped
  adversarial example is no longer adversarial; ``augment_adversarial=True`` is that ablation).
* **Schedule**: batch 128, SGD momentum 0.9, weight decay 5e-4 (coupled, as torch's SGD), 10 epochs
  of the stream, learning rate 0.01 multiplied by ``lr_decay`` = 0.1 every ``lr_decay_epochs`` = 1
  epoch (the authors tune lr ∈ {0.1 … 1e-5} × period ∈ {1, 5, 10}).
* **The authors' other variants**: ``amun_salun`` (their ``amun_sa``) multiplies the gradient by
  SalUn's mask of the original model (the ``salun_mask`` add-on, top ``salun_keep`` = 0.5 of the
  saliency on D_f); ``amun_l1`` (their ``amun_l1``) adds α·‖θ‖₁ to the loss with α = 5e-4, and as
  their loop does it, α is multiplied by (2 − 2e/E) after each epoch e (α during epoch e is
  α·Π_{j<e}(2 − 2j/E)). Both are hyperparameters of every variant (``salun_keep``, ``alpha_l1``;
  0 = off).
* **Smooth models** (FastClip originals, AMUN §5): the authors keep clipping while fine-tuning;
  ``spectral_max_norm`` > 0 adds the ``clip_spectral_norm`` add-on at that bound, every
  ``spectral_every_steps`` = 100 steps (``jaxunlearn unlearn`` inherits the original's bound).

``amun_two_stream`` keeps this library's earlier variant: a forget stream D_f ∪ D_adv and a retain
stream D_r, each averaged and summed (a forget or adversarial example then weighs about 4.5× a
retain one at 10 % forgetting), at a constant learning rate, ε₀ = 0.01. It is not the authors'
recipe; it composes with the masks (AND / PROB / focus), which need both streams.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.attacks import adversarial_examples_growing_radius
from jaxunlearn.methods.base import (
    AUGMENT_ROWS,
    Method,
    Prepared,
    register_method,
    sgd_coupled_decay,
)
from jaxunlearn.methods.terms import forget_cross_entropy, l1_norm, retain_cross_entropy

# The splits' sets each single-stream variant concatenates with D_adv.
_STREAMS = {"amun": ("retain", "forget"), "amun_retain_adv": ("retain",),
            "amun_forget_adv": ("forget",), "amun_adv_only": ()}


@functools.lru_cache(maxsize=32)
def pixel_apply(apply_fn, mean: tuple, std: tuple):
    """``apply_fn`` on pixel inputs: normalises them as the dataset's loader did (cached, so the
    jitted attack compiles once per model and dataset)."""
    mean_array, std_array = np.asarray(mean, np.float32), np.asarray(std, np.float32)

    def apply(variables, pixels, train, rng=None):
        return apply_fn(variables, (pixels - mean_array) / std_array, train, rng=rng)

    return apply


def pixels_in_unit_box(dataset) -> np.ndarray:
    """``dataset``'s inputs in pixel units, ``inputs · std + mean`` (float32), for the attacks that
    step and clamp in the pixel box [0, 1] (AMUN's, Boundary Shrink's).

    Raises:
      ValueError: the pixels leave [0, 1] by more than 1e-3 (inputs that are not normalised
        pixels: the caller should pass ``clamp_pixels=False``).
    """
    pixels = (np.asarray(dataset.inputs, np.float32) * np.asarray(dataset.std, np.float32)
              + np.asarray(dataset.mean, np.float32))
    if pixels.min() < -1e-3 or pixels.max() > 1 + 1e-3:
        raise ValueError(
            "hyperparams: clamp_pixels=True needs inputs that are (pixel - mean) / std with "
            f"pixels in [0, 1], but the forget set spans [{pixels.min():.3g}, "
            f"{pixels.max():.3g}] in pixel units; pass clamp_pixels=False")
    return pixels


def adversarial_set(apply_fn, variables, dataset, *, initial_epsilon: float = 0.04,
                    growth: float = 2.0, max_rounds: int = 20, pgd_steps: int = 50,
                    clamp_pixels: bool = True, batch_size: int = 128):
    """AMUN's D_adv for ``dataset`` (the forget set), as ``build_advdataset.py`` builds it.

    Args:
      apply_fn: the model's ``apply(variables, inputs, train, rng=None)``.
      variables: the original model's variables.
      dataset: a :class:`~jaxunlearn.data.Dataset` (normalised inputs, ``mean``/``std`` recorded).
      initial_epsilon: first ℓ2 radius, in pixel units when ``clamp_pixels``.
      growth, max_rounds, pgd_steps: radius factor per round, the safety cap on rounds, PGD steps
        per round (step ε/10).
      clamp_pixels: attack in pixel space, iterates clamped to [0, 1] (the authors'); otherwise
        in the dataset's own coordinates, unclamped.

    Returns:
      ``(inputs, labels, success, epsilons)``: normalised adversarial inputs and the model's labels
      for every sample that flipped (or was already misclassified), the per-sample success flags
      and radii.

    Raises:
      ValueError: ``clamp_pixels`` with inputs outside the pixel box their statistics imply.
    """
    inputs = np.asarray(dataset.inputs, np.float32)
    mean = np.asarray(dataset.mean, np.float32)
    std = np.asarray(dataset.std, np.float32)
    if clamp_pixels:
        pixels = pixels_in_unit_box(dataset)
        apply = pixel_apply(apply_fn, tuple(mean.ravel().tolist()), tuple(std.ravel().tolist()))
        search = adversarial_examples_growing_radius(
            apply, variables, np.clip(pixels, 0.0, 1.0), dataset.labels,
            initial_epsilon=initial_epsilon, growth=growth, max_rounds=max_rounds,
            num_steps=pgd_steps, batch_size=batch_size, input_bounds=(0.0, 1.0))
        adversarial = (np.asarray(search.adversarial_inputs) - mean) / std
    else:
        search = adversarial_examples_growing_radius(
            apply_fn, variables, inputs, dataset.labels, initial_epsilon=initial_epsilon,
            growth=growth, max_rounds=max_rounds, num_steps=pgd_steps, batch_size=batch_size)
        adversarial = np.asarray(search.adversarial_inputs)
    success = np.asarray(search.success)
    return (adversarial[success].astype(np.float32),
            np.asarray(search.adversarial_labels)[success].astype(np.int32), success,
            np.asarray(search.epsilons))


def _search(model_fns, variables, splits, hyper, name):
    inputs, labels, success, epsilons = adversarial_set(
        model_fns.apply, variables, splits.forget_set, initial_epsilon=hyper["initial_epsilon"],
        growth=hyper["growth"], max_rounds=int(hyper["max_rounds"]),
        pgd_steps=int(hyper["pgd_steps"]), clamp_pixels=bool(hyper["clamp_pixels"]))
    unflipped = int((~success).sum())
    if unflipped:
        warnings.warn(f"{name}: {unflipped} of {len(success)} forget samples did not flip within "
                      f"{hyper['max_rounds']} doublings of ε; they have no adversarial example "
                      "(raise max_rounds)", RuntimeWarning, stacklevel=3)
    found = epsilons[success & (epsilons > 0)]
    log = {"amun_adversarial_found": int(success.sum()), "amun_unflipped": unflipped,
           "amun_forget_size": len(success),
           "amun_median_epsilon": float(np.median(found)) if len(found) else None}
    return inputs, labels, log


def _prepare_single(model_fns, variables, splits, hyper, key, *, name):
    del key  # the attack has no random start
    adv_inputs, adv_labels, log = _search(model_fns, variables, splits, hyper, name)
    base = [getattr(splits, f"{part}_set") for part in _STREAMS[name]]
    inputs = [np.asarray(part.inputs, np.float32) for part in base] + [adv_inputs]
    labels = [np.asarray(part.labels, np.int32) for part in base] + [adv_labels]
    augment_rows = np.concatenate(
        [np.ones(len(part.labels), bool) for part in base]
        + [np.full(len(adv_labels), bool(hyper["augment_adversarial"]))])
    if len(augment_rows) == 0:
        raise ValueError(f"{name}: no adversarial example was found and the stream is empty")
    log["amun_stream_size"] = int(len(augment_rows))
    return Prepared(forget_inputs=np.concatenate(inputs), forget_labels=np.concatenate(labels),
                    aux={AUGMENT_ROWS: jnp.asarray(augment_rows)}, log=log)


def _prepare_two_stream(model_fns, variables, splits, hyper, key):
    del key
    adv_inputs, adv_labels, log = _search(model_fns, variables, splits, hyper, "amun_two_stream")
    forget = splits.forget_set
    return Prepared(
        forget_inputs=np.concatenate([np.asarray(forget.inputs, np.float32), adv_inputs]),
        forget_labels=np.concatenate([np.asarray(forget.labels, np.int32), adv_labels]), log=log)


def step_decay_optimizer(hyper: dict, total_steps: int) -> optax.GradientTransformation:
    """SGD (momentum, coupled weight decay) with the learning rate × ``lr_decay`` every
    ``lr_decay_epochs`` epochs (``adversarial_unlearn.py``'s StepLR). An epoch is
    ``total_steps / epochs`` steps (one pass over the stream unless ``steps`` was forced)."""
    per_epoch = max(1, round(total_steps / max(hyper["epochs"], 1)))
    schedule = optax.exponential_decay(
        hyper["learning_rate"], transition_steps=per_epoch * int(hyper["lr_decay_epochs"]),
        decay_rate=hyper["lr_decay"], staircase=True)
    return sgd_coupled_decay(schedule, hyper)


def _validate(hyper: dict) -> None:
    """Every AMUN variant's checks; the schedule's and the clip's keys only where the variant
    has them (``amun_two_stream`` keeps the constant learning rate and no clip)."""
    for key in ("initial_epsilon", "growth", "lr_decay"):
        if key in hyper and not hyper[key] > 0:
            raise ValueError(f"hyperparams: {key} must be > 0, got {hyper[key]!r}")
    if hyper["growth"] <= 1:
        raise ValueError(f"hyperparams: growth must be > 1, got {hyper['growth']!r}")
    if hyper.get("lr_decay", 1) > 1:
        raise ValueError(f"hyperparams: lr_decay must be in (0, 1], got {hyper['lr_decay']!r}")
    for key in ("lr_decay_epochs", "max_rounds", "pgd_steps", "spectral_every_steps"):
        if key in hyper and (not isinstance(hyper[key], int) or hyper[key] < 1):
            raise ValueError(f"hyperparams: {key} must be an int >= 1, got {hyper[key]!r}")
    if hyper.get("alpha_l1", 0) < 0:
        raise ValueError(f"hyperparams: alpha_l1 must be >= 0 (0: no ℓ1), got {hyper['alpha_l1']!r}")
    if not 0 <= hyper.get("salun_keep", 0) <= 1:
        raise ValueError("hyperparams: salun_keep must be in [0, 1] (0: no SalUn mask), got "
                         f"{hyper['salun_keep']!r}")
    if hyper.get("spectral_max_norm", 0) < 0:
        raise ValueError("hyperparams: spectral_max_norm must be >= 0 (0: no clipping), got "
                         f"{hyper['spectral_max_norm']!r}")


def _implied_addons(hyper: dict) -> tuple:
    """SalUn's mask when ``salun_keep`` > 0, then spectral clipping when ``spectral_max_norm``
    > 0."""
    addons = []
    if hyper.get("salun_keep"):
        addons.append(("salun_mask", {"keep_fraction": float(hyper["salun_keep"])}))
    if hyper.get("spectral_max_norm"):
        addons.append(("clip_spectral_norm", {"max_norm": float(hyper["spectral_max_norm"]),
                                              "every_k_steps": int(hyper["spectral_every_steps"])}))
    return tuple(addons)


def l1_factor(epoch: jax.Array, epochs: int) -> jax.Array:
    """The authors' ℓ1 weight schedule: α is multiplied by (2 − 2j/E) after each epoch j, so
    during epoch e it is α·Π_{j<e}(2 − 2j/E) (``adversarial_unlearn.py``, end of ``train``)."""
    factors = 2.0 - 2.0 * jnp.arange(epochs, dtype=jnp.float32) / epochs
    cumulative = jnp.concatenate([jnp.ones((1,), jnp.float32), jnp.cumprod(factors)])
    return cumulative[jnp.minimum(epoch, epochs)]


def _forget(params, model_state, batch, context):
    """CE on the stream, plus the authors' scheduled α·‖θ‖₁ when ``alpha_l1`` > 0."""
    loss, new_state = forget_cross_entropy(params, model_state, batch, context)
    alpha = context.hyper.get("alpha_l1", 0.0)
    if alpha:
        epoch = context.step // context.steps_per_epoch
        loss = loss + alpha * l1_factor(epoch, context.hyper["epochs"]) * l1_norm(params)
    return loss, new_state


_ATTACK = {"initial_epsilon": 0.04, "growth": 2.0, "max_rounds": 20, "pgd_steps": 50,
           "clamp_pixels": True}
_AUTHORS = {"epochs": 10, "learning_rate": 0.01, "momentum": 0.9, "weight_decay": 5e-4,
            "batch_size": 128, "forget_batch_size": 128, "lr_decay": 0.1, "lr_decay_epochs": 1,
            "augment_adversarial": False, "spectral_max_norm": 0.0, "spectral_every_steps": 100,
            "alpha_l1": 0.0, "salun_keep": 0.0, **_ATTACK}
_SUMMARIES = {
    "amun": "AMUN (authors' default): CE on one shuffled stream D ∪ D_adv, step-decayed SGD",
    "amun_retain_adv": "AMUN on D_r ∪ D_adv (the authors' 'advonly' with the retain set)",
    "amun_forget_adv": "AMUN without the retain set: CE on D_f ∪ D_adv",
    "amun_adv_only": "AMUN without the retain set: CE on D_adv alone",
    "amun_salun": "AMUN with SalUn's mask on its gradient (the authors' amun_sa)",
    "amun_l1": "AMUN plus the authors' scheduled 5e-4·‖θ‖₁ (their amun_l1)",
}
_VARIANT_DEFAULTS = {"amun_salun": {"salun_keep": 0.5}, "amun_l1": {"alpha_l1": 5e-4}}
_STREAM = {"amun_salun": "amun", "amun_l1": "amun"}  # the variants' stream is AMUN's D ∪ D_adv

for _name, _summary in _SUMMARIES.items():
    register_method(Method(
        name=_name, summary=_summary, forget_term=_forget, primary="forget",
        defaults={**_AUTHORS, **_VARIANT_DEFAULTS.get(_name, {})},
        optimizer=step_decay_optimizer,
        prepare=functools.partial(_prepare_single, name=_STREAM.get(_name, _name)),
        validate=_validate, implied_addons=_implied_addons, per_model_data=True,
    ))

AMUN = register_method(Method(
    name="amun_two_stream",
    summary="AMUN variant: forget stream D_f ∪ D_adv and retain stream D_r, averaged separately "
            "and summed (not the authors' weighting)",
    forget_term=forget_cross_entropy,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.01, "initial_epsilon": 0.01, "growth": 2.0,
              "max_rounds": 12, "pgd_steps": 50, "clamp_pixels": True},
    prepare=_prepare_two_stream,
    per_model_data=True,
    validate=_validate,
))
