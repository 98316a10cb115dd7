"""MIA-efficacy against Gaussian features with a known optimal attacker, SalUn's SVC protocol and
a hand-built per-class threshold case."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.svm import SVC

from jaxunlearn.evaluate.mia import class_thresholds, mia_efficacy, mia_features
from jaxunlearn.evaluate.signals import entropy, true_label_prob


def _gaussian_features(rng, n):
    # Members ~ N(2, 1), non-members ~ N(0, 1): the optimal rule "member iff x ≥ 1" has
    # TPR = TNR = Φ(1).
    return rng.normal(2, 1, n), rng.normal(0, 1, n)


@pytest.mark.parametrize("attacker", ["svc", "threshold", "logreg"])
def test_efficacy_is_one_minus_tpr_or_tnr(attacker):
    rng = np.random.default_rng(0)
    members, nonmembers = _gaussian_features(rng, 1000)
    like_members, like_nonmembers = _gaussian_features(rng, 4000)
    rate = norm.cdf(1.0)
    assert mia_efficacy(members, nonmembers, like_members, attacker) == pytest.approx(1 - rate, abs=0.04)
    assert mia_efficacy(members, nonmembers, like_nonmembers, attacker) == pytest.approx(rate, abs=0.04)


def test_threshold_efficacy_equals_fitted_threshold_rates():
    rng = np.random.default_rng(1)
    members, nonmembers = _gaussian_features(rng, 1000)
    forget = rng.normal(2, 1, 3000)
    _, tau = class_thresholds(members, nonmembers, np.zeros(1000, int), np.zeros(1000, int))
    expected = 1 - np.mean(forget >= tau)  # 1 − TPR of the attacker on the forget set
    assert mia_efficacy(members, nonmembers, forget, "threshold") == pytest.approx(expected, abs=1e-12)


def test_svc_matches_salun_protocol():
    rng = np.random.default_rng(2)
    members, nonmembers, forget = rng.normal(1, 1, 300), rng.normal(0, 1, 200), rng.normal(0.5, 1, 100)
    # SalUn keeps the first |D_t| retain examples as shadow members.
    inputs = np.r_[members[:200], nonmembers].reshape(-1, 1)
    classifier = SVC(C=3, gamma="auto", kernel="rbf").fit(inputs, np.r_[np.ones(200), np.zeros(200)])
    expected = 1 - classifier.predict(forget.reshape(-1, 1)).mean()
    assert mia_efficacy(members, nonmembers, forget, "svc") == pytest.approx(expected, abs=1e-12)


def test_per_class_thresholds_hand_built():
    # Class 0 separates at 0.8, class 1 at 0.3: a single threshold cannot do both.
    members = np.array([0.9, 0.85, 0.8, 0.4, 0.35, 0.3])
    nonmembers = np.array([0.7, 0.6, 0.5, 0.2, 0.1, 0.05])
    labels = np.array([0, 0, 0, 1, 1, 1])
    thresholds, _ = class_thresholds(members, nonmembers, labels, labels)
    assert thresholds == {0: 0.8, 1: 0.3}
    forget = np.array([0.75, 0.81, 0.25, 0.31])
    forget_labels = np.array([0, 0, 1, 1])
    # Predicted members: 0.81 (class 0) and 0.31 (class 1) → efficacy 2/4.
    assert mia_efficacy(members, nonmembers, forget, "threshold", labels_members=labels,
                        labels_nonmembers=labels, labels_forget=forget_labels) == 0.5
    # Lower-is-member features (entropy) use the negated values.
    assert mia_efficacy(-members, -nonmembers, -forget, "threshold", labels_members=labels,
                        labels_nonmembers=labels, labels_forget=forget_labels,
                        feature="entropy") == 0.5
    # A class absent from the shadow sets falls back to the class-agnostic threshold.
    assert 0 <= mia_efficacy(members, nonmembers, forget, "threshold", labels_members=labels,
                             labels_nonmembers=labels, labels_forget=np.array([2, 2, 2, 2])) <= 1


def test_mia_features():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(20, 5)), rng.integers(0, 5, 20)
    np.testing.assert_allclose(mia_features(logits, labels, "confidence"), true_label_prob(logits, labels))
    np.testing.assert_allclose(mia_features(logits, labels, "entropy"), entropy(logits))
    np.testing.assert_allclose(mia_features(logits, labels, "probabilities").sum(-1), 1.0)
    np.testing.assert_array_equal(mia_features(logits, labels, "correctness"),
                                  logits.argmax(-1) == labels)
    with pytest.raises(ValueError, match="feature"):
        mia_features(logits, labels, "margin_of_error")


def test_bad_inputs():
    x = np.zeros(10)
    with pytest.raises(ValueError, match="attacker"):
        mia_efficacy(x, x, x, "forest")
    with pytest.raises(ValueError, match="feature_forget"):
        mia_efficacy(x, x, np.zeros(0))
    with pytest.raises(ValueError, match="feature_members"):
        mia_efficacy(np.zeros((2, 2, 2)), x, x)
    with pytest.raises(ValueError, match="feature_forget"):
        mia_efficacy(np.zeros((10, 2)), np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="labels_forget"):
        mia_efficacy(x, x, x, "threshold", labels_members=np.zeros(10, int),
                     labels_nonmembers=np.zeros(10, int))
    with pytest.raises(ValueError, match="labels_members"):
        mia_efficacy(x, x, x, "threshold", labels_members=np.zeros(9, int),
                     labels_nonmembers=np.zeros(10, int), labels_forget=np.zeros(10, int))
