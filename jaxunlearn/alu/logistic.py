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
