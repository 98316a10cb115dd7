"""Limits and monotonicity of the Langevin/ALU certificate, and the inverses' round trips."""

import numpy as np
import pytest

from jaxunlearn.certify import (
    gradient_sensitivity, langevin_epsilon, langevin_sigma_for_target, langevin_steps_for_target,
    lu_eps0, lu_renyi, lu_sequential, rdp_to_dp, sigma_for_target, steps_for_target,
)

M_FIXED = 0.01
BASE = dict(n_private=10_000, num_deleted=100, strong_convexity=M_FIXED, step_size=1.0 / 0.26)


def epsilon(**overrides):
    kwargs = dict(BASE, sigma=0.03, steps=500)
    kwargs.update(overrides)
    return langevin_epsilon(**kwargs)


def test_public_data_shrinks_eps0_quadratically():
    n_public = np.geomspace(1e5, 1e8, 16).round().astype(int)
    eps0 = [lu_eps0(10.0, gradient_sensitivity(100, 1.0, 10_000, int(p)), M_FIXED, 0.03)
            for p in n_public]
    slope = np.polyfit(np.log(n_public), np.log(eps0), 1)[0]
    assert slope == pytest.approx(-2.0, abs=0.02)
    assert eps0[-1] < 1e-5 * eps0[0]
    # The Rényi bound at a fixed K and order carries the same 1/n_pub² factor.
    renyi = [lu_renyi(10.0, 500, BASE["step_size"], M_FIXED, e) for e in eps0]
    assert np.polyfit(np.log(n_public), np.log(renyi), 1)[0] == pytest.approx(-2.0, abs=0.02)


def test_many_steps_leave_only_the_conversion_floor():
    assert lu_renyi(100.0, 10**7, BASE["step_size"], M_FIXED, 5.0) < 1e-100
    cert = epsilon(steps=10**8)
    delta = 1.0 / 10_000
    assert cert["renyi"] < 1e-12
    assert cert["alpha"] == pytest.approx(1e4)
    assert cert["epsilon"] == pytest.approx(np.log(1 / delta) / (1e4 - 1), rel=1e-9)


def test_large_noise_leaves_only_the_conversion_floor():
    sensitivity = gradient_sensitivity(100, 1.0, 10_000)
    renyi = [lu_renyi(10.0, 500, BASE["step_size"], M_FIXED,
                      lu_eps0(10.0, sensitivity, M_FIXED, s)) for s in (1.0, 10.0, 100.0)]
    np.testing.assert_allclose(np.array(renyi[:2]) / np.array(renyi[1:]), 100.0)  # ∝ 1/σ²
    assert renyi[-1] < 1e-5
    cert = epsilon(sigma=1e6)
    assert cert["epsilon"] == pytest.approx(np.log(10_000) / (1e4 - 1), rel=1e-6)


@pytest.mark.parametrize("name, values, direction", [
    ("num_deleted", [1, 10, 100, 1000], +1),
    ("steps", [0, 10, 100, 1000, 5000], -1),
    ("sigma", [0.01, 0.03, 0.1, 0.3], -1),
    ("n_public", [0, 1000, 10_000, 100_000], -1),
])
def test_monotone(name, values, direction):
    eps = np.array([epsilon(**{name: v})["epsilon"] for v in values])
    assert np.all(direction * np.diff(eps) > 0), eps


def test_no_public_data_is_the_symmetric_formula():
    n, m, sigma, k, alpha = 10_000, M_FIXED, 0.03, 500, 12.0
    coded = np.exp(-k * m * BASE["step_size"] / alpha) * 4 * alpha * 100**2 / (m * sigma**2 * n**2)
    cert = epsilon(n_public=0)
    renyi_at = lu_renyi(alpha, k, BASE["step_size"], m,
                        lambda a: lu_eps0(a, cert["sensitivity"], m, sigma))
    assert renyi_at == pytest.approx(coded, rel=1e-12)
    assert cert["sensitivity"] == 2 * 100 / n
    # public_weight = 0 ignores the public points entirely.
    assert gradient_sensitivity(100, 1.0, n, 5000, public_weight=0.0) == cert["sensitivity"]


def test_zero_steps_is_the_learning_bound():
    alpha = np.array([2.0, 10.0, 100.0])
    eps0 = lu_eps0(alpha, 0.02, M_FIXED, 0.03)
    assert np.array_equal(lu_renyi(alpha, 0, 3.8, M_FIXED, eps0[1]), np.full(3, eps0[1]))
    assert np.array_equal(lu_renyi(alpha, 0, 3.8, M_FIXED, lambda a: lu_eps0(a, 0.02, M_FIXED,
                                                                           0.03)), eps0)
    cert = epsilon(steps=0)
    assert cert["renyi"] == cert["eps0_at_alpha"]


def test_steps_inverse_round_trip():
    for target in (0.5, 1.0, 2.0):
        k = langevin_steps_for_target(target, sigma=0.03, **BASE)
        assert epsilon(steps=k)["epsilon"] <= target < epsilon(steps=k - 1)["epsilon"]
    # Already met at K = 0.
    assert langevin_steps_for_target(5.0, sigma=1.0, **BASE) == 0


def test_sigma_inverse_round_trip():
    for target, steps in ((0.5, 100), (1.0, 1000), (3.0, 0)):
        sigma = langevin_sigma_for_target(target, steps, **BASE)
        assert epsilon(sigma=sigma, steps=steps)["epsilon"] <= target
        assert epsilon(sigma=sigma * (1 - 1e-7), steps=steps)["epsilon"] > target


def test_unreachable_targets_name_target_epsilon():
    floor = np.log(10_000) / (1e4 - 1)
    with pytest.raises(ValueError, match="target_epsilon"):
        langevin_steps_for_target(floor / 2, sigma=0.03, **BASE)
    with pytest.raises(ValueError, match="target_epsilon"):
        langevin_sigma_for_target(floor / 2, 10, **BASE)
    with pytest.raises(ValueError, match="target_epsilon"):
        steps_for_target(1.0, 1e-5, lambda a, k: a * np.exp(-k / a), max_steps=10)
    with pytest.raises(ValueError, match="bracket"):
        sigma_for_target(100.0, 1e-5, lambda a, s: a / (2 * s**2), bracket=(1.0, 10.0))


def test_sequential_requests():
    args = (BASE["step_size"], M_FIXED, 0.02, 0.03)
    alpha = np.array([3.0, 12.0, 50.0])
    single = lu_renyi(alpha, 700, BASE["step_size"], M_FIXED,
                      lambda a: lu_eps0(a, 0.02, M_FIXED, 0.03))
    np.testing.assert_allclose(lu_sequential(alpha, [700], *args), single, rtol=1e-15)
    # A second request can only add, and more steps after it shrink the bound again.
    two = lu_sequential(alpha, [700, 700], *args)
    assert np.all(two > single)
    assert np.all(lu_sequential(alpha, [700, 5000], *args) < two)
    # Hand-unrolled two-level recursion: ε_2(α) = e^{-ηmK2/α}(α−½)/(α−1)[ε0(2α) + ε_1(2α)].
    a, k1, k2 = 12.0, 700, 300
    eta = BASE["step_size"]
    eps1_at_2a = np.exp(-eta * M_FIXED * k1 / (2 * a)) * lu_eps0(2 * a, 0.02, M_FIXED, 0.03)
    hand = np.exp(-eta * M_FIXED * k2 / a) * (a - 0.5) / (a - 1) * (
        lu_eps0(2 * a, 0.02, M_FIXED, 0.03) + eps1_at_2a)
    assert lu_sequential(a, [k1, k2], *args) == pytest.approx(hand, rel=1e-14)
    # Per-request sensitivities.
    assert lu_sequential(a, [k1, k2], eta, M_FIXED, [0.02, 0.02], 0.03) == pytest.approx(hand)


def test_improved_conversion_is_never_worse():
    for steps in (0, 100, 2000):
        kwargs = dict(BASE, sigma=0.03, steps=steps)
        mironov = langevin_epsilon(**kwargs)["epsilon"]
        improved = langevin_epsilon(method="improved", **kwargs)["epsilon"]
        assert 0.0 <= improved < mironov


def test_conversion_handles_scalar_only_curves_and_several_minima():
    import math

    scalar_only = lambda a: math.exp(-1.0 / a) * a / 2.0   # math.exp rejects arrays
    vector = lambda a: np.exp(-1.0 / a) * a / 2.0
    assert rdp_to_dp(scalar_only, 1e-5) == pytest.approx(rdp_to_dp(vector, 1e-5), rel=1e-9)
    # A narrow well near α = 200 is the global minimum; a broad local one sits near α = 30.
    bumpy = lambda a: (0.01 * (np.log(a) - np.log(5)) ** 2 + 0.2
                       - 0.19 * np.exp(-((np.log(a) - np.log(200)) ** 2) / 0.01))
    eps, alpha = rdp_to_dp(bumpy, 0.5)
    grid = np.geomspace(2, 1e4, 400_001)
    brute = bumpy(grid) + np.log(2.0) / (grid - 1)
    assert 100 < alpha < 300
    assert brute.min() - 1e-8 < eps <= brute.min()   # the refinement beats the grid
    assert alpha == pytest.approx(grid[np.argmin(brute)], rel=1e-3)
