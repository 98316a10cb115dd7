"""The competition metric against the Gaussian-mechanism privacy profile and a brute-force
NumPy rewrite of the decision-rule definitions (Triantafillou et al. 2024, §3)."""


import numpy as np
import pytest
from scipy import optimize
from scipy.stats import norm

from jaxunlearn.evaluate.competition import (
    competition_score, epsilon_from_rates, forget_quality, per_example_epsilon, retrain_ceiling)

GAUSSIAN_EPSILON = 4.3772  # exact ε(δ = 1e-5) of the Gaussian mechanism with Δ/σ = 1


def gaussian_mechanism_epsilon(mu, delta):
    """ε solving δ = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2) (Balle & Wang 2018, Thm 8)."""
    profile = lambda eps: norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * norm.cdf(-eps / mu - mu / 2)
    return optimize.brentq(lambda eps: profile(eps) - delta, 0.0, 50.0, xtol=1e-12)


def brute_force_epsilon(unlearned, retrained, delta=1e-5, cap=50.0):
    """Per-example ε written from the metric's definitions: explicit rule grids, explicit
    comparisons of every sample with every rule."""
    out = []
    for s in range(unlearned.shape[1]):
        u, r = unlearned[:, s], retrained[:, s]
        pos, neg = (r, u) if np.median(r) > np.median(u) else (u, r)
        range_pos, range_neg = np.ptp(pos), np.ptp(neg)
        if min(range_pos, range_neg) / max(range_pos, range_neg) < 0.01:
            out.append(cap)
            continue
        fprs, fnrs = [], []
        # Single threshold: predict positive when value >= t.
        lo, hi = min(pos.min(), neg.min()), max(pos.max(), neg.max())
        for t in np.linspace(lo, hi, int(np.ceil((hi - lo) * 100))):
            fprs.append(np.mean(neg >= t))
            fnrs.append(np.mean(pos < t))
        # Double threshold: predict the narrower side inside [l, r].
        width = min(range_pos, range_neg)
        peaky, other = (neg, pos) if range_pos >= range_neg else (pos, neg)
        lo_r, hi_r = peaky.min() + width - 2.0, peaky.max() + 2.0
        for right in np.linspace(lo_r, hi_r, int(np.ceil((hi_r - lo_r) * 100))):
            lefts = np.linspace(right - width - 2.0, right - width + 2.0, 400)
            inside_peaky = (lefts[:, None] <= peaky[None]) & (peaky[None] <= right)
            inside_other = (lefts[:, None] <= other[None]) & (other[None] <= right)
            fprs.extend(inside_other.mean(axis=1))
            fnrs.extend(1.0 - inside_peaky.mean(axis=1))
        best = -np.inf
        for fpr, fnr in zip(fprs, fnrs):
            if fpr == 0 and fnr == 0:
                best = np.inf
            elif fpr == 0 or fnr == 0:
                continue
            else:
                candidates = [np.log((1 - delta - a) / b) for a, b in ((fpr, fnr), (fnr, fpr))
                              if 1 - delta - a > 0]
                if candidates:
                    best = max(best, max(0.0, max(candidates)))
        out.append(min(max(best, 0.0), cap))
    return np.array(out)




def test_oracle_value_is_the_gaussian_mechanism_epsilon():
    assert gaussian_mechanism_epsilon(1.0, 1e-5) == pytest.approx(GAUSSIAN_EPSILON, abs=1e-4)


def test_population_rates_give_exact_gaussian_epsilon():
    # Unlearned ~ N(1, 1) (positive), retrained ~ N(0, 1); single-threshold population rates.
    t = np.linspace(-10.0, 11.0, 400_001)
    eps = epsilon_from_rates(norm.sf(t), norm.cdf(t - 1.0), delta=1e-5)
    assert eps == pytest.approx(gaussian_mechanism_epsilon(1.0, 1e-5), abs=1e-3)
    eps_two = epsilon_from_rates(norm.sf(t), norm.cdf(t - 2.0), delta=1e-3)
    assert eps_two == pytest.approx(gaussian_mechanism_epsilon(2.0, 1e-3), abs=1e-3)


@pytest.mark.parametrize("seed", range(5))
def test_finite_sample_gaussian_epsilon(seed):
    # 20,000 models per side: the optimal rule sits where FNR ~ 1e-6, below 1/M, so the estimate
    # is limited by the sample tail; stated tolerance ±1.0 around 4.3772.
    rng = np.random.default_rng(seed)
    unlearned = rng.normal(1.0, 1.0, (20_000, 1))
    retrained = rng.normal(0.0, 1.0, (20_000, 1))
    eps = per_example_epsilon(unlearned, retrained, delta=1e-5)
    assert abs(eps[0] - GAUSSIAN_EPSILON) < 1.0


def test_identical_distributions_give_small_epsilon():
    rng = np.random.default_rng(3)
    eps = per_example_epsilon(rng.normal(size=(512, 40)), rng.normal(size=(512, 40)))
    assert eps.mean() < 2.5 and np.median(eps) < 2.0
    assert np.all(eps < 5.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_brute_force_reference(seed):
    rng = np.random.default_rng(seed)
    num_models, num_examples = 12, 4
    shifts = rng.normal(0.0, 1.5, num_examples)
    unlearned = rng.normal(shifts, rng.uniform(0.5, 2.0, num_examples), (num_models, num_examples))
    retrained = rng.normal(0.0, 1.0, (num_models, num_examples))
    # One example with a collapsed unlearned side triggers the 1% range rule.
    unlearned[:, 3] = 0.7 + 1e-4 * rng.normal(size=num_models)
    expected = brute_force_epsilon(unlearned, retrained)
    assert expected[3] == 50.0
    np.testing.assert_allclose(per_example_epsilon(unlearned, retrained), expected, rtol=1e-12)


def test_perfect_separation_hits_the_cap():
    rng = np.random.default_rng(0)
    eps = per_example_epsilon(rng.normal(20.0, 1.0, (32, 2)), rng.normal(0.0, 1.0, (32, 2)))
    np.testing.assert_array_equal(eps, [50.0, 50.0])
    eps = per_example_epsilon(rng.normal(20.0, 1.0, (32, 1)), rng.normal(0.0, 1.0, (32, 1)), cap=10)
    assert eps[0] == 10.0


def test_forget_quality_buckets_by_hand():
    # 512 models: ⌈log 511⌉ = 7 → 14 buckets of width 0.5, 2^-k points, 0 from ε = 7 on.
    eps = np.array([0.0, 0.49, 0.5, 1.2, 6.99, 7.0, 50.0])
    points = [1.0, 1.0, 0.5, 0.25, 2.0**-13, 0.0, 0.0]
    assert forget_quality(eps, 512) == pytest.approx(np.mean(points), abs=1e-15)
    # 64 models: ⌈log 63⌉ = 5 → 10 buckets.
    assert forget_quality(np.array([4.75, 5.0]), 64) == pytest.approx(2.0**-9 / 2)


def test_forget_quality_of_identical_gaussians():
    # Perfect unlearning does not score 1: with both rule families F ≈ 0.18 at M = 64 and 512
    # (the note's simulation: 0.16–0.19); accept [0.10, 0.30].
    rng = np.random.default_rng(0)
    for num_models, num_examples in ((64, 150), (512, 60)):
        eps = per_example_epsilon(rng.normal(size=(num_models, num_examples)),
                                  rng.normal(size=(num_models, num_examples)))
        assert 0.10 <= forget_quality(eps, num_models) <= 0.30


def test_retrain_ceiling():
    rng = np.random.default_rng(2)
    pool = rng.normal(size=(128, 100))
    ceiling = retrain_ceiling(pool, num_models=64, seed=0)
    assert 0.10 <= ceiling <= 0.30
    other = rng.normal(size=(64, 100))
    assert 0.10 <= retrain_ceiling(pool[:64], other) <= 0.30
    # A bad unlearner (shifted by 3σ) scores far below the ceiling.
    eps = per_example_epsilon(rng.normal(3.0, 1.0, (64, 100)), pool[:64])
    assert forget_quality(eps, 64) < 0.2 * ceiling


def test_competition_score():
    assert competition_score(0.5, [0.9, 0.7], 0.8, 0.6, [0.75, 0.75]) == pytest.approx(0.4)
    assert competition_score(1.0, 0.9, 0.9, 0.8, 0.8) == pytest.approx(1.0)


@pytest.mark.parametrize("call, name", [
    (lambda: per_example_epsilon(np.zeros((4, 2)), np.zeros((5, 2))), "unlearned and retrained"),
    (lambda: per_example_epsilon(np.zeros(4), np.zeros(4)), "unlearned"),
    (lambda: per_example_epsilon(np.zeros((4, 0)), np.zeros((4, 0))), "unlearned"),
    (lambda: per_example_epsilon(np.ones((4, 1)), np.zeros((4, 1)), delta=1.0), "delta"),
    (lambda: per_example_epsilon(np.ones((4, 1)), np.zeros((4, 1)), delta=0.0), "delta"),
    (lambda: per_example_epsilon(np.ones((4, 1)), np.zeros((4, 1)), rules=("x",)), "rules"),
    (lambda: forget_quality(np.array([]), 8), "epsilons"),
    (lambda: forget_quality(np.array([1.0]), 1), "num_models"),
    (lambda: competition_score(1.5, 1, 1, 1, 1), "forget_quality_value"),
    (lambda: competition_score(0.5, [], 1, 1, 1), "acc_unlearned_retain"),
    (lambda: retrain_ceiling(np.zeros((10, 3)), num_models=6), "num_models"),
    (lambda: epsilon_from_rates([0.1], [0.1, 0.2]), "fpr and fnr"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
