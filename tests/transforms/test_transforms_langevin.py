"""Langevin noise and ℓ2-ball projection against closed forms and Monte Carlo."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.transforms import add_langevin_noise, project_l2_ball


def test_noise_mean_and_variance_match_two_step_sigma_squared():
    step_size, sigma = 0.05, 0.7
    tx = add_langevin_noise(step_size, sigma, key=1)
    params = {"a": jnp.zeros((200, 50)), "b": jnp.zeros(7)}
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = tx.init(params)
    draws = []
    for _ in range(20):
        noise, state = tx.update(zeros, state, params)
        draws.append(np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(noise)]))
    draws = np.stack(draws)  # (20 steps, 10,007 coordinates)
    expected_variance = 2 * step_size * sigma**2
    n = draws.size
    assert abs(draws.mean()) < 4 * np.sqrt(expected_variance / n)
    # sample variance of n normals has sd ≈ variance * sqrt(2/n)
    assert abs(draws.var() - expected_variance) < 4 * expected_variance * np.sqrt(2 / n)
    # fresh noise every step, uncorrelated across steps
    correlation = np.corrcoef(draws[0], draws[1])[0, 1]
    assert abs(correlation) < 4 / np.sqrt(draws.shape[1])


def test_leaves_of_one_shape_get_independent_noise_in_their_own_dtype():
    params = {"a": jnp.zeros((100, 40)), "b": jnp.zeros((100, 40)),
              "c": jnp.zeros((3,), jnp.bfloat16)}
    tx = add_langevin_noise(0.5, 1.0, key=3)
    noise, _ = tx.update(params, tx.init(params), params)
    a, b = np.ravel(noise["a"]), np.ravel(noise["b"])
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(a.size)  # not the same slice twice
    assert abs(a.var() - 1.0) < 4 * np.sqrt(2 / a.size) and abs(b.var() - 1.0) < 4 * np.sqrt(2 / b.size)
    assert noise["c"].dtype == jnp.bfloat16 and np.all(np.asarray(noise["c"], np.float32) != 0)


def test_noise_is_added_to_the_update_and_reproducible():
    params = {"w": jnp.zeros(5)}
    updates = {"w": jnp.arange(5.0)}
    first, _ = add_langevin_noise(0.1, 1.0, key=7).update(updates, add_langevin_noise(0.1, 1.0, key=7).init(params))
    tx = add_langevin_noise(0.1, 1.0, key=jax.random.key(7))
    second, _ = tx.update(updates, tx.init(params))
    np.testing.assert_array_equal(first["w"], second["w"])  # int seed == typed key
    zero_noise, _ = add_langevin_noise(0.1, 0.0).update(updates, add_langevin_noise(0.1, 0.0).init(params))
    np.testing.assert_array_equal(zero_noise["w"], updates["w"])


def test_noisy_gradient_descent_reaches_the_discrete_gibbs_variance():
    """ULA on F(x) = m/2 x² with step η: x' = (1 − ηm)x + √(2η)σW has stationary variance
    2σ² / (m (2 − ηm)) (a closed form), sampled here over 4,000 vmapped chains."""
    m, eta, sigma = 2.0, 0.1, 0.5
    tx = optax.chain(optax.sgd(eta), add_langevin_noise(eta, sigma, key=0))
    chains = 4000

    def run(seed):
        params = jnp.ones(())
        state = tx.init(params)
        state = (state[0], state[1]._replace(key=jax.random.key_data(jax.random.key(seed))))

        def body(carry, _):
            params, state = carry
            updates, state = tx.update(m * params, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, _), _ = jax.lax.scan(body, (params, state), None, length=200)
        return params

    samples = np.asarray(jax.jit(jax.vmap(run))(jnp.arange(chains)))
    expected = 2 * sigma**2 / (m * (2 - eta * m))
    assert abs(samples.mean()) < 4 * np.sqrt(expected / chains)
    assert abs(samples.var() - expected) < 4 * expected * np.sqrt(2 / chains)


def test_projection_matches_the_closed_form():
    rng = np.random.default_rng(0)
    params = {"a": jnp.asarray(rng.standard_normal((3, 4))), "b": jnp.asarray(rng.standard_normal(2))}
    updates = jax.tree_util.tree_map(lambda p: 2.0 * p + 0.5, params)
    radius = 1.5
    tx = project_l2_ball(radius)
    projected_updates, _ = tx.update(updates, tx.init(params), params)
    moved = np.concatenate([np.ravel(np.asarray(p) + np.asarray(u))
                            for p, u in zip(jax.tree_util.tree_leaves(params),
                                            jax.tree_util.tree_leaves(updates))])
    expected = moved * min(1.0, radius / np.linalg.norm(moved))
    result = np.concatenate([np.ravel(np.asarray(p) + np.asarray(u))
                             for p, u in zip(jax.tree_util.tree_leaves(params),
                                             jax.tree_util.tree_leaves(projected_updates))])
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
    assert np.linalg.norm(result) == pytest.approx(radius, rel=1e-5)
    # inside the ball the update is unchanged
    small = jax.tree_util.tree_map(lambda p: 0.01 * p, params)
    inside = {"a": 0.01 * params["a"], "b": 0.01 * params["b"]}
    unchanged, _ = tx.update(small, tx.init(inside), inside)
    jax.tree_util.tree_map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6), unchanged, small)


@pytest.mark.parametrize("factory, kwargs, name", [
    (add_langevin_noise, {"step_size": -0.1, "sigma": 1.0}, "step_size"),
    (add_langevin_noise, {"step_size": 0.0, "sigma": 1.0}, "step_size"),
    (add_langevin_noise, {"step_size": 0.1, "sigma": -1.0}, "sigma"),
    (add_langevin_noise, {"step_size": 0.1, "sigma": float("nan")}, "sigma"),
    (add_langevin_noise, {"step_size": float("inf"), "sigma": 1.0}, "step_size"),
    (project_l2_ball, {"radius": 0.0}, "radius"),
    (project_l2_ball, {"radius": -2.0}, "radius"),
    (project_l2_ball, {"radius": float("inf")}, "radius"),
])
def test_bad_hyperparameters_raise_when_built(factory, kwargs, name):
    with pytest.raises(ValueError, match=name):
        factory(**kwargs)


def test_projection_requires_params():
    tx = project_l2_ball(1.0)
    with pytest.raises(ValueError, match="params"):
        tx.update({"w": jnp.ones(2)}, tx.init(None))
