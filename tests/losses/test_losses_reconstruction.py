"""Reconstruction losses against NumPy float64: the capped MSE of ``i2i_decouple``'s bounded
ascent and the encoding MSE of ``i2i_noise_target``, with padding weights."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.losses import capped_reconstruction_mse, encoding_mse, reconstruction_mse

RNG = np.random.default_rng(0)
OUTPUTS = RNG.normal(size=(6, 4, 4, 2)).astype(np.float32)
TARGETS = RNG.normal(size=(6, 4, 4, 2)).astype(np.float32)
WEIGHTS = np.array([1, 1, 1, 1, 1, 0], np.float32)


def _per_example(a, b):
    return np.mean(np.square(a.astype(np.float64) - b.astype(np.float64)).reshape(len(a), -1),
                   axis=1)


def test_capped_mse_is_the_weighted_mean_of_min_error_cap():
    errors = _per_example(OUTPUTS, TARGETS)
    cap = float(np.median(errors[:5]))
    expected = np.sum(np.minimum(errors, cap)[:5]) / 5
    value = capped_reconstruction_mse(jnp.asarray(OUTPUTS), jnp.asarray(TARGETS),
                                      jnp.asarray(WEIGHTS), cap)
    assert float(value) == pytest.approx(expected, rel=1e-5)
    # a cap above every error is the plain reconstruction MSE
    uncapped = capped_reconstruction_mse(jnp.asarray(OUTPUTS), jnp.asarray(TARGETS),
                                         jnp.asarray(WEIGHTS), 1e9)
    assert float(uncapped) == pytest.approx(float(reconstruction_mse(
        jnp.asarray(OUTPUTS), jnp.asarray(TARGETS), jnp.asarray(WEIGHTS))), rel=1e-6)


def test_encoding_mse_is_the_weighted_mean_over_entries():
    student, teacher = OUTPUTS.reshape(6, -1)[:, :16], TARGETS.reshape(6, -1)[:, :16]
    expected = np.sum(_per_example(student, teacher)[:5]) / 5
    value = encoding_mse(jnp.asarray(student), jnp.asarray(teacher), jnp.asarray(WEIGHTS))
    assert float(value) == pytest.approx(expected, rel=1e-5)
    # all-padding batches give 0, not NaN
    assert float(encoding_mse(jnp.asarray(student), jnp.asarray(teacher), jnp.zeros(6))) == 0.0
