"""Rényi/KL closed forms against numerical integration, and the variational estimators against
Gaussians with known divergence (Birrell et al. 2021; Donsker & Varadhan 1983)."""


import jax
import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from jaxunlearn.evaluate.divergence import (
    estimate_renyi, kl_dv, kl_gaussian, renyi_gaussian, renyi_to_dp, renyi_variational)


def renyi_by_quadrature(mu1, s1, mu2, s2, alpha):
    integrand = lambda x: np.exp(alpha * norm.logpdf(x, mu1, s1) + (1 - alpha) * norm.logpdf(x, mu2, s2))
    value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)
    return np.log(value) / (alpha - 1)


def kl_by_quadrature(mu1, s1, mu2, s2):
    integrand = lambda x: norm.pdf(x, mu1, s1) * (norm.logpdf(x, mu1, s1) - norm.logpdf(x, mu2, s2))
    return integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]




@pytest.mark.parametrize("alpha", [0.5, 2.0, 5.0])
@pytest.mark.parametrize("params", [(1.0, 1.0, 0.0, 1.0), (0.3, 0.8, -0.2, 1.1), (2.0, 1.0, 0.5, 1.3)])
def test_renyi_gaussian_matches_quadrature(params, alpha):
    assert renyi_gaussian(*params, alpha) == pytest.approx(renyi_by_quadrature(*params, alpha),
                                                           rel=1e-6, abs=1e-9)


def test_renyi_gaussian_diagonal_is_sum_and_isotropic_formula():
    mu1, s1, mu2, s2 = np.array([0.3, -1.0]), np.array([0.8, 1.2]), np.array([0.0, 0.5]), np.array([1.1, 1.3])
    expected = sum(renyi_by_quadrature(mu1[i], s1[i], mu2[i], s2[i], 2.0) for i in range(2))
    assert renyi_gaussian(mu1, s1, mu2, s2, 2.0) == pytest.approx(expected, rel=1e-6)
    delta = np.array([1.0, 2.0, -0.5])
    assert renyi_gaussian(delta, 0.7, np.zeros(3), 0.7, 3.0) == pytest.approx(
        3.0 * delta @ delta / (2 * 0.49))


def test_renyi_gaussian_infinite_when_variance_degenerates():
    # σ_α² = α σ2² + (1 − α) σ1² ≤ 0 for a wide P, narrow Q and large α.
    assert renyi_gaussian(0.0, 3.0, 0.0, 1.0, alpha=5.0) == np.inf


@pytest.mark.parametrize("params", [(1.0, 1.0, 0.0, 1.0), (0.3, 0.8, -0.2, 1.1)])
def test_kl_gaussian_quadrature_and_limit(params):
    kl = kl_gaussian(*params)
    assert kl == pytest.approx(kl_by_quadrature(*params), rel=1e-7)
    for alpha in (1 - 1e-6, 1 + 1e-6):
        assert renyi_gaussian(*params, alpha) == pytest.approx(kl, rel=1e-4)


def test_renyi_to_dp():
    # Classic conversion by hand; the improved one is never larger.
    assert renyi_to_dp(1.0, 2.0, 1e-5, method="classic") == pytest.approx(1.0 + np.log(1e5))
    orders = np.array([1.5, 2.0, 4.0, 8.0, 16.0, 32.0])
    rdp = orders / 2.0  # Gaussian mechanism Δ/σ = 1
    improved, order = renyi_to_dp(rdp, orders, 1e-5, return_order=True)
    classic = renyi_to_dp(rdp, orders, 1e-5, method="classic")
    manual = np.min(rdp + np.log1p(-1 / orders) - (np.log(1e-5) + np.log(orders)) / (orders - 1))
    assert improved == pytest.approx(manual) and improved <= classic
    assert order in orders
    # Conversions are upper bounds: never below the exact ε(δ) = 4.3772.
    assert improved > 4.3772


def test_renyi_variational_with_optimal_critic_is_close():
    rng = np.random.default_rng(0)
    p, q = rng.normal(1.0, 1.0, (40000, 1)), rng.normal(0.0, 1.0, (40000, 1))
    critic = lambda x: x[:, 0] - 0.5  # log dP/dQ
    estimate, (low, high) = renyi_variational(p, q, 2.0, critic=critic, num_bootstrap=200)
    assert estimate == pytest.approx(1.0, abs=0.1) and low < 1.0 < high + 0.05


def test_renyi_variational_delegates_to_the_stable_estimator():
    # D_2(N(Δ, I) ‖ N(0, I)) = ‖Δ‖² = 1 in d = 2; same fit (same key, same split) as
    # estimate_renyi, whose accuracy tests/evaluate/test_evaluate_divergence_estimator.py checks.
    rng = np.random.default_rng(1)
    shift = np.full(2, np.sqrt(0.5))
    p, q = rng.normal(shift, 1.0, (100_000, 2)), rng.normal(0.0, 1.0, (100_000, 2))
    estimate, (low, high) = renyi_variational(p, q, 2.0, key=jax.random.key(0), hidden=(32, 32),
                                              num_bootstrap=100)
    assert abs(estimate - 1.0) < 0.1
    assert low <= estimate <= high
    assert estimate == pytest.approx(
        estimate_renyi(p, q, 2.0, key=jax.random.key(0), hidden=(32, 32)).test)


def test_renyi_variational_below_one_with_the_optimal_critic():
    # The variational formula holds for α in (0, 1) as well: D_0.5(N(1,1) ‖ N(0,1)) = 0.25.
    rng = np.random.default_rng(4)
    p, q = rng.normal(1.0, 1.0, (40000, 1)), rng.normal(0.0, 1.0, (40000, 1))
    estimate, _ = renyi_variational(p, q, 0.5, critic=lambda x: x[:, 0] - 0.5, num_bootstrap=50)
    assert estimate == pytest.approx(renyi_gaussian(1.0, 1.0, 0.0, 1.0, 0.5), abs=0.02)


def test_kl_dv_mlp_on_gaussians():
    rng = np.random.default_rng(2)
    p, q = rng.normal(1.0, 1.0, (40000, 2)), rng.normal(0.0, 1.0, (40000, 2))
    truth = kl_gaussian([1.0, 1.0], 1.0, [0.0, 0.0], 1.0)  # = 1
    estimate, (low, high) = kl_dv(p, q, key=jax.random.key(1), hidden=(32, 32),
                                  num_bootstrap=100)
    assert abs(estimate - truth) < 0.1 * truth and estimate < 1.1 * truth
    assert low <= estimate <= high


@pytest.mark.parametrize("call, name", [
    (lambda: renyi_gaussian(0.0, 1.0, 0.0, 1.0, alpha=1.0), "alpha"),
    (lambda: renyi_gaussian(0.0, 1.0, 0.0, 1.0, alpha=0.0), "alpha"),
    (lambda: renyi_gaussian(0.0, -1.0, 0.0, 1.0, alpha=2.0), "sigma1"),
    (lambda: renyi_gaussian(np.zeros(2), 1.0, np.zeros(3), 1.0, alpha=2.0), "shapes"),
    (lambda: kl_gaussian(0.0, 1.0, 0.0, 0.0), "sigma2"),
    (lambda: renyi_to_dp(1.0, 1.0, 1e-5), "alpha"),
    (lambda: renyi_to_dp(1.0, 2.0, 1.5), "delta"),
    (lambda: renyi_to_dp([1.0, 2.0], [2.0], 1e-5), "d_alpha and alpha"),
    (lambda: renyi_variational(np.zeros((10, 2)), np.zeros((10, 3)), 2.0, key=jax.random.key(0)), "dimension"),
    (lambda: renyi_variational(np.zeros((10, 1)), np.zeros((10, 1)), 1.0), "alpha"),
    (lambda: renyi_variational(np.zeros((10, 1)), np.zeros((10, 1)), -2.0), "alpha"),
    (lambda: renyi_variational(np.zeros((0, 1)), np.zeros((10, 1)), 2.0), "samples_p"),
    (lambda: renyi_variational(np.zeros((10, 1)), np.zeros((10, 1)), 2.0, critic="rbf"), "critic"),
    (lambda: kl_dv(np.zeros((10, 1)), np.zeros((10, 1))), "key"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
