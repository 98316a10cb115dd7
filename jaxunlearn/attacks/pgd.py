"""Untargeted ℓ2 projected gradient ascent on the cross-entropy (PGD-ℓ2).

Madry, Makelov, Schmidt, Tsipras & Vladu (ICLR 2018), "Towards Deep Learning Models Resistant to
Adversarial Attacks", the inner maximisation of Eq. (2.1) by projected gradient steps (their
§2.1): the adversary maximises the loss over the ball S = {δ : ‖δ‖₂ ≤ ε} around each input by

    x^{t+1} = Π_{x + S}( x^t + α · g^t / ‖g^t‖₂ ),   g^t = ∇_x CE(f(x^t), y),

the ℓ2 form of their steepest-ascent step, where Π_{x+S} rescales the perturbation δ = x^t − x to
length min(‖δ‖₂, ε).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.attacks._common import (
    Bounds,
    check_bounds,
    check_examples,
    check_positive_int,
    check_radius,
    clip_to_bounds,
    per_example,
    project_l2_ball,
    random_point_in_ball,
    summed_cross_entropy,
    unit_direction,
)

DEFAULT_STEP_FACTOR = 2.5
"""Default step size α = 2.5 · ε / num_steps: after num_steps steps the iterate can travel 2.5
times the radius, so it reaches the boundary of the ball from any start inside it (the choice of
Madry et al.'s released attacks and of the `robustness` library)."""


def run_pgd_l2(
    apply_fn: Callable[..., Any],
    variables: Any,
    inputs: jax.Array,
    labels: jax.Array,
    start: jax.Array,
    epsilon: jax.Array,
    step_size: jax.Array,
    active: jax.Array,
    input_bounds: Bounds | None,
    *,
    num_steps: int,
    stop_on_success: bool,
    targeted: bool = False,
) -> jax.Array:
    """``num_steps`` PGD-ℓ2 steps from ``start``, traceable; the shared core of the attacks.

    Args:
      inputs: clean inputs x, shape (n, ...); the balls are centred on them.
      labels: (n,) int labels y whose cross-entropy is ascended.
      start: first iterate, shape of ``inputs``, inside each ball.
      epsilon, step_size: (n,) radius ε and step length α of each example.
      active: (n,) bool; inactive examples keep their ``start``.
      stop_on_success: freeze an example at the first iterate whose prediction differs from its
        label, so the returned point is the first adversarial one found on the path.
      targeted: descend the cross-entropy of ``labels`` instead (a targeted attack: ``labels``
        are the classes to reach; advertorch's ``targeted=True``); not with ``stop_on_success``.

    Returns:
      The last (or, with ``stop_on_success``, the first adversarial) iterates, shape of ``inputs``.
    """
    if targeted and stop_on_success:
        raise ValueError("stop_on_success stops at a misclassified point; a targeted attack has "
                         "no such stop here")
    input_gradient = jax.grad(summed_cross_entropy, has_aux=True)
    step_size = per_example(step_size, inputs).astype(inputs.dtype)

    def step(_: int, carry: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        adversarial, moving = carry
        gradient, logits = input_gradient(adversarial, apply_fn, variables, labels)
        if stop_on_success:
            moving = moving & (jnp.argmax(logits, axis=-1) == labels)
        ascended = adversarial + step_size * unit_direction(-gradient if targeted else gradient)
        delta = project_l2_ball(ascended - inputs, epsilon)
        candidate = clip_to_bounds(inputs + delta, input_bounds)
        adversarial = jnp.where(per_example(moving, inputs), candidate, adversarial)
        return adversarial, moving

    adversarial, _ = jax.lax.fori_loop(0, num_steps, step, (start, active))
    return adversarial


@partial(
    jax.jit,
    static_argnames=("apply_fn", "num_steps", "random_start", "stop_on_success"),
)
def _pgd_l2(
    apply_fn: Callable[..., Any],
    variables: Any,
    inputs: jax.Array,
    labels: jax.Array,
    epsilon: jax.Array,
    step_size: jax.Array | None,
    key: jax.Array | None,
    input_bounds: Bounds | None,
    *,
    num_steps: int,
    random_start: bool,
    stop_on_success: bool,
) -> jax.Array:
    num_examples = inputs.shape[0]
    epsilon = jnp.broadcast_to(jnp.asarray(epsilon, jnp.float32), (num_examples,))
    if step_size is None:
        step_size = DEFAULT_STEP_FACTOR * epsilon / num_steps
    step_size = jnp.broadcast_to(jnp.asarray(step_size, jnp.float32), (num_examples,))
    labels = labels.astype(jnp.int32)
    start = inputs
    if random_start:
        noise = random_point_in_ball(
            key, jnp.arange(num_examples), epsilon, inputs.shape[1:]
        ).astype(inputs.dtype)
        start = clip_to_bounds(inputs + noise, input_bounds)
    return run_pgd_l2(
        apply_fn, variables, inputs, labels, start, epsilon, step_size,
        jnp.ones((num_examples,), bool), input_bounds,
        num_steps=num_steps, stop_on_success=stop_on_success,
    )


def pgd_l2(
    apply_fn: Callable[..., Any],
    variables: Any,
    inputs: jax.Array,
    labels: jax.Array,
    *,
    epsilon: float | jax.Array,
    step_size: float | jax.Array | None = None,
    num_steps: int = 10,
    key: jax.Array | None = None,
    random_start: bool = False,
    stop_on_success: bool = False,
    input_bounds: Bounds | None = None,
) -> jax.Array:
    """Untargeted PGD-ℓ2 adversarial inputs (Madry et al., ICLR 2018, inner max of Eq. (2.1)).

    Maximises the cross-entropy CE(f(x + δ), y) over ‖δ‖₂ ≤ ε for each example by ``num_steps``
    normalised-gradient steps x ← Π(x + α · g/‖g‖₂), projecting the perturbation back onto the
    example's ball after every step (see the module docstring). The model runs in eval mode
    (``train=False``), where every example's logits depend only on that example; all examples
    move together, from one backward pass per step. Compiled once per ``apply_fn``, input shape
    and ``num_steps``; it also runs inside a caller's ``jax.jit`` (then traced values are not
    checked).

    Args:
      apply_fn: ``apply_fn(variables, inputs, train, rng=None) -> (logits, new_mutable)``, as
        in :class:`jaxunlearn.models.ModelFns`; it must be hashable (functions are).
      variables: the model's variables pytree.
      inputs: clean inputs x, float, shape (n, ...), e.g. NHWC images (already normalised).
      labels: int labels y, shape (n,).
      epsilon: radius ε > 0 of the ℓ2 ball, a scalar or one per example (shape (n,)).
      step_size: step length α > 0, a scalar or shape (n,); default ``2.5 · ε / num_steps``.
      num_steps: number of steps, >= 1 (static).
      key: PRNG key, needed only with ``random_start``.
      random_start: start from a uniform point of each ball instead of x itself.
      stop_on_success: freeze an example at the first iterate the model no longer labels y (the
        closest adversarial point found on the path) instead of ascending the loss further.
      input_bounds: optional ``(lower, upper)`` valid input range, each a scalar or broadcastable
        to one example (e.g. per-channel ``(C,)`` arrays of normalised pixel bounds); iterates
        are clipped to it after each projection, which never lengthens δ for x inside the range.

    Returns:
      Adversarial inputs x' with ‖x' − x‖₂ ≤ ε per example, same shape and dtype as ``inputs``.

    Raises:
      ValueError: naming ``epsilon`` or ``step_size`` if not positive and finite, or of the wrong
        shape; ``num_steps`` if < 1; ``labels`` if its shape does not match ``inputs``;
        ``key`` if ``random_start`` without a key; ``input_bounds`` if malformed.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from jaxunlearn.models import create_model_fns
      >>> model = create_model_fns("logistic_regression", 2)
      >>> variables = {"params": {"linear": {"kernel": jnp.array([[1.0, -1.0], [0.0, 0.0]]),
      ...                                     "bias": jnp.zeros(2)}}}
      >>> x = jnp.array([[0.5, 0.0]])   # logits (0.5, -0.5): 0.5 away from the boundary x₀ = 0
      >>> x_adv = pgd_l2(model.apply, variables, x, jnp.array([0]), epsilon=0.6, num_steps=20)
      >>> round(float(jnp.linalg.norm(x_adv - x)), 4)
      0.6
      >>> int(jnp.argmax(model.apply(variables, x_adv, train=False)[0]))
      1
    """
    check_examples(inputs, labels)
    num_examples = np.shape(inputs)[0]
    num_steps = check_positive_int(num_steps, "num_steps")
    check_radius(epsilon, "epsilon", num_examples)
    if step_size is not None:
        check_radius(step_size, "step_size", num_examples)
    if random_start and key is None:
        raise ValueError("`key` is required when `random_start=True`")
    check_bounds(input_bounds, tuple(np.shape(inputs)[1:]))
    return _pgd_l2(
        apply_fn, variables, jnp.asarray(inputs), jnp.asarray(labels), epsilon, step_size,
        key if random_start else None, input_bounds,
        num_steps=num_steps, random_start=bool(random_start),
        stop_on_success=bool(stop_on_success),
    )
