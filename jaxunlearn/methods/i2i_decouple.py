"""``i2i_decouple``: decoupling + knowledge retention for image-to-image models.

Varshney & Torra, "Realistic Image-to-Image Machine Unlearning via Decoupling and Knowledge
Retention" (arXiv 2502.04260). The unlearned model should treat forget samples as
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
  reconstruction error (:func:`jaxunlearn.methods.terms.bounded_forget_ascent`). The hinge is
  the stopping rule: an example whose error has reached the unseen-data level τ stops
  contributing, and once all have the update is zero. Each step moves the parameters by at most
  η_a L, so ‖θ_T − θ_0‖ ≤ η_a T L, whatever the data.
* Step ``T``: output perturbation θ_T + N(0, σ² I) with the Gaussian mechanism's
  σ = Δ √(2 ln(1.25/δ)) / ε (Dwork & Roth 2014, Thm A.1, 0 < ε < 1) and
  Δ = 2 L n_f / (λ n) + η_a T L, a bound on ‖θ_T − θ_retrain‖ by the triangle inequality: the
  first term is the distance between the minimisers of a λ-strongly convex, L-Lipschitz
  regularised ERM with and without the n_f forget examples (Chaudhuri, Monteleoni & Sarwate,
  JMLR 2011, Cor. 8; Sekhari et al., NeurIPS 2021, for m deletions) [recalled], the second the
  ascent displacement above (:class:`jaxunlearn.certify.i2i.DecouplingGuarantee`,
  :func:`jaxunlearn.transforms.output_perturbation`). ``epsilon = 0`` (the default) adds no
  noise: the strong convexity that Δ assumes does not hold for a neural autoencoder, and for any
  λ one could claim the calibrated σ would destroy it (λ = 0.01 on digits, forgetting digit 0,
  gives σ ≈ 216 at ε = 0.5); the log records the ascent bound either way. The stopping level τ
  reads only the test set and the number of steps is capped at T, so Δ does not depend on the
  forget data.
* Steps ``t > T``: knowledge retention, Adam on the retain reconstruction MSE. It reads only
  D_r, so it is post-processing of the perturbed θ_T and keeps the (ε, δ) guarantee
  (relative to the same mechanism started from the retrained model).

``unlearn(..., steps=S)`` / ``epochs`` count both phases: ``S > T`` is required and the last
``S − T − 1`` steps fine-tune (:func:`jaxunlearn.transforms.phase_switch`). A custom ``tx``
replaces both phases' optimizer (the bound then no longer holds). The guarantee itself is NumPy
(:mod:`jaxunlearn.certify.i2i`), apart from training, as the design asks.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.certify.i2i import DecouplingGuarantee
from jaxunlearn.evaluate.generative import mean_reconstruction_error
from jaxunlearn.methods.base import Method, Prepared, register_method
from jaxunlearn.methods.i2i import check_image_to_image
from jaxunlearn.methods.terms import bounded_forget_ascent, retain_reconstruction
from jaxunlearn.train.keys import output_perturbation_seed
from jaxunlearn.transforms.output_perturbation import output_perturbation
from jaxunlearn.transforms.phase_switch import phase_switch


def _decouple_schedule(step, steps_per_epoch, hyper):
    del steps_per_epoch
    decouple_steps = hyper["decouple_steps"]
    return ((step < decouple_steps).astype(jnp.float32),
            (step > decouple_steps).astype(jnp.float32))


def _check_decouple_hyper(hyper: dict) -> None:
    if not isinstance(hyper["decouple_steps"], int) or hyper["decouple_steps"] < 1:
        raise ValueError(f"hyperparams: decouple_steps must be an int >= 1, "
                         f"got {hyper['decouple_steps']!r}")
    for name in ("decouple_learning_rate", "lipschitz", "stop_factor"):
        if not hyper[name] > 0:
            raise ValueError(f"hyperparams: {name} must be > 0, got {hyper[name]}")


def _decouple_prepare(model_fns, variables, splits, hyper, key):
    _check_decouple_hyper(hyper)
    check_image_to_image(model_fns, variables, np.asarray(splits.train.inputs[:1]),
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
                                      seed=output_perturbation_seed(key)),)
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
