"""Per-example gradient clipping, the bounded-sensitivity gradient of Langevin unlearning.

Chien, Wang, Chen & Li (NeurIPS 2024, Langevin unlearning, §1.1 of the project's note) and their
noisy-SGD follow-up clip **each example's** gradient to norm M before averaging, so replacing one
example moves the averaged gradient by at most 2M/n — the sensitivity every certificate uses:

    g(θ) = Σ_i a_i · clip_M(∇f_i(θ) + m θ)        ("inside": the official Langevin code)
    g(θ) = Σ_i a_i · clip_M(∇f_i(θ)) + m θ        ("after": the noisy-SGD code)

with clip_M(v) = v · min(1, M/‖v‖) (the global ℓ2 norm over the parameter pytree), weights
a_i ≥ 0 summing to 1 (1/n by default) and m the ℓ2 regularisation (strong convexity). Clipping the
*averaged* gradient (``optax.clip_by_global_norm``) is not equivalent: it bounds ‖g‖, not the
influence of one example, and is the right clip only for privacy amplification by iteration.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

REGULARIZERS = ("inside", "after")

# loss_fn -> a function (params, batch, clip_norm, regularization, regularizer, weights) ->
# (loss, grad) computing exactly what clipped_value_and_grad computes, in closed form (no
# per-example gradient materialised); see register_closed_form
_CLOSED_FORMS: dict = {}


def register_closed_form(loss_fn: Callable, closed_form: Callable) -> None:
    """Let :func:`clipped_value_and_grad` compute ``loss_fn``'s clipped gradient by
    ``closed_form(params, batch, clip_norm, regularization, regularizer, normalised_weights)``,
    which must return the same ``(loss, grad)`` (up to float rounding) without materialising
    per-example gradients (e.g. :func:`jaxunlearn.alu.logistic_clipped_value_and_grad`)."""
    if not callable(loss_fn) or not callable(closed_form):
        raise ValueError("loss_fn and closed_form must be callable")
    _CLOSED_FORMS[loss_fn] = closed_form


def _check_regularizer(regularizer: str) -> None:
    if regularizer not in REGULARIZERS:
        raise ValueError(f"regularizer must be one of {REGULARIZERS}, got {regularizer!r}")


def tree_norm(tree: Any) -> jax.Array:
    """‖tree‖₂ over all leaves together (per example when the leaves carry a leading axis that
    the caller vmaps over): ``optax.tree.norm``."""
    return optax.tree.norm(tree)


def clip_tree(tree: Any, clip_norm: float | jax.Array) -> Any:
    """``tree · min(1, clip_norm/‖tree‖)``: the projection of one gradient onto the ℓ2 ball."""
    factor = jnp.minimum(1.0, clip_norm / jnp.maximum(tree_norm(tree), 1e-30))
    return jax.tree_util.tree_map(lambda leaf: leaf * factor.astype(leaf.dtype), tree)


def per_example_value_and_clipped_grads(
    loss_fn: Callable,
    params: Any,
    batch: tuple,
    clip_norm: float | jax.Array,
    regularization: float | jax.Array = 0.0,
    regularizer: str = "inside",
) -> tuple[jax.Array, Any]:
    """Per-example losses and clipped per-example gradients (``jax.vmap(jax.value_and_grad)``).

    Args:
      loss_fn: ``loss_fn(params, *example) -> scalar``, the loss f_i of one example.
      params: the parameter pytree θ.
      batch: a tuple of arrays with a leading example axis B (e.g. ``(inputs, labels)``);
        example i is ``tuple(a[i] for a in batch)``.
      clip_norm: M > 0.
      regularization: m ≥ 0; with ``"inside"`` m·θ is added to every per-example gradient before
        clipping, with ``"after"`` it is left to the caller (see :func:`per_example_clipped_grad`).
      regularizer: ``"inside"`` or ``"after"``.

    Returns:
      ``(losses [B], grads)``: the unregularised losses f_i(θ) and a pytree like ``params`` with a
      leading axis B holding clip_M(∇f_i(θ) [+ m θ]).
    """
    _check_regularizer(regularizer)

    def one(example):
        value, grad = jax.value_and_grad(loss_fn)(params, *example)
        if regularizer == "inside":
            grad = jax.tree_util.tree_map(lambda g, p: g + regularization * p, grad, params)
        return value, clip_tree(grad, clip_norm)

    return jax.vmap(one)(tuple(batch))


def weighted_sum(tree: Any, weights: jax.Array) -> Any:
    """Σ_i weights[i] · tree[i] over the leading axis of every leaf."""
    return jax.tree_util.tree_map(lambda leaf: jnp.tensordot(weights.astype(leaf.dtype), leaf, 1),
                                  tree)


def clipped_value_and_grad(
    loss_fn: Callable,
    params: Any,
    batch: tuple,
    clip_norm: float | jax.Array,
    regularization: float | jax.Array = 0.0,
    regularizer: str = "inside",
    weights: jax.Array | None = None,
) -> tuple[jax.Array, Any]:
    """Weighted mean loss Σ a_i f_i and the clipped gradient of the module docstring.

    ``weights`` are the a_i ([B], non-negative); they are normalised to sum to 1, so zero
    weights mark padding or removed rows and ``None`` is the plain mean. Returns
    ``(loss, grad)``; the loss excludes the regulariser. A ``loss_fn`` with a registered closed
    form (:func:`register_closed_form`; the linear logistic loss) is computed by it instead.
    """
    _check_regularizer(regularizer)
    size = jax.tree_util.tree_leaves(batch)[0].shape[0]
    if weights is None:
        weights = jnp.full((size,), 1.0 / size, jnp.float32)
    else:
        weights = jnp.asarray(weights, jnp.float32)
        weights = weights / jnp.maximum(jnp.sum(weights), 1e-30)
    closed_form = _CLOSED_FORMS.get(loss_fn)
    if closed_form is not None:
        return closed_form(params, batch, clip_norm, regularization, regularizer, weights)
    losses, grads = per_example_value_and_clipped_grads(
        loss_fn, params, batch, clip_norm, regularization, regularizer)
    weights = weights.astype(losses.dtype)
    grad = weighted_sum(grads, weights)
    if regularizer == "after":
        grad = jax.tree_util.tree_map(lambda g, p: g + regularization * p, grad, params)
    return jnp.sum(weights * losses), grad


def per_example_clipped_grad(
    loss_fn: Callable,
    params: Any,
    batch: tuple,
    clip_norm: float | jax.Array,
    regularization: float | jax.Array = 0.0,
    regularizer: str = "inside",
    weights: jax.Array | None = None,
) -> Any:
    """The per-example-clipped gradient of Langevin unlearning (Chien et al., NeurIPS 2024).

    ``jax.vmap(jax.grad(loss_fn))`` over the examples, each gradient clipped to global ℓ2 norm
    ``clip_norm`` (M), then the (weighted) mean:

    * ``regularizer="inside"`` (the official Langevin-unlearning code, per-sample gradient
      ``x(σ(y xᵀw) − 1)y + λn·w`` clipped as a whole): Σ_i a_i clip_M(∇f_i(θ) + m θ);
    * ``regularizer="after"`` (the official noisy-SGD-unlearning code):
      Σ_i a_i clip_M(∇f_i(θ)) + m θ.

    Either way one example moves the result by at most 2 M a_i (replacement), which is what the
    certificates assume; the two coincide whenever no per-example gradient is clipped.

    Args:
      loss_fn: ``loss_fn(params, *example) -> scalar``.
      params: parameter pytree θ.
      batch: tuple of arrays with a leading example axis.
      clip_norm: M > 0.
      regularization: m ≥ 0, the coefficient of the ℓ2 term (m/2)‖θ‖² (gradient m·θ). The
        official code's λ·n corresponds to m = λ·n.
      regularizer: ``"inside"`` or ``"after"``.
      weights: optional [B] non-negative example weights (normalised to sum to 1).

    Returns:
      A pytree like ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> loss = lambda w, x: jnp.dot(w, x)          # gradient = x
      >>> xs = jnp.array([[3.0, 4.0], [0.3, 0.4]])    # norms 5 and 0.5
      >>> [round(float(v), 3) for v in per_example_clipped_grad(loss, jnp.zeros(2), (xs,), 1.0)]
      [0.45, 0.6]
    """
    return clipped_value_and_grad(loss_fn, params, batch, clip_norm, regularization,
                                  regularizer, weights)[1]
