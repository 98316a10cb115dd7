"""Binary ℓ2-regularised logistic regression, the strongly convex model of the certificates.

As in the official Langevin-unlearning code (``utils.py``, ``langevin.py``): features with
‖x‖ = 1, labels y ∈ {−1, +1}, a weight vector w without bias, per-example loss
f(w; x, y) = log(1 + exp(−y xᵀw)) whose gradient x(σ(y xᵀw) − 1)y has norm ≤ ‖x‖ = 1 and is
1/4-smooth; with the regulariser (m/2)‖w‖² the objective is m-strongly convex and
(1/4 + m)-smooth (:func:`jaxunlearn.certify.logistic_constants`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.alu.clipping import register_closed_form


def linear_params(dim: int, value: float | Any = 0.0) -> dict:
    """``{"w": [dim]}`` float32 filled with ``value`` (a scalar or a [dim] array)."""
    return {"w": jnp.broadcast_to(jnp.asarray(value, jnp.float32), (dim,))}


def logistic_loss(params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    """log(1 + exp(−y xᵀw)) for one example (x: [d], y: ±1), computed as softplus."""
    return jax.nn.softplus(-y.astype(jnp.float32) * jnp.dot(x, params["w"]))


def logistic_margins(params: Any, inputs: Any) -> np.ndarray:
    """xᵀw for every row; ``params["w"]`` may carry a leading chain axis ([C, d] → [C, n])."""
    w = np.asarray(params["w"] if isinstance(params, dict) else params, np.float64)
    return np.asarray(inputs, np.float64) @ w.T if w.ndim == 1 else w @ np.asarray(
        inputs, np.float64).T


def logistic_accuracy(params: Any, inputs: Any, labels: Any) -> np.ndarray | float:
    """Share of rows with sign(xᵀw) = y (a 0 margin counts as wrong); [C] for chained params."""
    margins = logistic_margins(params, inputs)
    correct = np.sign(margins) == np.asarray(labels)
    return float(correct.mean()) if correct.ndim == 1 else correct.mean(axis=-1)


def logistic_clipped_value_and_grad(params: dict, batch: tuple, clip_norm, regularization=0.0,
                                    regularizer: str = "inside", weights=None):
    """``clipped_value_and_grad(logistic_loss, ...)`` in closed form, without per-example
    gradients: with z_i = x_iᵀw and c_i = −y_i·sigmoid(−y_i z_i), ∇f_i = c_i x_i and

    * ``"after"``: ‖∇f_i‖ = |c_i|·‖x_i‖, g = Xᵀ(a ⊙ s ⊙ c) + m w;
    * ``"inside"``: ‖c_i x_i + m w‖² = c_i²‖x_i‖² + 2 c_i m z_i + m²‖w‖²,
      g = Xᵀ(a ⊙ s ⊙ c) + m w · Σ_i a_i s_i,

    with s_i = min(1, M/‖·‖) the clip factor of :func:`~jaxunlearn.alu.clip_tree` and a the
    weights (``None``: 1/B each; otherwise normalised to sum to 1). Two matrix products per
    step instead of a [B, d] gradient array per chain; registered with
    :func:`~jaxunlearn.alu.clipping.register_closed_form`, so every PNGD/PNSGD run of
    :func:`logistic_loss` uses it. Returns ``(Σ a_i f_i, {"w": g})``.
    """
    if regularizer not in ("inside", "after"):
        raise ValueError(f"regularizer must be 'inside' or 'after', got {regularizer!r}")
    inputs, labels = batch
    w = params["w"]
    y = labels.astype(jnp.float32)
    z = inputs @ w
    if weights is None:
        weights = jnp.full(z.shape, 1.0 / z.shape[0], jnp.float32)
    else:
        weights = jnp.asarray(weights, jnp.float32)
        weights = weights / jnp.maximum(jnp.sum(weights), 1e-30)
    u = -y * z  # f_i = softplus(u_i); one exp serves the loss and the sigmoid
    e = jnp.exp(-jnp.abs(u))
    losses = jnp.maximum(u, 0.0) + jnp.log1p(e)
    c = -y * jnp.where(u >= 0, 1.0, e) / (1.0 + e)
    x_sq = jnp.sum(jnp.square(inputs), axis=1)
    if regularizer == "after":
        norm_sq = jnp.square(c) * x_sq
    else:
        norm_sq = jnp.maximum(jnp.square(c) * x_sq + 2.0 * c * regularization * z
                              + jnp.square(regularization) * jnp.sum(jnp.square(w)), 0.0)
    scale = jnp.minimum(1.0, clip_norm / jnp.maximum(jnp.sqrt(norm_sq), 1e-30))
    coefficient = weights * scale
    grad = (coefficient * c) @ inputs
    if regularizer == "after":
        grad = grad + regularization * w
    else:
        grad = grad + regularization * w * jnp.sum(coefficient)
    return jnp.sum(weights * losses), {"w": grad.astype(w.dtype)}


register_closed_form(logistic_loss, logistic_clipped_value_and_grad)
