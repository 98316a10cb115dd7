"""LiRA and U-LiRA against Gaussian oracles, explicit per-example formulas, scipy's normal fit and
an over-fitted logistic model."""

import numpy as np
import pytest
from scipy.stats import norm

from jaxunlearn.evaluate.lira import lira, masked_gaussian_fit, ulira, ulira_game
from jaxunlearn.evaluate.roc import auc, null_auc_standard_error
from jaxunlearn.evaluate.signals import logit_confidence


def _oracle(rng, num_models=128, num_examples=2000, delta=1.0, sigma=1.0):
    base = rng.normal(0, 3, num_examples)  # per-example difficulty: calibration matters
    # Every example IN for exactly half of the models (mi_lira_2021's keep matrix).
    in_mask = np.array([rng.permutation(np.arange(num_models) < num_models // 2)
                        for _ in range(num_examples)]).T
    shadow = rng.normal(base + delta * in_mask, sigma)
    is_member = np.arange(num_examples) < num_examples // 2
    target = rng.normal(base + delta * is_member, sigma)
    return target, shadow, in_mask, is_member


@pytest.mark.parametrize("fix_variance, tolerance", [(True, 0.025), (False, 0.04)])
def test_gaussian_oracle_auc(fix_variance, tolerance):
    rng = np.random.default_rng(0)
    target, shadow, in_mask, is_member = _oracle(rng)
    optimal = norm.cdf(1.0 / np.sqrt(2))  # Φ(|Δ|/(σ√2)) ≈ 0.760
    scores = lira(target, shadow, in_mask, fix_variance=fix_variance, center="mean")
    assert auc(scores, is_member) == pytest.approx(optimal, abs=tolerance)
    # Offline (OUT only) is monotone in (φ − μ_out)/σ: the same optimum for equal variances.
    offline = lira(target, shadow, in_mask, mode="offline", fix_variance=True)
    assert auc(offline, is_member) == pytest.approx(optimal, abs=0.025)
    shuffled = rng.permutation(is_member)
    assert abs(auc(scores, shuffled) - 0.5) < 3.3 * null_auc_standard_error(1000, 1000)


def test_masked_moments_match_scipy_norm_fit():
    rng = np.random.default_rng(1)
    stat = rng.normal(size=(40, 6, 2))
    mask = rng.random((40, 6)) < 0.5
    location, scale, count = masked_gaussian_fit(stat, mask, center="mean")
    median, _, _ = masked_gaussian_fit(stat, mask, center="median")
    for n in range(6):
        for a in range(2):
            mu, sd = norm.fit(stat[mask[:, n], n, a])
            assert location[n, a] == pytest.approx(mu) and scale[n, a] == pytest.approx(sd)
            assert median[n, a] == pytest.approx(np.median(stat[mask[:, n], n, a]))
        assert count[n] == mask[:, n].sum()


def test_lira_matches_explicit_formula_with_augmentations():
    rng = np.random.default_rng(2)
    shadow, target = rng.normal(size=(12, 5, 2)), rng.normal(size=(5, 2))
    in_mask = rng.permutation(np.tile(np.arange(12) < 6, (5, 1)).T)
    online, offline = lira(target, shadow, in_mask), lira(target, shadow, in_mask, mode="offline")
    for n in range(5):
        ins, outs = shadow[in_mask[:, n], n], shadow[~in_mask[:, n], n]
        expected = np.mean(norm.logpdf(target[n], np.median(ins, 0), ins.std(0))
                           - norm.logpdf(target[n], np.median(outs, 0), outs.std(0)))
        assert online[n] == pytest.approx(expected)
        one_sided = -np.log(norm.sf(target[n], np.median(outs, 0), outs.std(0)))
        assert offline[n] == pytest.approx(one_sided.mean())


def _overfit_statistics(num_models=16, num_examples=200, dim=400, seed=0):
    """φ of logistic models that memorise random labels, trained on random halves."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(num_examples, dim)) / np.sqrt(dim)
    labels = rng.integers(0, 2, num_examples)
    in_mask = np.array([rng.permutation(np.arange(num_examples) < num_examples // 2)
                        for _ in range(num_models)])
    weights = np.zeros((num_models, dim))
    signs = 2.0 * labels - 1
    for _ in range(300):  # gradient descent on each model's own half
        margins = signs * (weights @ inputs.T)
        grad = -(in_mask * signs / (1 + np.exp(margins))) @ inputs / (num_examples // 2)
        weights -= 20.0 * grad
    scores = weights @ inputs.T
    logits = np.stack([np.zeros_like(scores), scores], -1)
    return logit_confidence(logits, np.broadcast_to(labels, scores.shape)), in_mask


def test_overfit_model_members_vs_nonmembers():
    stat, in_mask = _overfit_statistics()
    target, members = stat[-1], in_mask[-1]
    scores = lira(target, stat[:-1], in_mask[:-1], fix_variance=True)
    assert auc(scores, members) > 0.9
    nonmembers = np.flatnonzero(~members)
    halves = np.random.default_rng(0).permutation(nonmembers.size) < nonmembers.size // 2
    bound = 3.3 * null_auc_standard_error(halves.sum(), (~halves).sum())
    assert abs(auc(scores[nonmembers], halves) - 0.5) < bound


def test_ulira_exact_retrain_vs_noop():
    rng = np.random.default_rng(3)
    num_models, num_examples = 40, 200
    base = rng.normal(0, 3, num_examples)
    forgot = rng.random((num_models, num_examples)) < 0.5
    out = rng.random((num_models, num_examples)) < 0.5
    retrained = rng.normal(base, 1.0, (num_models, num_examples))
    exact = rng.normal(base, 1.0, (num_models, num_examples))  # same distribution as retraining
    result = ulira_game(exact, forgot, retrained, out, num_targets=20, key=0, fix_variance=True)
    assert abs(result["balanced_accuracy"] - 0.5) < 0.06
    trials = result["num_trials"]
    assert abs(result["auc"] - 0.5) < 3.3 * null_auc_standard_error(trials // 2, trials // 2)
    noop = rng.normal(base + 4.0, 1.0, (num_models, num_examples))  # still member-like
    result = ulira_game(noop, forgot, retrained, out, num_targets=20, key=1, fix_variance=True)
    assert result["balanced_accuracy"] > 0.95 and result["auc"] > 0.98
    vulnerability = result["per_example_vulnerability"]
    assert vulnerability.shape == (num_examples,)
    assert np.nanmean(vulnerability) > 0.9


def test_ulira_is_lira_with_unlearned_in_and_never_seen_out():
    rng = np.random.default_rng(4)
    unlearned, retrained, target = rng.normal(size=(8, 6)), rng.normal(size=(8, 6)), rng.normal(size=6)
    forgot = np.array([rng.permutation(np.arange(8) < 4) for _ in range(6)]).T
    out = np.ones((8, 6), bool)
    got = ulira(target, unlearned, forgot, retrained, out, center="mean")
    for n in range(6):
        ins = unlearned[forgot[:, n], n]
        reference = (norm.logpdf(target[n], ins.mean(), ins.std())
                     - norm.logpdf(target[n], retrained[:, n].mean(), retrained[:, n].std()))
        assert got[n] == pytest.approx(reference)


def test_bad_inputs():
    shadow, mask, target = np.zeros((4, 3)), np.ones((4, 3), bool), np.zeros(3)
    half = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1], [0, 1, 0]], bool)
    with pytest.raises(ValueError, match="stat_shadow"):
        lira(target, np.zeros((4, 5)), half)
    with pytest.raises(ValueError, match="in_mask"):
        lira(target, shadow, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="in_mask"):
        lira(target, shadow, mask)  # no OUT model
    with pytest.raises(ValueError, match="in_mask"):
        lira(target, shadow, ~mask, mode="online")  # no IN model
    with pytest.raises(ValueError, match="mode"):
        lira(target, shadow, half, mode="both")
    with pytest.raises(ValueError, match="stat_target"):
        lira(np.zeros((3, 2, 1)), shadow, half)
    with pytest.raises(ValueError, match="stat_shadow"):
        lira(target, np.zeros((0, 3)), np.zeros((0, 3), bool))
    with pytest.raises(ValueError, match="stat_retrained"):
        ulira(target, shadow, mask, np.zeros((4, 2)), np.ones((4, 2), bool))
    with pytest.raises(ValueError, match="forgot_mask"):
        ulira(target, shadow, np.zeros((4, 3), bool), shadow, mask)
    with pytest.raises(ValueError, match="out_mask"):
        ulira(target, shadow, mask, shadow, np.ones((5, 3), bool))
    with pytest.raises(ValueError, match="num_targets"):
        ulira_game(shadow, mask, shadow, mask, num_targets=8, key=0)
    with pytest.raises(ValueError, match="key"):
        ulira_game(shadow, mask, shadow, mask, num_targets=2, key="seed")
