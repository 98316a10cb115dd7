"""ROC summaries against scikit-learn, a hand-built curve and the null distribution of the AUC."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from jaxunlearn.evaluate.roc import auc, null_auc_standard_error, roc_curve, roc_metrics


@pytest.mark.parametrize("seed", range(3))
def test_auc_matches_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(300) < 0.3
    scores = rng.integers(0, 8, 300) + labels  # many ties
    assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    metrics = roc_metrics(scores, labels)
    assert np.trapezoid(metrics["tpr"], metrics["fpr"]) == pytest.approx(metrics["auc"], abs=1e-12)
    # Balanced accuracy by brute force over every threshold.
    best = max(0.5 * (np.mean(scores[labels] >= t) + np.mean(scores[~labels] < t))
               for t in np.r_[scores, np.inf])
    assert metrics["balanced_accuracy"] == pytest.approx(best, abs=1e-12)


def test_tpr_at_fpr_hand_built():
    # 10 non-members 0..9, members at 9.5 (above all but none), 8.5 (above 9 non-members),
    # 4.5 and 100. FPR 0 → 2 members (100, 9.5 ≥ every non-member); FPR 0.1 → 3.
    nonmembers = np.arange(10.0)
    members = np.array([100.0, 9.5, 8.5, 4.5])
    scores = np.r_[members, nonmembers]
    labels = np.r_[np.ones(4, bool), np.zeros(10, bool)]
    metrics = roc_metrics(scores, labels, fpr_targets=(0.0, 0.05, 0.1, 0.5, 1.0))
    assert metrics["tpr_at_fpr"] == {0.0: 0.5, 0.05: 0.5, 0.1: 0.75, 0.5: 1.0, 1.0: 1.0}
    assert set(roc_metrics(scores, labels)["tpr_at_fpr"]) == {0.01, 0.001, 1e-5}
    fpr, tpr, thresholds = roc_curve(scores, labels)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1 and thresholds[0] == np.inf
    # AUC: 100 and 9.5 beat all 10, 8.5 beats 9, 4.5 beats 5 → 34/40.
    assert metrics["auc"] == pytest.approx(34 / 40)


def test_null_auc_within_standard_error():
    standard_error = null_auc_standard_error(1000, 1000)
    assert standard_error == pytest.approx(0.0129, abs=1e-4)
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(1000, bool), np.zeros(1000, bool)]
    aucs = np.array([auc(rng.normal(size=2000), labels) for _ in range(200)])
    assert np.mean(np.abs(aucs - 0.5) <= 3.3 * standard_error) >= 0.98
    assert abs(aucs.mean() - 0.5) < 3.3 * standard_error / np.sqrt(200)
    assert aucs.std(ddof=1) == pytest.approx(standard_error, rel=0.15)


def test_bad_inputs():
    with pytest.raises(ValueError, match="is_member"):
        roc_metrics([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="is_member"):
        roc_metrics([0.1, 0.2], [1, 0, 1])
    with pytest.raises(ValueError, match="scores"):
        roc_metrics([[0.1, 0.2]], [[1, 0]])
    with pytest.raises(ValueError, match="scores"):
        roc_metrics([np.nan, 0.2], [1, 0])
    with pytest.raises(ValueError, match="fpr_targets"):
        roc_metrics([0.1, 0.2], [1, 0], fpr_targets=(2.0,))
    with pytest.raises(ValueError, match="num_members"):
        null_auc_standard_error(0, 10)
