"""The retraining cost under the same certificate (jaxunlearn.certify.retraining), against a
float64 brute force (tests/certify/certify_reference.py), the Gaussian AR(1) closed form and a
Monte-Carlo draw of it, and an exact Gaussian divergence below the bound."""

import numpy as np
import pytest

from certify_reference import steps_linear_scan
from jaxunlearn.certify import (
    data_free_variance, langevin_steps_for_target, public_for_no_more_than_retraining,
    retraining_epsilon, retraining_steps_for_target, unlearning_vs_retraining,
)

SETTINGS = [dict(sigma=0.05, strong_convexity=0.05, step_size=1 / 0.3, delta=1e-4),
            dict(sigma=0.03, strong_convexity=0.01, step_size=1 / 0.26, delta=1 / 300)]


@pytest.mark.parametrize("setting", SETTINGS)
def test_retraining_steps_match_a_linear_scan_with_sensitivity_m(setting):
    # Δ_0 = M: the brute force's 4αS²M²/(mσ²n²) with S = 1, n = 2 is αM²/(mσ²)
    for target in (0.5, 1.0, 4.0):
        reference = steps_linear_scan(target, delta=setting["delta"], n_total=2, num_deleted=1,
                                      strong_convexity=setting["strong_convexity"],
                                      step_size=setting["step_size"], sigma=setting["sigma"])
        assert retraining_steps_for_target(target, **setting) == reference


def test_data_free_variance_is_the_stationary_variance_of_the_ar1_chain():
    sigma, m, eta = 0.2, 0.05, 1 / 0.3
    a = 1 - eta * m
    closed = 2 * eta * sigma**2 / (1 - a**2)
    assert data_free_variance(sigma, m, eta) == pytest.approx(closed, rel=1e-12)
    rng = np.random.default_rng(0)
    theta = np.zeros(200_000)
    for _ in range(200):  # a^200 ≈ 1e-16: stationary
        theta = a * theta + np.sqrt(2 * eta) * sigma * rng.standard_normal(theta.shape)
    assert theta.var() == pytest.approx(closed, rel=0.015)


def test_the_data_free_bound_covers_an_exact_gaussian_divergence():
    # a linear data loss -g·θ with |g| <= M: the data chain's stationary law is the data-free
    # one shifted by -g/m (same AR(1) variance v), and D_α = α g²/(2 m² v) exactly
    sigma, m, eta, clip = 0.05, 0.05, 1 / 0.3, 1.0
    v = data_free_variance(sigma, m, eta)
    for g in (0.3, 1.0):
        for alpha in (2.0, 8.0):
            exact = alpha * g**2 / (2 * m**2 * v)
            bound = retraining_epsilon(sigma=sigma, steps=0, strong_convexity=m, step_size=eta,
                                       delta=1e-4, clip_norm=clip,
                                       alpha_range=(alpha, alpha * (1 + 1e-9)))["renyi"]
            assert exact <= bound * (1 + 1e-6)


def test_unlearning_half_the_private_set_costs_retraining_and_public_data_change_the_order():
    kw = dict(sigma=0.05, strong_convexity=0.05, step_size=1 / 0.3, delta=1e-4)
    n_private = 2_000
    T = retraining_steps_for_target(1.0, **kw)
    for deleted, n_public in ((1_000, 0), (600, 0), (1_400, 0), (1_400, 800), (1_400, 700)):
        result = unlearning_vs_retraining(1.0, n_private=n_private, n_public=n_public,
                                          num_deleted=deleted, adjacency="remove", **kw)
        reference = steps_linear_scan(1.0, delta=kw["delta"], n_total=n_private + n_public,
                                      num_deleted=deleted, strong_convexity=0.05,
                                      step_size=1 / 0.3, sigma=0.05)
        assert result["unlearn_steps"] == reference and result["retrain_steps"] == T
        twice = 2 * deleted
        if twice == n_private + n_public:
            assert result["unlearn_steps"] == T
        elif twice < n_private + n_public:
            assert result["unlearn_steps"] <= T
        else:
            assert result["unlearn_steps"] >= T
        assert result["ratio"] == pytest.approx(reference / T)
    # the threshold: K <= T from it on, K >= T below it (brute force on either side)
    def k_of(deleted, n_public):
        return steps_linear_scan(1.0, delta=kw["delta"], n_total=n_private + n_public,
                                 num_deleted=deleted, strong_convexity=0.05, step_size=1 / 0.3,
                                 sigma=0.05)

    assert public_for_no_more_than_retraining(300, n_private) == 0
    threshold = public_for_no_more_than_retraining(1_500, n_private)
    assert threshold == 1_000
    assert k_of(1_500, threshold) == T and k_of(1_500, threshold + 400) < T
    assert k_of(1_500, threshold - 400) > T


def test_bad_arguments_name_themselves():
    kw = dict(sigma=0.05, strong_convexity=0.05, step_size=1 / 0.3, delta=1e-4)
    with pytest.raises(ValueError, match="sigma"):
        retraining_steps_for_target(1.0, **{**kw, "sigma": 0.0})
    with pytest.raises(ValueError, match="step_size \\* strong_convexity"):
        data_free_variance(0.1, 1.0, 2.5)
    with pytest.raises(ValueError, match="delta"):
        retraining_epsilon(steps=3, **{**kw, "delta": 1.5})
    with pytest.raises(ValueError, match="steps"):
        retraining_epsilon(steps=-1, **kw)
    with pytest.raises(ValueError, match="num_deleted"):
        public_for_no_more_than_retraining(0, 10)
    with pytest.raises(ValueError, match="target_epsilon"):
        retraining_steps_for_target(-1.0, **kw)


def test_unlearning_steps_agree_with_the_langevin_certificate():
    kw = dict(sigma=0.05, strong_convexity=0.05, step_size=1 / 0.3, delta=1e-4)
    result = unlearning_vs_retraining(1.0, n_private=10_000, n_public=40_000, num_deleted=3_000,
                                      adjacency="replace", **kw)
    assert result["unlearn_steps"] == langevin_steps_for_target(
        1.0, n_private=10_000, n_public=40_000, num_deleted=3_000, adjacency="replace", **kw)
    assert result["sensitivity"] == pytest.approx(2 * 3_000 / 50_000)
