"""Boundary Shrink (Chen, Gao, Liu, Peng, Zhou, "Boundary Unlearning: Rapid Forgetting of Deep
Networks via Shifting the Decision Space", CVPR 2023, §4.1): move every forget sample across the
nearest decision boundary by fine-tuning on it with its *neighbour label*.

The neighbour label of a forget sample (x, y) is the class the frozen original model predicts at
a one-step FGSM point of x, ``x' = x + bound · sign(∇_x CE(f_orig(x), y))``, clamped to the pixel
box [0, 1] and rounded to the 8-bit grid (``round(255 x') / 255``). The loss is CE(f_θ(x), y_nbi)
on the forget set only, f_θ in training mode, the attack's model in eval mode. Labels are
computed in the step, per batch, from the same (possibly augmented) inputs the loss sees, as in
the authors' loop and in the baseline AMUN's code runs (``Ali-E/AMUN``, ``adversarial_unlearn.py``
with ``unlearn_method == 'BS'``: ``helper.FGSM_perturb``, bound 0.1, ``test_model`` a frozen copy
of the model). The frozen model here is the original throughout; the AMUN code, with
``--use_remain``, first runs a pass over the retain set in every epoch and copies the model after
it, which this method does not do (it has no retain term: the paper's setting).

Our data are normalised, ``(pixel − mean) / std``; the attack runs on pixels
(``x · std + mean``) and maps its point back, so ``bound`` is in pixel units as the authors' 0.1.
For inputs that are not pixels in [0, 1], ``clamp_pixels=False`` steps in the inputs' own
coordinates without the clamp and the 8-bit rounding.

Hyperparameters (defaults): ``bound`` 0.1 (the authors'), 10 epochs over the forget set in
batches of 128 (AMUN's code), SGD with momentum 0.9 and weight decay 5e-4 at learning rate 0.01,
which AMUN's code tunes over {0.1, …, 1e-5}. The Boundary Unlearning code itself (its
``boundary_shrink`` function, read in a public copy of the paper's code archive) runs SGD at 1e-5
with momentum 0.9 and no weight decay for 10 epochs, on CIFAR-10 with many forget batches; on
smaller forget sets tune the rate (``experiments/tune.py``; ``experiments/configs/tuned/``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.amun import pixels_in_unit_box
from jaxunlearn.methods.base import Method, Prepared, logits_of, register_method


def neighbour_labels(apply_fn, teacher, inputs, labels, *, bound, mean, std, clamp_pixels=True):
    """The class ``teacher`` predicts at the FGSM point of each input (Boundary Shrink's y_nbi).

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, state)``.
      teacher: the frozen model's variables (eval mode).
      inputs, labels: a batch (normalised inputs) and its true labels.
      bound: the FGSM step, in pixel units when ``clamp_pixels``.
      mean, std: the normalisation, broadcastable to ``inputs``.
      clamp_pixels: attack on pixels ``inputs · std + mean``, clamped to [0, 1] and rounded to
        multiples of 1/255; otherwise in the inputs' own coordinates, unclamped.

    Returns:
      int32 labels, one per input.
    """
    start = inputs * std + mean if clamp_pixels else inputs

    def to_inputs(points):
        return (points - mean) / std if clamp_pixels else points

    def total_loss(points):
        logits, _ = apply_fn(teacher, to_inputs(points), False)
        return jnp.sum(cross_entropy(logits, labels, jnp.ones(labels.shape, jnp.float32)))

    # sign(∇ of the sum) = sign(∇ of each example's loss): the examples do not interact in eval mode
    moved = start + bound * jnp.sign(jax.grad(total_loss)(start))
    if clamp_pixels:
        moved = jnp.round(jnp.clip(moved, 0.0, 1.0) * 255.0) / 255.0
    logits, _ = apply_fn(teacher, to_inputs(moved), False)
    return jnp.argmax(logits, axis=-1).astype(jnp.int32)


def _forget(params, model_state, batch, context):
    aux = context.aux
    targets = jax.lax.stop_gradient(neighbour_labels(
        context.apply_fn, aux["teacher"], batch.inputs, batch.labels,
        bound=context.hyper["bound"], mean=aux["pixel_mean"], std=aux["pixel_std"],
        clamp_pixels=bool(context.hyper["clamp_pixels"])))
    logits, new_state = logits_of(context, params, model_state, batch.inputs)
    return cross_entropy(logits, targets, batch.weights), new_state


def _prepare(model_fns, variables, splits, hyper, key):
    del model_fns, key
    forget = splits.forget_set
    mean = np.asarray(forget.mean, np.float32)
    std = np.asarray(forget.std, np.float32)
    if hyper["clamp_pixels"]:
        pixels_in_unit_box(forget)  # raises for inputs that are not normalised pixels
    return Prepared(aux={"teacher": variables, "pixel_mean": jnp.asarray(mean),
                         "pixel_std": jnp.asarray(std)})


def _validate(hyper: dict) -> None:
    if not hyper["bound"] > 0:
        raise ValueError(f"hyperparams: bound must be > 0 (the FGSM step), got {hyper['bound']!r}")


BOUNDARY_SHRINK = register_method(Method(
    name="boundary_shrink",
    summary="Boundary Shrink: CE on D_f with the label the original predicts at an FGSM step",
    forget_term=_forget,
    primary="forget",
    defaults={"epochs": 10, "learning_rate": 0.01, "forget_batch_size": 128, "bound": 0.1,
              "clamp_pixels": True},
    prepare=_prepare,
    validate=_validate,
))
