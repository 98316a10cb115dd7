"""Learn → unlearn → retrain with vmapped chains, the Gibbs initialisation, and the certificate
of a run through jaxunlearn.certify."""

import jax
import numpy as np
import pytest

from jaxunlearn.alu import (
    LangevinDynamics,
    alu_data,
    certificate,
    chain_permutation,
    delete_private,
    gibbs_init,
    learn_unlearn_retrain,
    linear_params,
    logistic_loss,
    pnsgd_run,
    steps_for_target,
)
from jaxunlearn.certify import langevin_epsilon, langevin_steps_for_target


def _unit_rows(n, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), rng.choice(
        [-1, 1], n).astype(np.int32)


def test_gibbs_init_has_the_lsi_variance_and_the_mean():
    draws = gibbs_init(0, linear_params(4), sigma=0.3, regularization=0.5, mean=2.0,
                       chains=20_000)
    w = np.asarray(draws["w"])
    assert w.shape == (20_000, 4)
    assert w.mean() == pytest.approx(2.0, abs=0.01)
    assert w.var() == pytest.approx(2 * 0.3**2 / 0.5, rel=0.03)
    with pytest.raises(ValueError, match="regularization must be > 0"):
        gibbs_init(0, linear_params(4), sigma=0.3, regularization=0.0)


def test_protocol_phases_continue_each_other():
    """Unlearning continues the learned chains with the same permutation (PNSGD), retraining
    starts afresh; every phase of a chain equals its single-chain run."""
    x, y = _unit_rows(6)
    data = alu_data(x, y, *_unit_rows(4, seed=1))
    updated = delete_private(data, [1], seed=0)
    dynamics = LangevinDynamics(logistic_loss, 2.0, 0.2, regularization=0.2)
    draws = learn_unlearn_retrain(dynamics, linear_params(3), data, updated, chains=3,
                                  burn_in=2, unlearn_steps=2, key=7, batch_size=4)
    assert draws.learned["w"].shape == draws.unlearned["w"].shape == (3, 3)
    assert set(draws.losses) == {"learn", "unlearn", "retrain"}
    # reconstruct chain 1 from the documented key streams
    streams = jax.random.split(jax.random.key(7), 5)
    learn_key = jax.random.split(streams[1], 3)[1]
    unlearn_key = jax.random.split(streams[2], 3)[1]
    start = {"w": gibbs_init(streams[0], linear_params(3), 0.2, 0.2, chains=3)["w"][1]}
    order = chain_permutation(learn_key, len(data))
    learned = pnsgd_run(dynamics, start, data, 2, order, 4, learn_key).params
    unlearned = pnsgd_run(dynamics, learned, updated, 2, order, 4, unlearn_key).params
    np.testing.assert_allclose(draws.learned["w"][1], learned["w"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(draws.unlearned["w"][1], unlearned["w"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(draws.retrained["w"][1], unlearned["w"])


def test_protocol_rejects_data_of_another_shape():
    x, y = _unit_rows(6)
    dynamics = LangevinDynamics(logistic_loss, 2.0, 0.2, regularization=0.2)
    with pytest.raises(ValueError, match="updated_data must have the shapes of data"):
        learn_unlearn_retrain(dynamics, linear_params(3), alu_data(x, y), alu_data(x[:5], y[:5]),
                              chains=2, burn_in=1, unlearn_steps=1, key=0)
    with pytest.raises(ValueError, match="chains must be an int >= 1"):
        learn_unlearn_retrain(dynamics, linear_params(3), alu_data(x, y), alu_data(x, y),
                              chains=0, burn_in=1, unlearn_steps=1, key=0)


@pytest.mark.parametrize("weighting", ["uniform", 0.75])
def test_certificate_of_a_run_uses_its_constants_and_sizes(weighting):
    x, y = _unit_rows(100)
    data = alu_data(x, y, *_unit_rows(300, seed=1), weighting=weighting)
    m = 0.01
    dynamics = LangevinDynamics(logistic_loss, 1 / (0.25 + m), 0.05, regularization=m)
    cert = certificate(dynamics, data, num_deleted=2, steps=40)
    public_weight = None if weighting == "uniform" else 0.75
    expected = langevin_epsilon(sigma=0.05, steps=40, n_private=100, n_public=300,
                                num_deleted=2, strong_convexity=m, step_size=1 / 0.26,
                                public_weight=public_weight)
    assert cert == expected
    assert cert["sensitivity"] == pytest.approx(2 * 2 / 400 if public_weight is None
                                                else 2 * 2 * 0.25 / 100)
    k = steps_for_target(dynamics, data, 2, target_epsilon=1.0)
    assert k == langevin_steps_for_target(1.0, sigma=0.05, n_private=100, n_public=300,
                                          num_deleted=2, strong_convexity=m,
                                          step_size=1 / 0.26, public_weight=public_weight)
    assert certificate(dynamics, data, 2, k)["epsilon"] <= 1.0
