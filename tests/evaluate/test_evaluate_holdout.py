"""Held-out targets with equal shadow counts (issue 20): identical pools score chance, a shift keeps
its power.

The reference for "no bias" is the null itself: when both sides are drawn from one distribution,
the expected AUC and likelihood-ratio balanced accuracy are exactly 0.5. The reference for power
is plain leave-one-out, computed here from :func:`ulira` / :func:`lira` with the target alone held
out, and the Gaussian oracle Φ(Δ/(σ√2)).
"""

import numpy as np
import pytest
from scipy.stats import norm

from jaxunlearn.evaluate.holdout import companion_drop, fixed_counts, resolve_balance
from jaxunlearn.evaluate.lira import lira, lira_game, ulira, ulira_game
from jaxunlearn.evaluate.rmia import tune_offline_a
from jaxunlearn.evaluate.roc import auc
from jaxunlearn.evaluate.shadows import membership_masks

EXAMPLES = 300
SEEDS = 40


def _pools(seed, models, shift=0.0):
    """Per-example difficulty shared by both pools, unit noise (the issue's setting)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 3.0, EXAMPLES)
    unlearned = rng.normal(base + shift, 1.0, (models, EXAMPLES))
    retrained = rng.normal(base, 1.0, (models, EXAMPLES))
    return unlearned, retrained


def _plain_ulira_auc(unlearned, retrained, num_targets, seed):
    """Leave-one-out U-LiRA written out with ulira(): the target alone is held out."""
    rng = np.random.default_rng(seed)
    models = unlearned.shape[0]
    targets_u = rng.choice(models, (num_targets + 1) // 2, replace=False)
    targets_r = rng.choice(models, num_targets // 2, replace=False)
    everyone = np.ones((models - 1, EXAMPLES), bool)
    full = np.ones((models, EXAMPLES), bool)
    scores, labels = [], []
    for t in targets_u:
        scores.append(ulira(unlearned[t], np.delete(unlearned, t, 0), everyone, retrained, full,
                            fix_variance=True))
        labels.append(np.ones(EXAMPLES, bool))
    for t in targets_r:
        scores.append(ulira(retrained[t], unlearned, full, np.delete(retrained, t, 0), everyone,
                            fix_variance=True))
        labels.append(np.zeros(EXAMPLES, bool))
    return auc(np.concatenate(scores), np.concatenate(labels))


@pytest.mark.parametrize("fix_variance", [True, False])
def test_ulira_game_identical_pools_score_chance(fix_variance):
    aucs, accuracies = [], []
    for seed in range(SEEDS):
        unlearned, retrained = _pools(seed, 4)
        mask = np.ones((4, EXAMPLES), bool)
        result = ulira_game(unlearned, mask, retrained, mask, num_targets=6, key=seed,
                            fix_variance=fix_variance)
        aucs.append(result["auc"])
        accuracies.append(result["balanced_accuracy"])
    assert abs(np.mean(aucs) - 0.5) < 0.01, np.mean(aucs)
    assert abs(np.mean(accuracies) - 0.5) < 0.01, np.mean(accuracies)


def test_plain_leave_one_out_is_biased_and_the_game_can_restore_it():
    """The bias the companions remove exists (so the test above can fail), and balance="none"
    is exactly that plain leave-one-out."""
    plain, none = [], []
    for seed in range(SEEDS):
        unlearned, retrained = _pools(seed, 4)
        mask = np.ones((4, EXAMPLES), bool)
        plain.append(_plain_ulira_auc(unlearned, retrained, 6, seed))
        none.append(ulira_game(unlearned, mask, retrained, mask, num_targets=6, key=seed,
                               fix_variance=True, balance="none")["auc"])
    assert np.mean(plain) < 0.48
    np.testing.assert_allclose(none, plain, atol=1e-12)


def test_ulira_game_keeps_its_power_on_a_known_shift():
    shift = 1.0
    oracle = norm.cdf(shift / np.sqrt(2))  # the best any attack can do with known Gaussians
    balanced, plain = [], []
    for seed in range(SEEDS):
        unlearned, retrained = _pools(seed, 4, shift)
        mask = np.ones((4, EXAMPLES), bool)
        balanced.append(ulira_game(unlearned, mask, retrained, mask, num_targets=6, key=seed,
                                   fix_variance=True)["auc"])
        plain.append(_plain_ulira_auc(unlearned, retrained, 6, seed))
    # one shadow fewer per pool, yet no loss of power: the bias no longer pulls the AUC down
    assert np.mean(balanced) > np.mean(plain)
    assert np.mean(balanced) > 0.65  # measured 0.677 (plain leave-one-out 0.668)
    assert np.mean(balanced) < oracle + 0.01


def test_ulira_game_per_example_masks_score_chance():
    """Each model forgot (or never saw) its own balanced half of the examples."""
    aucs, accuracies = [], []
    for seed in range(SEEDS):
        unlearned, retrained = _pools(seed, 8)
        forgot = membership_masks(8, EXAMPLES, seed)
        out = membership_masks(8, EXAMPLES, seed + 1000)
        result = ulira_game(unlearned, forgot, retrained, out, num_targets=8, key=seed,
                            fix_variance=True)
        aucs.append(result["auc"])
        accuracies.append(result["balanced_accuracy"])
    assert abs(np.mean(aucs) - 0.5) < 0.01, np.mean(aucs)
    assert abs(np.mean(accuracies) - 0.5) < 0.01, np.mean(accuracies)


def _plain_lira_auc(stat, in_mask, targets):
    scores, labels = [], []
    for t in targets:
        others = np.delete(in_mask, t, 0)
        columns = others.any(axis=0) & (~others).any(axis=0)  # both kinds of shadow
        scores.append(lira(stat[t, columns], np.delete(stat, t, 0)[:, columns],
                           others[:, columns], fix_variance=True))
        labels.append(in_mask[t, columns])
    return auc(np.concatenate(scores), np.concatenate(labels))


def test_lira_game_balanced_masks_score_chance_and_plain_leave_one_out_does_not():
    balanced, plain, accuracies = [], [], []
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        in_mask = membership_masks(4, EXAMPLES, seed)
        stat = rng.normal(rng.normal(0.0, 3.0, EXAMPLES), 1.0, (4, EXAMPLES))
        result = lira_game(stat, in_mask, num_targets=4, key=seed, fix_variance=True)
        assert result["balanced"]  # "auto": every example is IN for 2 of the 4 models
        balanced.append(result["auc"])
        accuracies.append(result["balanced_accuracy"])
        plain.append(_plain_lira_auc(stat, in_mask, range(4)))
    assert abs(np.mean(balanced) - 0.5) < 0.01, np.mean(balanced)
    assert abs(np.mean(accuracies) - 0.5) < 0.01, np.mean(accuracies)
    assert np.mean(plain) < 0.45  # Carlini et al.'s leave-one-out at 4 models: 0.42


def test_lira_game_independent_memberships_need_no_companion():
    aucs = []
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        in_mask = rng.random((8, EXAMPLES)) < 0.5
        stat = rng.normal(rng.normal(0.0, 3.0, EXAMPLES), 1.0, (8, EXAMPLES))
        result = lira_game(stat, in_mask, num_targets=8, key=seed, fix_variance=True)
        assert not result["balanced"]
        aucs.append(result["auc"])
        if seed < 3:  # "auto" is then plain leave-one-out over the same targets
            assert result["auc"] == pytest.approx(_plain_lira_auc(stat, in_mask,
                                                                   result["targets"]))
    assert abs(np.mean(aucs) - 0.5) < 0.01, np.mean(aucs)


def test_lira_game_detects_members():
    rng = np.random.default_rng(0)
    in_mask = membership_masks(16, EXAMPLES, 0)
    stat = rng.normal(rng.normal(0.0, 3.0, EXAMPLES) + 1.0 * in_mask, 1.0)
    result = lira_game(stat, in_mask, num_targets=16, key=0, fix_variance=True)
    oracle = norm.cdf(1.0 / np.sqrt(2))  # 0.760 with known Gaussians; 7 + 7 shadows: 0.714
    assert oracle - 0.06 < result["auc"] < oracle + 0.01


def test_rmia_offline_tuning_target_scores_chance_on_identical_sides():
    balanced, plain = [], []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        in_mask = membership_masks(4, 400, seed)
        p_x = np.clip(rng.normal(rng.uniform(0.05, 0.6, 400), 0.15, (4, 400)), 0, 1)
        p_z = np.clip(rng.normal(rng.uniform(0.05, 0.6, 200), 0.15, (4, 200)), 0, 1)
        balanced.append(tune_offline_a(p_x, in_mask, p_z, grid=(1.0,), key=seed)[1][1.0])
        plain.append(tune_offline_a(p_x, in_mask, p_z, grid=(1.0,), balance="none")[1][1.0])
    assert abs(np.mean(balanced) - 0.5) < 0.01, np.mean(balanced)
    assert np.mean(plain) < np.mean(balanced)


def test_companion_drop_is_uniform_over_the_eligible_models():
    eligible = np.array([[True, True], [True, False], [False, True], [True, True]])
    rng = np.random.default_rng(0)
    counts = sum(companion_drop(eligible, rng).astype(int) for _ in range(6000))
    assert counts.sum(axis=0).tolist() == [6000, 6000]
    np.testing.assert_allclose(counts[eligible] / 2000.0, 1.0, atol=0.1)  # 1/3 each
    assert counts[~eligible].sum() == 0


def test_balance_modes_and_errors():
    assert fixed_counts(membership_masks(6, 20, 0))
    assert not fixed_counts(np.array([[True, False], [True, True]]))
    assert resolve_balance("none", np.ones((2, 2), bool)) is False
    with pytest.raises(ValueError, match="balance"):
        resolve_balance("pairs", np.ones((2, 2), bool))
    stat, mask = np.zeros((4, 3)), np.ones((4, 3), bool)
    with pytest.raises(ValueError, match="balance"):
        ulira_game(stat, mask, stat, mask, num_targets=2, key=0, balance="pairs")
    with pytest.raises(ValueError, match="num_targets"):
        lira_game(stat, membership_masks(4, 3, 0), num_targets=5, key=0)
    with pytest.raises(ValueError, match="num_targets"):
        lira_game(stat, membership_masks(4, 3, 0), num_targets=True, key=0)
