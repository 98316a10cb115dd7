"""Shared problems for the attack tests, built once per session.

``linear_problem``: a two-class multinomial logistic regression on 4x4x1 inputs, whose minimal ℓ2
perturbation flipping the prediction of x is known in closed form: with w = W[:, 1] − W[:, 0] and
z = w·x + b₁ − b₀ (the logit difference), it has length d = |z| / ‖w‖ and direction
−sign(z) · w / ‖w‖. Computed here in float64 NumPy from the parameters, independently of the code.

``cnn_problem``: the library's small CNN (10 classes, random initialisation) on 8x8x1 inputs,
labelled with its own clean predictions so every sample starts correctly classified.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from attack_problems import CNNProblem, LinearProblem

from jaxunlearn.models import create_model_fns

IMAGE_SHAPE = (4, 4, 1)


@pytest.fixture(scope="session")
def linear_problem() -> LinearProblem:
    rng = np.random.default_rng(0)
    features = int(np.prod(IMAGE_SHAPE))
    kernel = rng.standard_normal((features, 2)).astype(np.float32)
    bias = (0.3 * rng.standard_normal(2)).astype(np.float32)
    inputs = rng.standard_normal((12,) + IMAGE_SHAPE).astype(np.float32)

    model = create_model_fns("logistic_regression", 2)
    variables = {"params": {"linear": {"kernel": jnp.asarray(kernel), "bias": jnp.asarray(bias)}}}

    flat = inputs.reshape(len(inputs), -1).astype(np.float64)
    w = kernel[:, 1].astype(np.float64) - kernel[:, 0].astype(np.float64)
    z = flat @ w + (float(bias[1]) - float(bias[0]))
    labels = (z > 0).astype(np.int32)  # the model's clean prediction: class 1 iff z > 0
    distances = np.abs(z) / np.linalg.norm(w)
    directions = -np.sign(z)[:, None] * (w / np.linalg.norm(w))[None, :]
    assert distances.min() > 1e-2, "keep every sample clear of the boundary"
    return LinearProblem(
        model.apply, variables, jnp.asarray(inputs), jnp.asarray(labels), distances, directions
    )


@pytest.fixture(scope="session")
def cnn_problem() -> CNNProblem:
    model = create_model_fns("small_cnn", 10)
    inputs = jax.random.normal(jax.random.key(1), (16, 8, 8, 1), jnp.float32)
    variables = jax.jit(model.init)(jax.random.key(2), inputs[:1])  # one compile, not one per op
    logits, _ = jax.jit(model.apply, static_argnames="train")(variables, inputs, train=False)
    labels = jnp.argmax(logits, axis=-1).astype(jnp.int32)
    return CNNProblem(model.apply, variables, inputs, labels)

