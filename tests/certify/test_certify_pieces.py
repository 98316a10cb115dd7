"""Sensitivity, constants, PNSGD bounds and baselines against hand computations."""

import math

import numpy as np
import pytest

from jaxunlearn.certify import (
    d2d_sigma, gradient_sensitivity, logistic_constants, lu_eps0, pabi_sigma, pnsgd_renyi,
    pnsgd_renyi_finite_T, pnsgd_sequential, pnsgd_Z,
)


def test_sensitivity_forms():
    assert gradient_sensitivity(1, 1.0, 11_982) == 2.0 / 11_982
    assert gradient_sensitivity(100, 0.5, 10_000, 30_000) == 2 * 100 * 0.5 / 40_000
    assert gradient_sensitivity(100, 1.0, 10_000, 30_000, public_weight=0.75) == pytest.approx(
        2 * 100 * 0.25 / 10_000)
    assert (gradient_sensitivity(7, 1.0, 100, 50, adjacency="remove")
            == gradient_sensitivity(7, 1.0, 100, 50, adjacency="replace"))


def _mean_gradient_gap(kept, removed):
    n = len(kept) + len(removed)
    full = (kept.sum(0) + removed.sum(0)) / n
    return np.linalg.norm(full - kept.mean(0))


def test_remove_bound_is_attained_and_never_exceeded():
    # Removal of S of n points: ‖(G + R)/n − G/(n − S)‖ ≤ 2SM/n, with equality when the removed
    # gradients point one way and the kept ones the other way, all at norm M.
    n, s, clip = 50, 5, 1.0
    direction = np.array([1.0, 0.0, 0.0])
    kept, removed = -clip * np.tile(direction, (n - s, 1)), clip * np.tile(direction, (s, 1))
    bound = gradient_sensitivity(s, clip, n, adjacency="remove")
    assert _mean_gradient_gap(kept, removed) == pytest.approx(bound, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(200):
        vectors = rng.normal(size=(n, 3))
        vectors *= clip * rng.uniform(0, 1, (n, 1)) / np.linalg.norm(vectors, axis=1, keepdims=True)
        assert _mean_gradient_gap(vectors[s:], vectors[:s]) <= bound + 1e-12


def test_weighted_sensitivity_ignores_public_points():
    rng = np.random.default_rng(1)
    private, public = rng.normal(size=(40, 2)), rng.normal(size=(10, 2))
    private /= np.linalg.norm(private, axis=1, keepdims=True)
    replaced = private.copy()
    replaced[:3] = -private[:3]
    w = 0.6
    before = (1 - w) * private.mean(0) + w * public.mean(0)
    after = (1 - w) * replaced.mean(0) + w * public.mean(0)
    gap = np.linalg.norm(before - after)
    assert gap == pytest.approx((1 - w) * 2 * np.linalg.norm(private[:3].sum(0)) / 40)
    assert gap <= gradient_sensitivity(3, 1.0, 40, 10, public_weight=w) + 1e-12


def test_logistic_constants_bound_the_hessian():
    m, smoothness = logistic_constants(1e-6, 11_982)
    assert m == pytest.approx(0.011982) and smoothness == pytest.approx(0.261982)
    assert 1 / smoothness == pytest.approx(3.817, abs=1e-3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 20))
    x *= 2.0 / np.linalg.norm(x, axis=1, keepdims=True)  # feature norm 2
    w = rng.normal(size=20)
    p = 1 / (1 + np.exp(-x @ w))
    hessian = (x * (p * (1 - p))[:, None]).T @ x / len(x)
    m2, smoothness2 = logistic_constants(1e-3, 500, feature_norm=2.0)
    assert np.linalg.eigvalsh(hessian).max() + m2 <= smoothness2


def test_eps0_broadcasts():
    alpha = np.array([[2.0, 3.0], [4.0, 5.0]])
    out = lu_eps0(alpha, 0.1, 0.5, 2.0)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, alpha * 0.01 / (0.5 * 4.0))
    assert isinstance(lu_eps0(2.0, 0.1, 0.5, 2.0), float)


PNSGD = dict(step_size=3.5, strong_convexity=0.012, clip_norm=1.0, n=2_000, sigma=0.05)


def _c():
    return 1 - PNSGD["step_size"] * PNSGD["strong_convexity"]


def test_pnsgd_shift_and_bounds_by_hand():
    eta, n, b = PNSGD["step_size"], PNSGD["n"], 100
    c = _c()
    z = 2 * eta * 1.0 / (b * (1 - c ** (n / b)))
    grid = dict(PNSGD)
    grid.pop("sigma")
    assert pnsgd_Z(batch_size=b, **grid) == pytest.approx(z, rel=1e-14)
    assert pnsgd_Z(batch_size=b, radius=0.01, **grid) == 0.02
    alpha, k = 7.0, 3
    loose = alpha * z**2 * c ** (2 * k * n / b) / (2 * eta * 0.05**2)
    assert pnsgd_renyi(alpha, k, batch_size=b, **PNSGD) == pytest.approx(loose, rel=1e-12)
    tight = alpha * z**2 / (2 * eta * 0.05**2) * (1 - c**2) * c ** (2 * k * n / b) / (
        1 - c ** (2 * k * n / b))
    assert pnsgd_renyi(alpha, k, batch_size=b, tight=True, **PNSGD) == pytest.approx(tight)
    assert tight < loose
    assert pnsgd_renyi(alpha, 0, batch_size=b, tight=True, **PNSGD) == math.inf
    assert pnsgd_renyi(alpha, 0, batch_size=b, **PNSGD) == pytest.approx(
        alpha * z**2 / (2 * eta * 0.05**2))


def test_pnsgd_sequential_tracks_the_shift():
    b, alpha = 100, 5.0
    c, n = _c(), PNSGD["n"]
    z = pnsgd_Z(PNSGD["step_size"], PNSGD["strong_convexity"], 1.0, n, b)
    shift = (z * c ** (2 * n / b) + z) * c ** (1 * n / b) + z   # K = [2, 1, 4]
    hand = alpha * shift**2 * c ** (2 * 4 * n / b) / (2 * PNSGD["step_size"] * 0.05**2)
    got = pnsgd_sequential(alpha, [2, 1, 4], batch_size=b, **PNSGD)
    assert got == pytest.approx(hand, rel=1e-12)
    assert pnsgd_sequential(alpha, [4], batch_size=b, **PNSGD) == pnsgd_renyi(
        alpha, 4, batch_size=b, **PNSGD)


def test_pnsgd_finite_learning_tends_to_the_converged_bound():
    alpha, q, b = 6.0, 3.0, 100
    p = q / (q - 1)
    converged = (alpha - 1 / p) / (alpha - 1) * pnsgd_renyi(p * alpha, 2, batch_size=b, **PNSGD)
    values = [pnsgd_renyi_finite_T(alpha, 2, t, 10.0, batch_size=b, q=q, **PNSGD)
              for t in (0, 1, 3, 10_000)]
    assert np.all(np.diff(values) < 0), values
    assert values[-1] == pytest.approx(converged, rel=1e-9)
    assert values[0] > 1e3 * converged  # T = 0: the gap is the whole ball, 2R


def test_d2d_sigma_by_hand():
    m, smoothness, n, eps, delta, iters = 0.012, 0.262, 12_000, 1.0, 1 / 12_000, 3
    gamma = (smoothness - m) / (smoothness + m)
    one = 4 * math.sqrt(2) * gamma**iters / (
        m * n * (1 - gamma**iters)
        * (math.sqrt(math.log(1 / delta) + eps) - math.sqrt(math.log(1 / delta))))
    kwargs = dict(iterations=iters, strong_convexity=m, smoothness=smoothness, clip_norm=1.0,
                  n=n, epsilon=eps, delta=delta)
    assert d2d_sigma(**kwargs) == pytest.approx(one, rel=1e-12)
    log_term = 2 * math.log(2 / delta)
    seq = 8 * gamma**iters / (m * n * (1 - gamma**iters) * (
        math.sqrt(log_term + 3 * eps) - math.sqrt(log_term + 2 * eps)))
    assert d2d_sigma(sequential=True, **kwargs) == pytest.approx(seq, rel=1e-12)


def test_pabi_sigma_forms():
    assert pabi_sigma(2.0, 0.5, 0.1, 40, 2.0) == pytest.approx(
        math.sqrt((4.0 + 2 * 0.5 * 0.1 * 40) ** 2 / (4 * 2.0 * 40)))
    c = 1 - 0.1 * 0.3
    hand = math.sqrt((4.0 * c**40 + (1.0 / 0.3) * (1 - c**40)) ** 2 * 0.03 * (2 - 0.03)
                     / (2 * 2.0 * (1 - c**80)))
    assert pabi_sigma(2.0, 0.5, 0.1, 40, 2.0, weight_decay=0.3) == pytest.approx(hand)
    # The documented discontinuity: as λ → 0 the weight-decay form is √2 times the other.
    ratio = pabi_sigma(2.0, 0.5, 0.1, 40, 2.0, 1e-9) / pabi_sigma(2.0, 0.5, 0.1, 40, 2.0)
    assert ratio == pytest.approx(math.sqrt(2), rel=1e-6)
