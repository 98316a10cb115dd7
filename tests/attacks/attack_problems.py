"""Problems and helpers shared by the attack tests (fixtures in conftest.py)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class LinearProblem(NamedTuple):
    apply_fn: Any
    variables: dict
    inputs: jax.Array
    labels: jax.Array
    distances: np.ndarray  # d = |z| / ‖w‖ per sample, float64
    directions: np.ndarray  # unit −sign(z) · w / ‖w‖ per sample, shape (n, features)


class CNNProblem(NamedTuple):
    apply_fn: Any
    variables: dict
    inputs: jax.Array
    labels: jax.Array


def predictions(apply_fn: Any, variables: Any, inputs: jax.Array) -> np.ndarray:
    logits, _ = apply_fn(variables, inputs, train=False)
    return np.asarray(jnp.argmax(logits, axis=-1))


def l2_norms(values: Any) -> np.ndarray:
    flat = np.asarray(values, np.float64).reshape(np.shape(values)[0], -1)
    return np.linalg.norm(flat, axis=1)
