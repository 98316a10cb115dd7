"""Rényi/KL closed forms against numerical integration, and the variational estimators against
Gaussians with known divergence (Birrell et al. 2021; Donsker & Varadhan 1983)."""


import jax
import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from jaxunlearn.evaluate.divergence import (
    kl_dv, kl_gaussian, renyi_gaussian, renyi_to_dp, renyi_variational)


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


@pytest.mark.parametrize("alpha, dim", [(2.0, 1), (1.5, 3)])
def test_renyi_variational_mlp_on_gaussians(alpha, dim):
    # D_α(N(Δ, I) ‖ N(0, I)) = α‖Δ‖²/2; a lower bound up to noise: within 20% and never more
    # than 15% above the truth.
    rng = np.random.default_rng(1)
    shift = np.zeros(dim)
    shift[0] = 1.0 if dim == 1 else 0.6
    shift[1:] = 0.4 if dim > 1 else 0.0
    truth = alpha * shift @ shift / 2
    p = rng.normal(shift, 1.0, (20000, dim))
    q = rng.normal(0.0, 1.0, (20000, dim))
    estimate, (low, high) = renyi_variational(p, q, alpha, steps=1500, key=jax.random.key(0),
                                              num_bootstrap=200)
    assert abs(estimate - truth) < 0.2 * truth
    assert estimate < 1.15 * truth
    assert low <= estimate <= high


def test_kl_dv_mlp_on_gaussians():
    rng = np.random.default_rng(2)
    p, q = rng.normal(1.0, 1.0, (20000, 2)), rng.normal(0.0, 1.0, (20000, 2))
    truth = kl_gaussian([1.0, 1.0], 1.0, [0.0, 0.0], 1.0)  # = 1
    estimate, (low, high) = kl_dv(p, q, steps=1500, key=jax.random.key(1), num_bootstrap=200)
    assert abs(estimate - truth) < 0.15 * truth and estimate < 1.1 * truth
    assert low <= estimate <= high


def test_identical_samples_give_near_zero():
    rng = np.random.default_rng(3)
    p, q = rng.normal(size=(10000, 2)), rng.normal(size=(10000, 2))
    estimate, _ = renyi_variational(p, q, 2.0, steps=800, key=jax.random.key(2), num_bootstrap=50)
    assert abs(estimate) < 0.05


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
