"""data_free_init draws the stationary law of the dynamics without data: checked against the
AR(1) closed form and by running PNGD on rows that carry no gradient (x = 0)."""

import jax
import numpy as np
import pytest

from jaxunlearn.alu import (
    LangevinDynamics, alu_data, data_free_init, linear_params, logistic_loss, run_chains,
)


def test_draws_have_the_ar1_variance_and_stay_stationary_under_data_free_steps():
    sigma, m = 0.3, 0.05
    eta = 1 / (0.25 + m)
    a = 1 - eta * m
    variance = 2 * eta * sigma**2 / (1 - a**2)  # closed form, written here independently
    dynamics = LangevinDynamics(logistic_loss, step_size=eta, sigma=sigma, regularization=m,
                                regularizer="after")
    chains = 4_000
    start = data_free_init(0, linear_params(3), dynamics, chains=chains)
    w0 = np.asarray(start["w"], np.float64)
    assert w0.shape == (chains, 3)
    assert w0.var() == pytest.approx(variance, rel=0.04) and abs(w0.mean()) < 0.02
    data = alu_data(np.zeros((4, 3)), np.array([1, -1, 1, -1]))  # x = 0: no data gradient
    run = run_chains(dynamics, start, data, jax.random.split(jax.random.key(1), chains),
                     steps=40, params_per_chain=True)
    w = np.asarray(run.params["w"], np.float64)
    assert w.var() == pytest.approx(variance, rel=0.04)
    # and it is narrower than the official initialisation's 2σ²/m
    assert variance < 2 * sigma**2 / m


def test_same_seed_same_draws_and_bad_settings_are_refused():
    dynamics = LangevinDynamics(logistic_loss, step_size=1.0, sigma=0.1, regularization=0.1)
    first = data_free_init(3, linear_params(2), dynamics, chains=5)
    again = data_free_init(3, linear_params(2), dynamics, chains=5)
    np.testing.assert_array_equal(np.asarray(first["w"]), np.asarray(again["w"]))
    with pytest.raises(ValueError, match="regularization"):
        data_free_init(0, linear_params(2), LangevinDynamics(logistic_loss, step_size=1.0,
                                                             sigma=0.1))
    with pytest.raises(ValueError, match="radius"):
        data_free_init(0, linear_params(2), LangevinDynamics(
            logistic_loss, step_size=1.0, sigma=0.1, regularization=0.1, radius=2.0))
    with pytest.raises(ValueError, match="chains"):
        data_free_init(0, linear_params(2), dynamics, chains=0)
