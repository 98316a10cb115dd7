"""PNGD / PNSGD against a float64 NumPy reimplementation with the same noise, vmapped chains
against sequential ones, the σ = 0 limit against scipy/sklearn, and the Gibbs law of a 1-D
quadratic (the discretised Ornstein–Uhlenbeck process)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

from jaxunlearn.alu import (
    LangevinDynamics,
    alu_data,
    linear_params,
    logistic_loss,
    pngd_run,
    pnsgd_run,
    run_chains,
    step_noise,
)

ETA, SIGMA, CLIP, M, RADIUS = 0.5, 0.1, 0.6, 0.3, 1.5


def _data(n_private=7, n_public=5, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.2, 3.0, (n_private + n_public, 1))  # some rows clipped, some not
    x = (rng.normal(size=(n_private + n_public, dim)) * scale).astype(np.float32)
    y = rng.choice([-1, 1], n_private + n_public).astype(np.int32)
    return x[:n_private], y[:n_private], x[n_private:], y[n_private:]


def _clipped_grad_float64(w, xs, ys, weights, regularizer):
    total = np.zeros_like(w)
    for x, y, a in zip(xs, ys, weights / weights.sum()):
        g = -y * x / (1.0 + np.exp(y * x @ w))
        if regularizer == "inside":
            g = g + M * w
        total += a * g * min(1.0, CLIP / max(np.linalg.norm(g), 1e-30))
    return total + (M * w if regularizer == "after" else 0.0)


PROJECTED = []  # norms before the projection, to check that it was active


def _step_float64(w, grad, noise):
    moved = w - ETA * grad + np.sqrt(2 * ETA * SIGMA**2) * noise
    PROJECTED.append(np.linalg.norm(moved))
    return moved * min(1.0, RADIUS / np.linalg.norm(moved))


def _noise(key, step, dim):
    return np.asarray(step_noise(key, step, linear_params(dim))["w"], np.float64)


@pytest.mark.parametrize("regularizer", ["inside", "after"])
def test_pngd_equals_float64_reference(regularizer):
    xp, yp, xq, yq = _data()
    data = alu_data(xp, yp, xq, yq)
    dynamics = LangevinDynamics(logistic_loss, ETA, SIGMA, CLIP, M, regularizer, RADIUS)
    start = np.array([2.0, -1.0, 0.5, 0.0])
    run = pngd_run(dynamics, linear_params(4, start), data, steps=6, key=3)
    xs, ys = np.concatenate([xp, xq]).astype(np.float64), np.concatenate([yp, yq])
    w, weights, key = start.copy(), np.ones(len(ys)), jax.random.key(3)
    PROJECTED.clear()
    for t in range(6):
        w = _step_float64(w, _clipped_grad_float64(w, xs, ys, weights, regularizer),
                          _noise(key, t, 4))
    np.testing.assert_allclose(np.asarray(run.params["w"]), w, rtol=2e-5, atol=2e-6)
    assert max(PROJECTED) > RADIUS > min(PROJECTED)  # projected at some steps, not at all


def test_pnsgd_equals_float64_reference_with_public_weight():
    """n = 12 rows in batches of 5 (5, 5, 2 + padding), one fixed permutation for 2 epochs;
    public mass w = 0.3, so each batch is an a_i-weighted mean."""
    xp, yp, xq, yq = _data()
    data = alu_data(xp, yp, xq, yq, weighting=0.3)
    dynamics = LangevinDynamics(logistic_loss, ETA, SIGMA, CLIP, M, "inside", RADIUS)
    permutation = np.random.default_rng(1).permutation(12)
    run = pnsgd_run(dynamics, linear_params(4), data, 2, permutation, 5, key=9)
    xs, ys = np.concatenate([xp, xq]).astype(np.float64), np.concatenate([yp, yq])
    a = np.asarray(data.weights, np.float64)
    np.testing.assert_allclose(a[:7].sum(), 0.7, rtol=1e-6)
    w, key = np.zeros(4), jax.random.key(9)
    for t in range(6):
        batch = permutation[(t % 3) * 5:(t % 3) * 5 + 5]
        w = _step_float64(w, _clipped_grad_float64(w, xs[batch], ys[batch], a[batch], "inside"),
                          _noise(key, t, 4))
    np.testing.assert_allclose(np.asarray(run.params["w"]), w, rtol=2e-5, atol=2e-6)
    assert run.losses.shape == (6,)


def test_vmapped_chains_equal_sequential_chains():
    xp, yp, xq, yq = _data()
    data = alu_data(xp, yp, xq, yq)
    dynamics = LangevinDynamics(logistic_loss, ETA, SIGMA, CLIP, M, "inside")
    keys = jax.random.split(jax.random.key(5), 3)
    starts = {"w": jnp.asarray(np.random.default_rng(2).normal(size=(3, 4)), jnp.float32)}
    chained = run_chains(dynamics, starts, data, keys, steps=4, params_per_chain=True)
    for c in range(3):  # (PNSGD chains: tests/alu/test_alu_protocol.py)
        one = pngd_run(dynamics, {"w": starts["w"][c]}, data, 4, keys[c])
        np.testing.assert_allclose(chained.params["w"][c], one.params["w"], rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(chained.losses[c], one.losses, rtol=1e-5)
    assert not np.allclose(chained.params["w"][0], chained.params["w"][1])


def test_noiseless_dynamics_reach_the_regularised_logistic_optimum():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.where(x @ rng.normal(size=5) + 0.3 * rng.normal(size=60) > 0, 1, -1)
    m = 0.05
    dynamics = LangevinDynamics(logistic_loss, 1.0 / (0.25 + m), 0.0, clip_norm=10.0,
                                regularization=m)
    w = np.asarray(pngd_run(dynamics, linear_params(5), alu_data(x, y), 300, key=0).params["w"])

    def objective(v):
        margins = y * (x @ v)
        return np.mean(np.logaddexp(0.0, -margins)) + 0.5 * m * v @ v, (
            -(x * (y / (1.0 + np.exp(margins)))[:, None]).mean(0) + m * v)

    scipy_w = optimize.minimize(objective, np.zeros(5), jac=True, method="L-BFGS-B",
                                options={"gtol": 1e-12, "ftol": 1e-15}).x
    sklearn_w = LogisticRegression(C=1.0 / (m * len(y)), fit_intercept=False, tol=1e-12,
                                   max_iter=10_000).fit(x, y).coef_[0]
    np.testing.assert_allclose(w, scipy_w, atol=2e-5)
    np.testing.assert_allclose(w, sklearn_w, atol=1e-4)


def test_stationary_variance_of_the_discretised_quadratic():
    """F = m x²/2: x ← (1 − ηm)x + √(2ησ²)W has stationary variance 2ησ²/(1 − (1 − ηm)²), 5 %
    above the Gibbs value σ²/m at these constants; 32,768 vmapped chains tell them apart."""
    eta, sigma, m = 0.5, 0.3, 0.2
    zero = lambda params, x, y: 0.0 * params["w"][0]  # noqa: E731  all curvature from m
    dynamics = LangevinDynamics(zero, eta, sigma, clip_norm=1e6, regularization=m,
                                regularizer="after")
    data = alu_data(np.zeros((1, 1)), np.zeros(1))
    keys = jax.random.split(jax.random.key(0), 32_768)
    run = run_chains(dynamics, {"w": jnp.full((1,), 3.0)}, data, keys, steps=150)
    draws = np.asarray(run.params["w"][:, 0], np.float64)
    discrete = 2 * eta * sigma**2 / (1 - (1 - eta * m) ** 2)
    assert abs(draws.mean()) < 4 * np.sqrt(discrete / draws.size)
    assert draws.var() == pytest.approx(discrete, rel=0.03)
    assert abs(draws.var() - discrete) < abs(draws.var() - sigma**2 / m)


def test_no_public_rows_is_the_symmetric_dynamics():
    """n_pub = 0 and a public set of weight w = 0 give the trajectory of the private data alone."""
    xp, yp, xq, yq = _data()
    dynamics = LangevinDynamics(logistic_loss, ETA, SIGMA, CLIP, M, "inside")
    private = pngd_run(dynamics, linear_params(4), alu_data(xp, yp), 5, key=1).params["w"]
    zero_weight = pngd_run(dynamics, linear_params(4), alu_data(xp, yp, xq, yq, 0.0), 5,
                           key=1).params["w"]
    uniform = pngd_run(dynamics, linear_params(4), alu_data(xp, yp, xq, yq), 5,
                       key=1).params["w"]
    np.testing.assert_allclose(zero_weight, private, rtol=1e-6, atol=1e-7)
    assert not np.allclose(uniform, private, atol=1e-4)


@pytest.mark.parametrize("field, value, pattern", [
    ("step_size", 0.0, "step_size must be > 0"),
    ("sigma", -1.0, "sigma must be >= 0"),
    ("clip_norm", 0.0, "clip_norm must be > 0"),
    ("regularization", float("nan"), "regularization must be a finite number"),
    ("radius", -0.5, "radius must be >= 0"),
    ("regularizer", "both", "regularizer must be one of"),
])
def test_bad_constants_fail_before_anything_compiles(field, value, pattern):
    kwargs = dict(loss_fn=logistic_loss, step_size=0.1, sigma=0.1)
    kwargs[field] = value
    with pytest.raises(ValueError, match=pattern):
        LangevinDynamics(**kwargs)


def test_bad_run_arguments():
    dynamics = LangevinDynamics(logistic_loss, 0.1, 0.1)
    data = alu_data(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match="data must be an ALUData"):
        pngd_run(dynamics, linear_params(2), (np.ones((4, 2)), np.ones(4)), 1, 0)
    with pytest.raises(ValueError, match="permutation must have shape"):
        pnsgd_run(dynamics, linear_params(2), data, 1, np.arange(3), 2, 0)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        pnsgd_run(dynamics, linear_params(2), data, 1, np.arange(4), 0, 0)
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        run_chains(dynamics, linear_params(2), data, jax.random.split(jax.random.key(0), 2))
    with pytest.raises(ValueError, match="permutation is only used with a batch_size"):
        run_chains(dynamics, linear_params(2), data, jax.random.split(jax.random.key(0), 2),
                   steps=1, permutation=np.arange(4))
