"""Audited ε lower bounds: Clopper–Pearson against scipy's Beta quantiles, and the bound against
the exact privacy profile of a Gaussian mechanism (Jagielski et al. 2020; Nasr et al. 2021)."""


import numpy as np
import pytest
from scipy import optimize
from scipy.stats import beta, norm

from jaxunlearn.evaluate.epsilon_bounds import (
    clopper_pearson_interval, clopper_pearson_lower, clopper_pearson_upper, epsilon_lower_bound)


def gaussian_mechanism_epsilon(mu, delta):
    profile = lambda eps: norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * norm.cdf(-eps / mu - mu / 2)
    return optimize.brentq(lambda eps: profile(eps) - delta, 0.0, 50.0, xtol=1e-12)




@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (1, 1000), (517, 1000)])
@pytest.mark.parametrize("level", [0.9, 0.975])
def test_clopper_pearson_matches_beta_ppf(k, n, level):
    upper = 1.0 if k == n else beta.ppf(level, k + 1, n - k)
    lower = 0.0 if k == 0 else beta.ppf(1 - level, k, n - k + 1)
    assert clopper_pearson_upper(k, n, level) == pytest.approx(upper, rel=1e-9, abs=1e-12)
    assert clopper_pearson_lower(k, n, level) == pytest.approx(lower, rel=1e-9, abs=1e-12)
    low, high = clopper_pearson_interval(k, n, 2 * level - 1)
    assert (low, high) == pytest.approx((lower, upper), rel=1e-9, abs=1e-12)


def test_clopper_pearson_coverage():
    rng = np.random.default_rng(0)
    p, n = 0.03, 200
    k = rng.binomial(n, p, 4000)
    assert np.mean(clopper_pearson_upper(k, n, 0.95) >= p) >= 0.95


def test_bound_below_true_gaussian_epsilon_with_high_probability():
    rng = np.random.default_rng(1)
    mu, delta = 2.0, 1e-5
    true_eps = gaussian_mechanism_epsilon(mu, delta)
    bounds = np.array([
        epsilon_lower_bound(rng.normal(mu, 1.0, 1000), rng.normal(0.0, 1.0, 1000), delta)
        for _ in range(100)
    ])
    assert np.mean(bounds <= true_eps) >= 0.95
    assert bounds.mean() > 1.0  # the attack still finds something


def test_bound_vanishes_for_identical_distributions():
    rng = np.random.default_rng(2)
    bounds = [epsilon_lower_bound(rng.normal(size=2000), rng.normal(size=2000), 1e-5)
              for _ in range(10)]
    assert max(bounds) < 0.15


def test_threshold_returned_and_direction_symmetric():
    rng = np.random.default_rng(3)
    a, b = rng.normal(3.0, 1.0, 500), rng.normal(0.0, 1.0, 500)
    eps, threshold = epsilon_lower_bound(a, b, 1e-5, return_threshold=True)
    assert eps > 0.5 and b.min() <= threshold <= a.max()
    # Negated scores with swapped roles is the same test.
    assert epsilon_lower_bound(-b, -a, 1e-5) == pytest.approx(eps, rel=0.05)


@pytest.mark.parametrize("call, name", [
    (lambda: epsilon_lower_bound([], [1.0], 1e-5), "scores_members"),
    (lambda: epsilon_lower_bound([1.0], np.zeros((2, 2)), 1e-5), "scores_nonmembers"),
    (lambda: epsilon_lower_bound([1.0], [0.0], 0.0), "delta"),
    (lambda: epsilon_lower_bound([1.0], [0.0], 1e-5, confidence=1.0), "confidence"),
    (lambda: clopper_pearson_upper(5, 3), "successes"),
    (lambda: clopper_pearson_upper(0, 0), "trials"),
    (lambda: clopper_pearson_upper(1, 3, level=1.5), "level"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
