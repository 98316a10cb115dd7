"""Image-to-image unlearning: decoupling + knowledge retention, and the Gaussian-noise target.

``i2i_decouple`` — Varshney & Torra, "Realistic Image-to-Image Machine Unlearning via Decoupling
and Knowledge Retention" (arXiv 2502.04260). The unlearned model should treat forget samples as
out-of-distribution (as a retrained model, which generalises, would), not map them to noise.
Phase 1, *decoupling*: gradient ascent on the forget reconstructions, bounded, with an (ε, δ)
unlearning guarantee; phase 2, *knowledge retention*: fine-tuning on the retained samples.

**Reconstruction, not the paper's equations.** Only the paper's abstract could be read; its
update bound, its constants and the statement of its guarantee are not known here. What is
implemented is the team note's reconstruction (``papers/i2i.md`` §7.2, marked [inferred]):

* Decoupling, steps ``t < T`` (``decouple_steps``): plain SGD ascent
  θ ← θ + η_a · clip_L(∇_θ (1/|B|) Σ_i min(e_i(θ), τ)) on forget batches, where e_i is the
  per-example reconstruction MSE, ``clip_L`` clips the global gradient norm to the Lipschitz
  constant L (``lipschitz``) and τ = ``stop_factor`` × the original model's mean test
  reconstruction error. The hinge is the stopping rule: an example whose error has reached the
  unseen-data level τ stops contributing, and once all have the update is zero. Each step moves
  the parameters by at most η_a L, so ‖θ_T − θ_0‖ ≤ η_a T L, whatever the data.
* Step ``T``: output perturbation θ_T + N(0, σ² I) with the Gaussian mechanism's
  σ = Δ √(2 ln(1.25/δ)) / ε (Dwork & Roth 2014, Thm A.1, 0 < ε < 1) and
  Δ = 2 L n_f / (λ n) + η_a T L, a bound on ‖θ_T − θ_retrain‖ by the triangle inequality: the
  first term is the distance between the minimisers of a λ-strongly convex, L-Lipschitz
  regularised ERM with and without the n_f forget examples (Chaudhuri, Monteleoni & Sarwate,
  JMLR 2011, Cor. 8; Sekhari et al., NeurIPS 2021, for m deletions) [recalled], the second the
  ascent displacement above. ``epsilon = 0`` (the default) adds no noise: the strong convexity
  that Δ assumes does not hold for a neural autoencoder, and for any λ one could claim the
  calibrated σ would destroy it (λ = 0.01 on digits, forgetting digit 0, gives σ ≈ 216 at
  ε = 0.5); the log records the ascent bound either way. The stopping level τ reads only the
  test set and the number of steps is capped at T, so Δ does not depend on the forget data.
* Steps ``t > T``: knowledge retention, Adam on the retain reconstruction MSE. It reads only
  D_r, so it is post-processing of the perturbed θ_T and keeps the (ε, δ) guarantee
  (relative to the same mechanism started from the retrained model).

``unlearn(..., steps=S)`` / ``epochs`` count both phases: ``S > T`` is required and the last
``S − T − 1`` steps fine-tune. A custom ``tx`` replaces both phases' optimizer (the bound then no
longer holds). The guarantee itself is NumPy (:class:`DecouplingGuarantee`), apart from
training, as the design asks.

``i2i_noise_target`` — Li, Hsu, Chen & Marculescu, "Machine Unlearning for Image-to-Image
Generative Models" (ICLR 2024), as in their ``i2i_mage`` code (``engine_unlearn.py``): a frozen
teacher E_θ0 (the original encoder), L(θ) = α_r E‖E_θ(T(x_r)) − E_θ0(T(x_r))‖² +
α_f E‖E_θ(T(x_f)) − E_θ0(T(n))‖², n ~ N(mean(x_f), std(x_f)²) per batch and channel clamped
to the data range, T the model's own masking (the same mask for teacher and student: both are
called with the step's key). Only encoder outputs enter the loss and only the encoder is
updated (AdamW β = (0.9, 0.95), weight decay 0.05, gradient clip 3.0, α_f = 0.2 as the README
example). ‖·‖² is the mean over the encoding's entries.

Both need an image-to-image model of :mod:`jaxunlearn.models.autoencoder` (output shaped like
its input; the noise target also its ``encoder`` submodule). ``RECONSTRUCTION_ASCENT`` and
``RECONSTRUCTION_FINETUNE`` are the plain gradient-ascent and fine-tuning baselines on the
reconstruction loss, not registered (pass the objects to ``unlearn``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import stats

from jaxunlearn.losses import per_example_squared_error, reconstruction_mse
from jaxunlearn.methods.base import Batch, Method, Prepared, TermContext, logits_of, register_method
from jaxunlearn.models.autoencoder import encoder_apply
from jaxunlearn.transforms.noise import gaussian_noise_like

IMAGE_TO_IMAGE_METHODS = ("i2i_decouple", "i2i_noise_target")
"""Registered methods that need an image-to-image model (reconstruction losses)."""


# --- the guarantee (NumPy, apart from training) -------------------------------------------------


def ascent_displacement_bound(learning_rate: float, steps: int, lipschitz: float) -> float:
    """η_a T L: the most that T plain-SGD steps of length ≤ η_a·L (clipped gradients) move θ."""
    return float(learning_rate) * int(steps) * float(lipschitz)


def training_sensitivity_bound(lipschitz: float, strong_convexity: float, num_train: int,
                               num_forget: int) -> float:
    """2 L n_f / (λ n): ‖argmin over D − argmin over D ∖ D_f‖ for λ-strongly convex, L-Lipschitz
    regularised ERM (Chaudhuri et al. 2011, Cor. 8; Sekhari et al. 2021) — an assumption."""
    return 2.0 * float(lipschitz) * int(num_forget) / (float(strong_convexity) * int(num_train))


def gaussian_noise_std(sensitivity: float, epsilon: float, delta: float) -> float:
    """σ = Δ √(2 ln(1.25/δ)) / ε, the classical Gaussian mechanism (Dwork & Roth 2014,
    Thm A.1): releasing θ + N(0, σ²I) is (ε, δ)-indistinguishable from θ' + N(0, σ²I) whenever
    ‖θ − θ'‖ ≤ Δ, for 0 < ε < 1.

    >>> round(gaussian_noise_std(1.0, 0.5, 1e-5), 4)
    9.6896
    """
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1) for the classical Gaussian mechanism, "
                         f"got {epsilon}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if not sensitivity >= 0.0 or not math.isfinite(sensitivity):
        raise ValueError(f"sensitivity must be a finite number >= 0, got {sensitivity}")
    return float(sensitivity) * math.sqrt(2.0 * math.log(1.25 / delta)) / float(epsilon)


def gaussian_mechanism_delta(sensitivity: float, noise_std: float, epsilon: float) -> float:
    """The exact δ(ε) of the Gaussian mechanism, sup over ‖θ − θ'‖ ≤ Δ of the hockey-stick
    divergence of N(θ, σ²I) from N(θ', σ²I) (Balle & Wang, ICML 2018, Thm 8):
    Φ(Δ/(2σ) − εσ/Δ) − e^ε Φ(−Δ/(2σ) − εσ/Δ)."""
    if sensitivity <= 0.0:
        return 0.0
    if noise_std <= 0.0:
        return 1.0
    ratio = sensitivity / noise_std
    return float(stats.norm.cdf(ratio / 2 - epsilon / ratio)
                 - math.exp(epsilon) * stats.norm.cdf(-ratio / 2 - epsilon / ratio))


@dataclasses.dataclass(frozen=True)
class DecouplingGuarantee:
    """The (ε, δ) certificate of the decoupling phase, as reconstructed (module docstring).

    Attributes:
      lipschitz: L, the per-example loss's Lipschitz constant and the ascent's gradient clip.
      strong_convexity: λ of the regularised training objective (an assumption).
      num_train / num_forget: n and n_f.
      ascent_learning_rate / ascent_steps: η_a and T.
      epsilon / delta: the target guarantee; ``epsilon = 0`` means no noise (not certified).
    """

    lipschitz: float
    strong_convexity: float
    num_train: int
    num_forget: int
    ascent_learning_rate: float
    ascent_steps: int
    epsilon: float = 0.0
    delta: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("lipschitz", "ascent_learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.strong_convexity < 0:
            raise ValueError(f"strong_convexity must be >= 0, got {self.strong_convexity}")
        if not 0 < self.num_forget < self.num_train:
            raise ValueError(f"need 0 < num_forget < num_train, got {self.num_forget} of "
                             f"{self.num_train} (is the forget set empty?)")
        if self.ascent_steps < 1:
            raise ValueError(f"ascent_steps must be >= 1, got {self.ascent_steps}")
        if self.epsilon < 0 or self.epsilon >= 1:
            raise ValueError(f"epsilon must be 0 (no noise) or in (0, 1), got {self.epsilon}")
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {self.delta}")
        if self.epsilon > 0 and self.strong_convexity <= 0:
            raise ValueError("an (epsilon, delta) guarantee needs strong_convexity > 0: the bound "
                             "on the distance to the retrained model assumes a λ-strongly convex "
                             "training objective")

    @property
    def ascent_displacement(self) -> float:
        """η_a T L."""
        return ascent_displacement_bound(self.ascent_learning_rate, self.ascent_steps,
                                         self.lipschitz)

    @property
    def training_sensitivity(self) -> float:
        """2 L n_f / (λ n), or inf when λ = 0."""
        if self.strong_convexity == 0:
            return math.inf
        return training_sensitivity_bound(self.lipschitz, self.strong_convexity,
                                          self.num_train, self.num_forget)

    @property
    def sensitivity(self) -> float:
        """Δ, the bound on ‖θ_T − θ_retrain‖."""
        return self.training_sensitivity + self.ascent_displacement

    @property
    def noise_std(self) -> float:
        """σ of the output perturbation (0 when ``epsilon`` = 0)."""
        if self.epsilon == 0:
            return 0.0
        return gaussian_noise_std(self.sensitivity, self.epsilon, self.delta)

    def as_dict(self) -> dict:
        """JSON-able record, for the unlearning log (an unbounded Δ, when λ = 0, is ``None``)."""
        finite = math.isfinite(self.sensitivity)
        return {**dataclasses.asdict(self), "ascent_displacement": self.ascent_displacement,
                "training_sensitivity": self.training_sensitivity if finite else None,
                "sensitivity": self.sensitivity if finite else None,
                "noise_std": self.noise_std, "certified": self.epsilon > 0}


# --- loss terms ---------------------------------------------------------------------------------


def _weighted_mean(values: jax.Array, weights: jax.Array) -> jax.Array:
    return jnp.sum(values * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def retain_reconstruction(params, model_state, batch: Batch, context: TermContext):
    """L_C = reconstruction MSE on the retain batch (knowledge retention, plain fine-tuning)."""
    outputs, new_state = logits_of(context, params, model_state, batch.inputs)
    return reconstruction_mse(outputs, batch.inputs, batch.weights), new_state


def forget_reconstruction_ascent(params, model_state, batch: Batch, context: TermContext):
    """L_U = −reconstruction MSE on the forget batch (unbounded gradient ascent)."""
    outputs, new_state = logits_of(context, params, model_state, batch.inputs)
    return -reconstruction_mse(outputs, batch.inputs, batch.weights), new_state


def bounded_forget_ascent(params, model_state, batch: Batch, context: TermContext):
    """L_U = −(1/|B|) Σ_i min(e_i, τ): ascent that stops at the unseen-data error level τ
    (``context.aux["stop_level"]``); an example at or above τ has no gradient."""
    outputs, new_state = logits_of(context, params, model_state, batch.inputs)
    errors = per_example_squared_error(outputs, batch.inputs)
    capped = jnp.minimum(errors, context.aux["stop_level"])
    return -_weighted_mean(capped, batch.weights), new_state


def _decouple_schedule(step, steps_per_epoch, hyper):
    del steps_per_epoch
    decouple_steps = hyper["decouple_steps"]
    return ((step < decouple_steps).astype(jnp.float32),
            (step > decouple_steps).astype(jnp.float32))


# --- transforms ---------------------------------------------------------------------------------


class PhaseSwitchState(NamedTuple):
    """State of :func:`phase_switch`: the step count and each phase's own state."""

    count: jax.Array
    first_state: Any
    second_state: Any


def phase_switch(first: optax.GradientTransformation, second: optax.GradientTransformation,
                 switch_step: int) -> optax.GradientTransformationExtraArgs:
    """``first`` for steps ``< switch_step``, zero updates at ``switch_step``, ``second`` after.

    Each phase's state advances only in its own steps, so the second optimizer (e.g. Adam's
    moments) starts fresh at the phase change. Extra args are passed to both.
    """
    first = optax.with_extra_args_support(first)
    second = optax.with_extra_args_support(second)

    def init(params):
        return PhaseSwitchState(jnp.zeros((), jnp.int32), first.init(params), second.init(params))

    def update(updates, state, params=None, **extra):
        in_first = state.count < switch_step
        in_second = state.count > switch_step
        first_updates, first_state = first.update(updates, state.first_state, params, **extra)
        second_updates, second_state = second.update(updates, state.second_state, params, **extra)

        def pick(a, b):
            return jnp.where(in_first, a, jnp.where(in_second, b, jnp.zeros_like(a)))

        def keep(active, new, old):
            return jax.tree_util.tree_map(lambda n, o: jnp.where(active, n, o), new, old)

        new_updates = jax.tree_util.tree_map(pick, first_updates, second_updates)
        return new_updates, PhaseSwitchState(state.count + 1,
                                             keep(in_first, first_state, state.first_state),
                                             keep(in_second, second_state, state.second_state))

    return optax.GradientTransformationExtraArgs(init, update)


class OutputPerturbationState(NamedTuple):
    """State of :func:`output_perturbation`: the step count and the raw PRNG key data."""

    count: jax.Array
    key: jax.Array


def output_perturbation(noise_std: float, at_step: int,
                        seed: int = 0) -> optax.GradientTransformationExtraArgs:
    """Adds N(0, noise_std² I) to the update of step ``at_step`` only (the Gaussian mechanism's
    release of the parameters that step starts from, when the step's other updates are zero).

    The noise is :func:`jaxunlearn.transforms.gaussian_noise_like` of ``key(seed)``: one float32
    standard-normal vector as long as all parameters together, scaled by ``noise_std`` and cut
    into the leaves in ``tree_flatten`` order.
    """
    if not noise_std >= 0 or not math.isfinite(noise_std):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std}")

    def init(params):
        del params
        return OutputPerturbationState(jnp.zeros((), jnp.int32),
                                       jax.random.key_data(jax.random.key(seed)))

    def update(updates, state, params=None, **extra):
        del params, extra

        def add_noise(updates):
            noise = gaussian_noise_like(jax.random.wrap_key_data(state.key), updates, noise_std)
            return jax.tree_util.tree_map(lambda leaf, w: leaf + w, updates, noise)

        updates = jax.lax.cond(state.count == at_step, add_noise, lambda updates: updates,
                               updates)
        return updates, OutputPerturbationState(state.count + 1, state.key)

    return optax.GradientTransformationExtraArgs(init, update)


# --- i2i_decouple -------------------------------------------------------------------------------


def _check_image_to_image(model_fns, variables, sample: np.ndarray, method: str) -> None:
    outputs = jax.eval_shape(lambda v, x: model_fns.apply(v, x, False)[0], variables,
                             jnp.asarray(sample))
    if outputs.shape != sample.shape:
        raise ValueError(
            f"method {method!r} needs an image-to-image model (output shaped like its input, "
            f"e.g. 'conv_autoencoder'); the model maps {sample.shape[1:]} to {outputs.shape[1:]}")


def mean_reconstruction_error(apply_fn, variables, inputs: np.ndarray,
                              batch_size: int = 512) -> float:
    """Mean over ``inputs`` of the eval-mode per-example reconstruction MSE."""
    from jaxunlearn.evaluate.generative import reconstruction_errors

    return float(np.mean(reconstruction_errors(apply_fn, variables, inputs,
                                               batch_size=batch_size)))


def _check_decouple_hyper(hyper: dict) -> None:
    if not isinstance(hyper["decouple_steps"], int) or hyper["decouple_steps"] < 1:
        raise ValueError(f"hyperparams: decouple_steps must be an int >= 1, "
                         f"got {hyper['decouple_steps']!r}")
    for name in ("decouple_learning_rate", "lipschitz", "stop_factor"):
        if not hyper[name] > 0:
            raise ValueError(f"hyperparams: {name} must be > 0, got {hyper[name]}")


def _decouple_prepare(model_fns, variables, splits, hyper, key):
    _check_decouple_hyper(hyper)
    _check_image_to_image(model_fns, variables, np.asarray(splits.train.inputs[:1]),
                          "i2i_decouple")
    guarantee = DecouplingGuarantee(
        lipschitz=hyper["lipschitz"], strong_convexity=hyper["strong_convexity"],
        num_train=len(splits.train), num_forget=len(splits.forget_indices),
        ascent_learning_rate=hyper["decouple_learning_rate"],
        ascent_steps=hyper["decouple_steps"], epsilon=hyper["epsilon"], delta=hyper["delta"])
    test_error = mean_reconstruction_error(model_fns.apply, variables, splits.test.inputs)
    stop_level = hyper["stop_factor"] * test_error
    addons = ()
    if guarantee.noise_std > 0:
        addons = (output_perturbation(guarantee.noise_std, hyper["decouple_steps"],
                                      seed=int(key) * 7919 + 17),)
    return Prepared(aux={"stop_level": jnp.float32(stop_level)}, addons=addons,
                    log={"original_test_error": test_error, "stop_level": stop_level,
                         "guarantee": guarantee.as_dict()})


def _decouple_optimizer(hyper, total_steps):
    _check_decouple_hyper(hyper)
    decouple_steps = hyper["decouple_steps"]
    if total_steps <= decouple_steps:
        raise ValueError(
            f"i2i_decouple runs {decouple_steps} decoupling steps and one noise step before "
            f"retention; steps must be > {decouple_steps}, got {total_steps}")
    # plain SGD on clipped gradients: no momentum or weight decay, so each step is ≤ η_a·L long
    ascent = optax.chain(optax.clip_by_global_norm(hyper["lipschitz"]),
                         optax.scale(-hyper["decouple_learning_rate"]))
    retain = optax.adam(hyper["learning_rate"])
    if hyper["weight_decay"]:
        retain = optax.chain(optax.add_decayed_weights(hyper["weight_decay"]), retain)
    return phase_switch(ascent, retain, decouple_steps)


I2I_DECOUPLE = register_method(Method(
    name="i2i_decouple",
    summary="Varshney & Torra 2025 (reconstructed): bounded GA on D_f to the test error level, "
            "Gaussian output perturbation, fine-tuning on D_r",
    forget_term=bounded_forget_ascent,
    retain_term=retain_reconstruction,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 1e-3, "weight_decay": 0.0, "batch_size": 64,
              "forget_batch_size": 64, "decouple_steps": 50, "decouple_learning_rate": 0.05,
              "lipschitz": 1.0, "stop_factor": 1.0, "epsilon": 0.0, "delta": 1e-5,
              "strong_convexity": 0.0},
    schedule=_decouple_schedule,
    optimizer=_decouple_optimizer,
    prepare=_decouple_prepare,
))


# --- i2i_noise_target (Li et al., ICLR 2024) ----------------------------------------------------


def _encoding_mse(student: jax.Array, teacher: jax.Array, weights: jax.Array) -> jax.Array:
    per_example = jnp.mean(jnp.square(student - teacher).reshape(student.shape[0], -1), axis=1)
    return _weighted_mean(per_example, weights)


def _encode(context: TermContext, variables: dict, inputs: jax.Array, train: bool) -> jax.Array:
    # the step's key as the model's RNG: teacher and student draw the same mask T(·)
    return encoder_apply(context.apply_fn)(variables, inputs, train, rng=context.key)


def gaussian_like(key: jax.Array, inputs: jax.Array, weights: jax.Array, low: jax.Array,
                  high: jax.Array) -> jax.Array:
    """Noise n ~ N(mean, std²) with the batch's per-channel (weighted) mean and std, clamped to
    [low, high] (Li et al.'s ``noise_type='normal'``); shape of ``inputs`` (batch, H, W, C)."""
    axes = tuple(range(inputs.ndim - 1))
    pixel_weights = jnp.broadcast_to(weights.reshape((-1,) + (1,) * (inputs.ndim - 1)),
                                     inputs.shape)
    total = jnp.maximum(jnp.sum(pixel_weights, axis=axes), 1.0)
    mean = jnp.sum(inputs * pixel_weights, axis=axes) / total
    variance = jnp.sum(jnp.square(inputs - mean) * pixel_weights, axis=axes) / total
    noise = mean + jnp.sqrt(variance) * jax.random.normal(key, inputs.shape, inputs.dtype)
    return jnp.clip(noise, low, high)


def _noise_forget(params, model_state, batch: Batch, context: TermContext):
    aux = context.aux
    student = _encode(context, {"params": params, **model_state}, batch.inputs, True)
    noise = gaussian_like(jax.random.fold_in(context.key, 1), batch.inputs, batch.weights,
                          aux["low"], aux["high"])
    target = jax.lax.stop_gradient(_encode(context, aux["teacher"], noise, False))
    loss = context.hyper["forget_alpha"] * _encoding_mse(student, target, batch.weights)
    return loss, model_state


def _noise_retain(params, model_state, batch: Batch, context: TermContext):
    student = _encode(context, {"params": params, **model_state}, batch.inputs, True)
    target = jax.lax.stop_gradient(_encode(context, context.aux["teacher"], batch.inputs, False))
    loss = context.hyper["retain_alpha"] * _encoding_mse(student, target, batch.weights)
    return loss, model_state


def _encoder_labels(params):
    return {name: jax.tree_util.tree_map(lambda _: "encoder" if name == "encoder" else "frozen",
                                         subtree)
            for name, subtree in params.items()}


def _noise_optimizer(hyper, total_steps):
    del total_steps
    encoder = optax.chain(
        optax.clip_by_global_norm(hyper["grad_clip"]),
        optax.adamw(hyper["learning_rate"], b1=0.9, b2=0.95, weight_decay=hyper["weight_decay"]))
    return optax.multi_transform({"encoder": encoder, "frozen": optax.set_to_zero()},
                                 _encoder_labels)


def _noise_prepare(model_fns, variables, splits, hyper, key):
    del hyper, key
    sample = np.asarray(splits.train.inputs[:1])
    _check_image_to_image(model_fns, variables, sample, "i2i_noise_target")
    if "encoder" not in variables["params"]:
        raise ValueError("method 'i2i_noise_target' trains the encoder only; the model's params "
                         "have no 'encoder' submodule (top-level keys "
                         f"{sorted(variables['params'])})")
    inputs = np.asarray(splits.train.inputs)
    return Prepared(aux={"teacher": variables, "low": jnp.float32(inputs.min()),
                         "high": jnp.float32(inputs.max())})


I2I_NOISE_TARGET = register_method(Method(
    name="i2i_noise_target",
    summary="Li et al. ICLR 2024: encoder outputs of D_f to the teacher's encoding of Gaussian "
            "noise, of D_r to the teacher's, encoder only",
    forget_term=_noise_forget,
    retain_term=_noise_retain,
    primary="retain",
    # their code: AdamW (0.9, 0.95), wd 0.05, clip 3.0, 6 epochs, α_f 0.2; lr = 1e-4·batch/256
    # for ViT-B — 1e-3 here for autoencoders a thousand times smaller (no warm-up)
    defaults={"epochs": 6, "learning_rate": 1e-3, "weight_decay": 0.05, "batch_size": 64,
              "forget_alpha": 0.2, "retain_alpha": 1.0, "grad_clip": 3.0},
    optimizer=_noise_optimizer,
    prepare=_noise_prepare,
))


# --- plain baselines on the reconstruction loss (not registered) ----------------------------------

RECONSTRUCTION_ASCENT = Method(
    name="i2i_gradient_ascent",
    summary="GA (Max Loss): minimise −reconstruction MSE on D_f",
    forget_term=forget_reconstruction_ascent,
    primary="forget",
    defaults={"epochs": 5, "learning_rate": 1e-3, "forget_batch_size": 64, "momentum": 0.0,
              "weight_decay": 0.0},
)
"""Plain gradient ascent on the forget reconstructions (SGD), unbounded."""

RECONSTRUCTION_FINETUNE = Method(
    name="i2i_finetune",
    summary="FT: reconstruction MSE on D_r from the original model",
    retain_term=retain_reconstruction,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 1e-3, "batch_size": 64, "weight_decay": 0.0},
    optimizer=lambda hyper, total_steps: optax.adam(hyper["learning_rate"]),
)
"""Fine-tuning on the retain reconstructions (Adam), relying on forgetting D_f."""
