"""ℓ2-UL (Cha, Cho, Hwang, Lee, Moon & Lee, "Learning to Unlearn: Instance-wise Unlearning for
Pre-trained Classifiers", AAAI 2024), as the authors' code runs it (``csm9493/L2UL``,
``main_unlearn_cifar10_mixed_label_resnet18.py``, "Baseline 3"; ``utils.py``: ``adv_attack`` of
the first commit, which that script calls, and ``estimate_parameter_importance``). The paper's
text could only be read as its abstract; the formulas follow the code.

Before the first step, from the original model f₀ and the forget set D_f:

- **Adversarial set.** ``rounds`` times over D_f (20 for CIFAR-10), each forget image x of label
  y gets a target class t drawn uniformly and a targeted ℓ2 PGD attack towards t (advertorch's
  ``L2PGDAttack``: random start, ``pgd_steps`` normalised-gradient steps of length ``pgd_step``
  descending CE(f₀(x'), t), projected onto the ball ‖x' − x‖₂ ≤ ``pgd_epsilon`` and the pixel box
  [0, 1], f₀ in eval mode). The pair (x', t) joins the set whether or not the attack reached t.
- **Weight importance** (MAS, Aljundi et al. 2018, on the forget data): Ω = mean over forget
  batches (train mode) of |∂ mean_x ‖f₀(x)‖₂ / ∂θ| · batch size, then per parameter tensor
  Ω̂ = 1 − (Ω − min Ω)/(max Ω − min Ω): parameters that matter to D_f may move freely.

Each step takes one batch (x_a, t_a) of the adversarial set (the stream that defines an epoch)
and the cycled forget batch (x_f, y_f), each forwarded in train mode, and minimises

    L = −CE(f(x_f), y_f) · n_f/(n_f + n_a) + CE(f(x_a), t_a) · n_a/(n_f + n_a)
        + λ Σ_θ Σ Ω̂ ⊙ (θ − θ₀)² / 2,

n_f, n_a the batches' sizes, θ₀ the original parameters, with SGD (momentum 0.9, weight decay
1e-4; the authors' CIFAR-10 script passes learning rate 1e-3, λ = ``reg_lamb`` = 1, ε = 4, step
0.1, 100 PGD iterations, 20 rounds; the loaders' batches are 256 adversarial and 32 forget images).

Differences from the code, all deliberate and kept small:

- **Targets.** The code draws t from all 10 classes and, when t = y, replaces it by
  ``(rand().long()·10 + 10)//2``, which is always 5 (so a label-5 image keeps t = 5, an attack
  towards its own class). Here t is uniform over the classes that are neither y nor forgotten
  (with one class forgotten, the classes left), which is what the replacement seems to intend.
- **Radius.** ε and the step are in pixel units for CIFAR's 3,072 input values; here both scale
  by √(d/``reference_dimension``), d this task's input size, so the perturbation's root mean
  square per value is the authors' (ε = 4 on 32×32×3 is ε ≈ 2.0 on 28×28×1, 0.58 on 8×8×1). Set
  ``reference_dimension`` to d for the raw values.
- **Box then ball.** Each PGD step projects onto the ball, then clamps to the box (a point in
  both); advertorch clamps first, projects, and clamps once more at the end. Its random start
  (a uniform image in the box, moved to within ε of x) is kept.
- **Two terms.** The −CE on D_f is the method's forget term and the rest its retain term, so the
  feasible-update masks and SalUn's mask compose with it. The forget term weighs by the nominal
  adversarial batch (``batch_size``, or the set's size when smaller), which is the code's n_a but
  on an epoch's last, partial batch; and the forget batch is forwarded first (the code forwards
  the adversarial batch first), which only orders batch norm's running-statistics updates.
- **Stopping.** The code stops after the first step at which every forget image is
  misclassified (and caps passes at 1,000); here ``epochs`` is a tuned number of passes over the
  adversarial set, like every other method's.
- **A constant parameter tensor** (max Ω = min Ω, where the code divides by 0) gets Ω̂ = 1.
- The code is instance-wise (16 random images); TRW (Wang et al. 2025) lists ℓ2-UL among its class
  unlearning baselines without saying how it was adapted. With a class as D_f, the rounds give
  20 adversarial images per forget image, as in the code.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.attacks._common import clip_to_bounds, project_l2_ball
from jaxunlearn.attacks.pgd import run_pgd_l2
from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.amun import pixel_apply, pixels_in_unit_box
from jaxunlearn.methods.base import Method, Prepared, logits_of, register_method
from jaxunlearn.methods.run import forget_classes
from jaxunlearn.train import keys, predict_logits
from jaxunlearn.train.progress import progress_bar

_ATTACK_BATCH = 512


def attack_targets(key: jax.Array, labels: np.ndarray, num_classes: int, excluded, rounds: int
                   ) -> np.ndarray:
    """``[rounds, n]`` target classes: for each round and label y, a class drawn uniformly from
    those that are neither y nor in ``excluded``."""
    allowed = np.ones((len(labels), num_classes), bool)
    allowed[:, list(excluded)] = False
    allowed[np.arange(len(labels)), labels] = False
    counts = allowed.sum(axis=1)
    if np.any(counts == 0):
        raise ValueError("ℓ2-UL needs a target class other than the label and the forgotten "
                         "classes; the task has none left")
    uniforms = np.asarray(jax.random.uniform(key, (rounds, len(labels))), np.float64)
    picks = np.minimum((uniforms * counts).astype(np.int64), counts - 1)  # rank among allowed
    ranks = np.where(allowed, np.cumsum(allowed, axis=1) - 1, -1)  # [n, C]
    return np.argmax(ranks[None] == picks[:, :, None], axis=-1).astype(np.int32)


@functools.partial(jax.jit, static_argnames=("apply_fn", "num_steps", "box"))
def targeted_attack(apply_fn, variables, inputs, targets, key, epsilon, step_size, *,
                    num_steps: int, box: bool):
    """Targeted ℓ2 PGD towards ``targets`` from advertorch's random start: a uniform image in the
    box [0, 1] (``box``), else a standard normal point, moved to within ``epsilon`` of the input;
    then ``num_steps`` steps of :func:`~jaxunlearn.attacks.pgd.run_pgd_l2` descending the
    targets' cross-entropy. ``apply_fn`` takes the attacked coordinates (pixels when ``box``)."""
    bounds = (0.0, 1.0) if box else None
    noise = (jax.random.uniform(key, inputs.shape, inputs.dtype) if box
             else inputs + jax.random.normal(key, inputs.shape, inputs.dtype))
    count = inputs.shape[0]
    radius = jnp.full((count,), epsilon, jnp.float32)
    start = clip_to_bounds(inputs + project_l2_ball(noise - inputs, radius), bounds)
    return run_pgd_l2(apply_fn, variables, inputs, targets, start, radius,
                      jnp.full((count,), step_size, jnp.float32), jnp.ones((count,), bool),
                      bounds, num_steps=num_steps, stop_on_success=False, targeted=True)


def adversarial_set(apply_fn, variables, dataset, targets: np.ndarray, key: jax.Array, *,
                    epsilon: float, step_size: float, num_steps: int, clamp_pixels: bool = True):
    """ℓ2-UL's adversarial images: one targeted attack per (round, forget image), towards
    ``targets[round, image]``; returns ``(normalised inputs [rounds·n, ...], targets [rounds·n])``,
    round-major (the code's order)."""
    inputs = np.asarray(dataset.inputs, np.float32)
    mean = np.asarray(dataset.mean, np.float32)
    std = np.asarray(dataset.std, np.float32)
    if clamp_pixels:
        start = np.clip(pixels_in_unit_box(dataset), 0.0, 1.0)
        apply = pixel_apply(apply_fn, tuple(mean.ravel().tolist()), tuple(std.ravel().tolist()))
    else:
        start, apply = inputs, apply_fn
    tiled = np.tile(start, (targets.shape[0],) + (1,) * (start.ndim - 1))
    flat_targets = targets.reshape(-1)
    out = np.empty_like(tiled)
    size = min(_ATTACK_BATCH, len(tiled))  # one compiled shape: the last chunk is padded
    with progress_bar(-(-len(tiled) // size), "l2ul adversarial set") as bar:
        for begin in range(0, len(tiled), size):
            chunk = slice(begin, begin + size)
            rows = len(flat_targets[chunk])
            x = np.concatenate([tiled[chunk], np.repeat(tiled[chunk][:1], size - rows, 0)])
            t = np.concatenate([flat_targets[chunk],
                                np.repeat(flat_targets[chunk][:1], size - rows)])
            moved = targeted_attack(apply, variables, jnp.asarray(x), jnp.asarray(t),
                                    jax.random.fold_in(key, begin), epsilon, step_size,
                                    num_steps=num_steps, box=clamp_pixels)
            out[chunk] = np.asarray(moved)[:rows]
            bar.update(1)
    if clamp_pixels:
        out = (out - mean) / std
    return out.astype(np.float32), flat_targets


def parameter_importance(apply_fn, variables, inputs: np.ndarray, batch_size: int):
    """MAS importance on ``inputs`` (the code's ``estimate_parameter_importance``), inverted:
    per tensor Ω̂ = 1 − (Ω − min)/(max − min), Ω = Σ_batches |∂ mean ‖f(x)‖₂/∂θ| · |batch|
    (train mode; the code's division by the sample count cancels in the min-max); a constant
    tensor gets 1."""
    params = variables["params"]
    state = {k: v for k, v in variables.items() if k != "params"}

    @jax.jit
    def grad_abs(batch):
        def mean_norm(theta):
            logits, _ = apply_fn({"params": theta, **state}, batch, True)
            return jnp.mean(jnp.linalg.norm(logits.astype(jnp.float32), axis=-1))

        return jax.tree.map(jnp.abs, jax.grad(mean_norm)(params))

    total = jax.tree.map(jnp.zeros_like, params)
    for begin in range(0, len(inputs), batch_size):
        batch = jnp.asarray(inputs[begin:begin + batch_size])
        total = jax.tree.map(lambda a, g, n=len(batch): a + g * n, total, grad_abs(batch))

    def invert(omega):
        low, high = jnp.min(omega), jnp.max(omega)
        span = high - low
        return jnp.where(span > 0, 1.0 - (omega - low) / jnp.where(span > 0, span, 1.0), 1.0)

    return jax.tree.map(invert, total)


def _unlearn(params, model_state, batch, context):
    """The forget part of L: −CE(f(x_f), y_f) · n_f/(n_f + n_a), n_a the nominal adversarial
    batch (the actual one but for an epoch's last, partial batch)."""
    logits, state = logits_of(context, params, model_state, batch.inputs)
    count = jnp.sum(batch.weights)
    weight = count / jnp.maximum(count + context.aux["adversarial_batch"], 1.0)
    return -cross_entropy(logits, batch.labels, batch.weights) * weight, state


def _retain(params, model_state, batch, context):
    """The rest of L on the step's adversarial ``batch``: CE(f(x_a), t_a) · n_a/(n_f + n_a)
    (n_f from the step's forget batch) + λ Σ Ω̂ (θ − θ₀)² / 2."""
    aux = context.aux
    logits, state = logits_of(context, params, model_state, batch.inputs)
    count = jnp.sum(batch.weights)
    weight = count / jnp.maximum(count + jnp.sum(context.forget_batch.weights), 1.0)
    penalty = sum(jnp.sum(w * jnp.square(p - p0)) for w, p, p0 in zip(
        jax.tree.leaves(aux["importance"]), jax.tree.leaves(params), jax.tree.leaves(aux["origin"])))
    return (cross_entropy(logits, batch.labels, batch.weights) * weight
            + context.hyper["reg_lambda"] * penalty / 2.0), state


def _prepare(model_fns, variables, splits, hyper, key):
    forget = splits.forget_set
    if hyper["clamp_pixels"]:
        pixels_in_unit_box(forget)  # raises for inputs that are not normalised pixels
    dimension = math.prod(forget.input_shape)
    scale = math.sqrt(dimension / hyper["reference_dimension"])
    targets = attack_targets(keys.l2ul_key(key, 0), np.asarray(forget.labels),
                             splits.train.num_classes, forget_classes(splits), int(hyper["rounds"]))
    inputs, labels = adversarial_set(
        model_fns.apply, variables, forget, targets, keys.l2ul_key(key, 1),
        epsilon=hyper["pgd_epsilon"] * scale, step_size=hyper["pgd_step"] * scale,
        num_steps=int(hyper["pgd_steps"]), clamp_pixels=bool(hyper["clamp_pixels"]))
    predicted = np.argmax(predict_logits(model_fns.apply, variables, inputs), axis=-1)
    importance = parameter_importance(model_fns.apply, variables, np.asarray(forget.inputs),
                                      int(hyper["forget_batch_size"]))
    return Prepared(
        aux={"origin": variables["params"], "importance": importance,
             "adversarial_batch": jnp.float32(min(int(hyper["batch_size"]), len(labels)))},
        retain_inputs=inputs, retain_labels=labels,
        log={"l2ul_adversarial_size": int(len(labels)),
             "l2ul_epsilon": float(hyper["pgd_epsilon"] * scale),
             "l2ul_target_reached": float(np.mean(predicted == labels))})


def _validate(hyper: dict) -> None:
    for name in ("pgd_epsilon", "pgd_step", "reference_dimension"):
        if not hyper[name] > 0:
            raise ValueError(f"hyperparams: {name} must be > 0, got {hyper[name]!r}")
    for name in ("rounds", "pgd_steps"):
        if int(hyper[name]) != hyper[name] or hyper[name] < 1:
            raise ValueError(f"hyperparams: {name} must be a positive integer, got "
                             f"{hyper[name]!r}")
    if not hyper["reg_lambda"] >= 0:
        raise ValueError(f"hyperparams: reg_lambda must be >= 0, got {hyper['reg_lambda']!r}")
    if hyper["forget_batch_size"] < 1:
        raise ValueError("hyperparams: forget_batch_size must be >= 1 (the code's forget loader "
                         f"takes 32), got {hyper['forget_batch_size']!r}")


L2UL = register_method(Method(
    name="l2ul",
    summary="ℓ2-UL: −CE on D_f + CE on targeted ℓ2-PGD images of D_f + MAS-weighted distance to "
            "θ₀ (Cha et al., AAAI 2024; csm9493/L2UL Baseline 3)",
    forget_term=_unlearn,
    retain_term=_retain,
    primary="retain",
    defaults={"epochs": 5, "learning_rate": 1e-3, "momentum": 0.9, "weight_decay": 1e-4,
              "batch_size": 256, "forget_batch_size": 32, "rounds": 20, "pgd_epsilon": 4.0,
              "pgd_step": 0.1, "pgd_steps": 100, "reference_dimension": 3072.0,
              "reg_lambda": 1.0, "clamp_pixels": True},
    prepare=_prepare,
    validate=_validate,
    retain_reads_forget=True,
    per_model_data=True,
))
