"""Nearby adversarial examples by PGD-ℓ2 within a growing radius: AMUN's adversarial set.

AMUN (Ebrahimpour-Boroojeny, Sundaram & Chandrasekaran, "AMUN: Adversarial Machine UNlearning",
arXiv 2503.00917; ICML 2025 as "Not All Wrong is Bad: Using Adversarial Examples for Unlearning")
fine-tunes the original model on adversarial examples of the forget samples, labelled with the
model's own (wrong) prediction on them. For each forget sample (x, y) it looks for an
adversarial example close to x: PGD-ℓ2 (PGD-50) within radius ε, starting from a small ε and
doubling it until the model's prediction on x' differs from y. The set D_adv = {(x', f(x'))} is
then used for fine-tuning together with the forget set (and the remaining data, when available).

The authors' released code (``Ali-E/AMUN``, ``build_advdataset.py`` with ``pgdl2_modified.py``)
takes the PGD step α = ε/10 with 50 steps and no random start, stops a sample at the first
iterate that is misclassified, continues from the last iterate when ε doubles (from ε₀ = 0.04 in
the current code, 0.01 with 10 steps in the first commit, with no cap on the doublings), and
clamps every iterate to the pixel box [0, 1]. ``input_bounds`` gives that box; the AMUN method
(:mod:`jaxunlearn.methods.amun`) runs the search in pixel coordinates so that ε and the box are
the authors'. ``max_rounds`` is a safety cap the authors do not have.

Here the whole search for a batch is one compiled ``jax.lax.while_loop`` over rounds: every sample
carries its own radius, a sample that has flipped is frozen (keeps its x', label and ε) while the
others grow ε ← growth · ε and continue from their last iterate, and the loop ends when all have
flipped or after ``max_rounds``. Batches are processed one after another with ``jax.lax.map``, so
memory is bounded by ``batch_size`` whatever the number of samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.attacks._common import (
    Bounds,
    check_bounds,
    check_examples,
    check_positive_int,
    check_radius,
    check_scalar,
    clip_to_bounds,
    per_example,
    predict,
    random_point_in_ball,
)
from jaxunlearn.attacks.pgd import run_pgd_l2


class AdversarialSearchResult(NamedTuple):
    """What :func:`adversarial_examples_growing_radius` found, one row per sample.

    Attributes:
      adversarial_inputs: x', shape of the inputs; ‖x' − x‖₂ ≤ ``epsilons`` per sample.
      adversarial_labels: y' = arg-max prediction of the model on x', int32, shape (n,).
      epsilons: radius of the ball x' was found in (the last radius tried where the search
        failed; 0 where the model already misclassifies x, and x' = x), float32, shape (n,).
      success: y' ≠ y, bool, shape (n,).
    """

    adversarial_inputs: jax.Array
    adversarial_labels: jax.Array
    epsilons: jax.Array
    success: jax.Array


def _search_batch(
    apply_fn: Callable[..., Any],
    variables: Any,
    inputs: jax.Array,
    labels: jax.Array,
    initial_epsilon: jax.Array,
    example_index: jax.Array,
    growth: jax.Array,
    relative_step_size: jax.Array,
    key: jax.Array | None,
    input_bounds: Bounds | None,
    *,
    num_steps: int,
    max_rounds: int,
    random_start: bool,
) -> AdversarialSearchResult:
    clean_labels = predict(apply_fn, variables, inputs)
    already_wrong = clean_labels != labels
    start = inputs
    if random_start:
        noise = random_point_in_ball(key, example_index, initial_epsilon, inputs.shape[1:])
        start = clip_to_bounds(inputs + noise.astype(inputs.dtype), input_bounds)
        start = jnp.where(per_example(already_wrong, inputs), inputs, start)

    def unfinished(state: tuple[jax.Array, ...]) -> jax.Array:
        round_index, _, _, _, success = state
        return (round_index < max_rounds) & ~jnp.all(success)

    def search_round(state: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
        round_index, adversarial, adversarial_labels, epsilon, success = state
        grow = (round_index > 0) & ~success
        epsilon = jnp.where(grow, epsilon * growth, epsilon)
        # Warm start: the last iterate lies inside the new, larger ball. Frozen samples keep
        # their iterate, hence their prediction.
        adversarial = run_pgd_l2(
            apply_fn, variables, inputs, labels, adversarial, epsilon,
            relative_step_size * epsilon, ~success, input_bounds,
            num_steps=num_steps, stop_on_success=True,
        )
        adversarial_labels = jnp.where(
            success, adversarial_labels, predict(apply_fn, variables, adversarial)
        )
        success = adversarial_labels != labels
        return round_index + 1, adversarial, adversarial_labels, epsilon, success

    _, adversarial, adversarial_labels, epsilon, success = jax.lax.while_loop(
        unfinished,
        search_round,
        (jnp.int32(0), start, clean_labels, initial_epsilon, already_wrong),
    )
    return AdversarialSearchResult(
        adversarial_inputs=adversarial,
        adversarial_labels=adversarial_labels,
        epsilons=jnp.where(already_wrong, 0.0, epsilon),
        success=success,
    )


@partial(
    jax.jit,
    static_argnames=("apply_fn", "num_steps", "max_rounds", "batch_size", "random_start"),
)
def _search(
    apply_fn: Callable[..., Any],
    variables: Any,
    inputs: jax.Array,
    labels: jax.Array,
    initial_epsilon: jax.Array,
    growth: jax.Array,
    relative_step_size: jax.Array,
    key: jax.Array | None,
    input_bounds: Bounds | None,
    *,
    num_steps: int,
    max_rounds: int,
    batch_size: int,
    random_start: bool,
) -> AdversarialSearchResult:
    num_examples = inputs.shape[0]
    num_batches = math.ceil(num_examples / batch_size)
    # The last batch is padded with copies of the last sample, so every batch has one shape;
    # the copies are dropped at the end.
    example_index = jnp.minimum(jnp.arange(num_batches * batch_size), num_examples - 1)
    initial_epsilon = jnp.broadcast_to(
        jnp.asarray(initial_epsilon, jnp.float32), (num_examples,)
    )

    def batched(values: jax.Array) -> jax.Array:
        return values[example_index].reshape((num_batches, batch_size) + values.shape[1:])

    def search_batch(batch: tuple[jax.Array, ...]) -> AdversarialSearchResult:
        batch_inputs, batch_labels, batch_epsilon, batch_index = batch
        return _search_batch(
            apply_fn, variables, batch_inputs, batch_labels, batch_epsilon, batch_index,
            jnp.asarray(growth, jnp.float32), jnp.asarray(relative_step_size, jnp.float32),
            key, input_bounds,
            num_steps=num_steps, max_rounds=max_rounds, random_start=random_start,
        )

    results = jax.lax.map(
        search_batch,
        (
            batched(inputs),
            batched(labels.astype(jnp.int32)),
            batched(initial_epsilon),
            batched(jnp.arange(num_examples)),
        ),
    )
    return jax.tree.map(
        lambda values: values.reshape((num_batches * batch_size,) + values.shape[2:])[
            :num_examples
        ],
        results,
    )


def adversarial_examples_growing_radius(
    apply_fn: Callable[..., Any],
    variables: Any,
    inputs: jax.Array,
    labels: jax.Array,
    *,
    initial_epsilon: float | jax.Array,
    growth: float = 2.0,
    max_rounds: int = 10,
    num_steps: int = 50,
    relative_step_size: float = 0.1,
    batch_size: int | None = 128,
    key: jax.Array | None = None,
    random_start: bool = False,
    input_bounds: Bounds | None = None,
) -> AdversarialSearchResult:
    """AMUN's adversarial set: per sample, PGD-ℓ2 within a radius that grows until y' ≠ y.

    For each sample (x, y) (AMUN, arXiv 2503.00917, construction of the adversarial set): round 0
    runs ``num_steps`` PGD-ℓ2 steps (:func:`jaxunlearn.attacks.pgd_l2`; Madry et al. 2018, inner
    maximisation of Eq. (2.1)) of length α = ``relative_step_size`` · ε within ‖x' − x‖₂ ≤ ε = ``initial_epsilon``;
    each later round multiplies the radius of the samples still classified as y by ``growth``
    and continues from their last iterate. A sample stops at the first iterate whose prediction
    differs from y, so x' is the first adversarial point on its path and ε the radius of the
    round that found it: ε ∈ [d, growth · d] when ε₀ < d and PGD reaches the closest boundary
    point, at distance d, within any radius above d (exactly so for a linear model). AMUN doubles ε (``growth=2``) with PGD-50 and
    α = ε/10 (the defaults here). A sample the model already misclassifies keeps x' = x, ε = 0.

    The model runs in eval mode (``train=False``). Everything for a batch is one compiled
    ``while_loop``; batches of ``batch_size`` run in sequence (``lax.map``), so memory is bounded
    and the results do not depend on ``batch_size``.

    Args:
      apply_fn: ``apply_fn(variables, inputs, train, rng=None) -> (logits, new_mutable)`` (see
        :class:`jaxunlearn.models.ModelFns`); hashable (functions are).
      variables: the model's variables pytree.
      inputs: forget samples x, float, shape (n, ...), e.g. NHWC images (already normalised).
      labels: their int labels y, shape (n,).
      initial_epsilon: first radius ε₀ > 0, a scalar or one per sample (shape (n,)).
      growth: factor > 1 applied to ε after each unsuccessful round.
      max_rounds: rounds at most, >= 1; the largest radius tried is ε₀ · growth^(max_rounds−1).
      num_steps: PGD steps per round, >= 1.
      relative_step_size: PGD step length as a fraction of the round's ε, > 0.
      batch_size: samples searched at once, >= 1; ``None`` searches all at once.
      key: PRNG key, needed only with ``random_start``; each sample's draw depends on the key and
        its position only, not on the batching.
      random_start: start round 0 from a uniform point of the initial ball instead of x.
      input_bounds: optional ``(lower, upper)`` valid input range (scalars or broadcastable to one
        sample, e.g. per-channel bounds of normalised pixels); iterates are clipped to it.

    Returns:
      An :class:`AdversarialSearchResult` ``(adversarial_inputs, adversarial_labels, epsilons,
      success)``; unpacks as a 4-tuple.

    Raises:
      ValueError: naming ``initial_epsilon`` (not positive and finite, or not a scalar or (n,)),
        ``growth`` (not finite or <= 1), ``relative_step_size``, ``max_rounds``, ``num_steps``,
        ``batch_size`` (< 1), ``labels`` (shape not matching ``inputs``), ``key`` (missing with
        ``random_start``) or ``input_bounds``; raised before anything is compiled.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxunlearn.models import create_model_fns
      >>> model = create_model_fns("logistic_regression", 2)
      >>> variables = {"params": {"linear": {"kernel": jnp.array([[1.0, -1.0], [0.0, 0.0]]),
      ...                                     "bias": jnp.zeros(2)}}}
      >>> x = jnp.array([[0.5, 0.0], [-1.5, 0.0]])   # 0.5 and 1.5 from the boundary x₀ = 0
      >>> result = adversarial_examples_growing_radius(
      ...     model.apply, variables, x, jnp.array([0, 1]), initial_epsilon=0.1)
      >>> result.epsilons.tolist(), result.adversarial_labels.tolist()
      ([0.800000011920929, 1.600000023841858], [1, 0])
    """
    check_examples(inputs, labels)
    num_examples = np.shape(inputs)[0]
    check_radius(initial_epsilon, "initial_epsilon", num_examples)
    check_scalar(growth, "growth", greater_than=1.0)
    check_scalar(relative_step_size, "relative_step_size", greater_than=0.0)
    max_rounds = check_positive_int(max_rounds, "max_rounds")
    num_steps = check_positive_int(num_steps, "num_steps")
    batch_size = (
        num_examples if batch_size is None else check_positive_int(batch_size, "batch_size")
    )
    if random_start and key is None:
        raise ValueError("`key` is required when `random_start=True`")
    check_bounds(input_bounds, tuple(np.shape(inputs)[1:]))
    return _search(
        apply_fn, variables, jnp.asarray(inputs), jnp.asarray(labels), initial_epsilon,
        growth, relative_step_size, key if random_start else None, input_bounds,
        num_steps=num_steps, max_rounds=max_rounds,
        batch_size=min(batch_size, num_examples), random_start=bool(random_start),
    )
