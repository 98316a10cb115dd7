"""The random start is uniform in each ℓ2 ball: checked with scipy's Kolmogorov–Smirnov test."""

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from jaxunlearn.attacks._common import random_point_in_ball as _random_point_in_ball

random_point_in_ball = jax.jit(_random_point_in_ball, static_argnums=3)


def test_random_start_is_uniform_in_the_ball():
    dimension, samples = 3, 4000
    radius = jnp.full((samples,), 2.0)
    points = np.asarray(
        random_point_in_ball(jax.random.key(0), jnp.arange(samples), radius, (1, dimension, 1)),
        np.float64,
    ).reshape(samples, dimension)
    norms = np.linalg.norm(points, axis=1)
    assert norms.max() <= 2.0 * (1 + 1e-6)
    # Uniform in a d-ball: P(‖δ‖ ≤ r) = (r / ε)^d, and the direction is uniform on the sphere
    # (each coordinate of δ/‖δ‖ uniform on [−1, 1] when d = 3, Archimedes' hat-box theorem).
    assert stats.kstest((norms / 2.0) ** dimension, "uniform").pvalue > 1e-3
    assert stats.kstest(points[:, 0] / norms, "uniform", args=(-1.0, 2.0)).pvalue > 1e-3


def test_random_start_depends_on_the_example_index_only():
    radius = jnp.ones((4,))
    first = random_point_in_ball(jax.random.key(1), jnp.arange(4), radius, (2, 2, 1))
    shifted = random_point_in_ball(jax.random.key(1), jnp.arange(2, 6), radius, (2, 2, 1))
    np.testing.assert_array_equal(first[2:], shifted[:2])
    assert not np.allclose(first[0], first[1])
