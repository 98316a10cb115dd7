"""Class-unlearning metrics against direct NumPy computations and hand-built model outputs
(TRW, arXiv 2506.20893): TV, agreement, the nearest class by vote of several retrained models,
MIA-NN (the paper's SVM on logits) on logit clouds with a known answer, and the logistic
variant."""


import numpy as np
import pytest

from jaxunlearn.evaluate.class_metrics import (
    mia_nn, mia_nn_gap, mia_nn_logistic, nearest_classes, prediction_agreement, tv_distance)


def random_probs(rng, shape):
    x = rng.exponential(size=shape)
    return x / x.sum(axis=-1, keepdims=True)




def test_tv_distance_matches_numpy():
    rng = np.random.default_rng(0)
    p_u, p_r = random_probs(rng, (3, 50, 10)), random_probs(rng, (3, 50, 10))
    expected = np.array([[0.5 * sum(abs(a - b) for a, b in zip(p_u[m, n], p_r[m, n]))
                          for n in range(50)] for m in range(3)])
    np.testing.assert_allclose(tv_distance(p_u, p_r), expected, rtol=1e-12)
    np.testing.assert_allclose(tv_distance(p_u, p_r, reduction="mean"), expected.mean(axis=1))
    # TV = max over events of |P(A) − Q(A)|: the event {p_u > p_r}.
    event = p_u[0] > p_r[0]
    np.testing.assert_allclose(tv_distance(p_u[0], p_r[0]), (np.where(event, p_u[0] - p_r[0], 0)).sum(1))
    assert tv_distance(p_u[0], p_u[0]).max() == 0.0


def test_prediction_agreement_matches_numpy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 200, 5)), rng.normal(size=(4, 200, 5))
    expected = [np.mean([np.argmax(a[m, n]) == np.argmax(b[m, n]) for n in range(200)]) for m in range(4)]
    np.testing.assert_allclose(prediction_agreement(a, b), expected)
    assert prediction_agreement(a[0], a[0]) == 1.0


def test_nearest_classes_hand_built():
    probs = np.zeros((2, 3, 5))
    probs[..., 0] = 0.05  # forgotten class keeps a little mass
    probs[..., 3] = 0.6
    probs[..., 1] = 0.25
    probs[..., 2] = 0.1
    np.testing.assert_array_equal(nearest_classes(probs, 0, k=3), [3, 1, 2])
    np.testing.assert_array_equal(nearest_classes(probs, 3, k=1), [1])


def hand_built_outputs(rng, forget_neighbour_mass, n=300):
    """5 classes: 0 forgotten, 1 its nearest neighbour, 2..4 others."""
    def make(mass):
        m = np.clip(rng.normal(mass, 0.05, n), 0.02, 0.9)
        rest = (0.98 - m)[:, None] * np.full((n, 3), 1 / 3)
        return np.concatenate([np.full((n, 1), 0.02), m[:, None], rest], axis=1)
    return make(forget_neighbour_mass), make(0.7)


def test_mia_nn_logistic_hand_built():
    rng = np.random.default_rng(2)
    # Retrained-like: forget-class inputs sent to the neighbour like its own inputs → chance.
    retrained = hand_built_outputs(rng, 0.7)
    # Unlearned with mass spread evenly: the neighbour gets ~0.25 → perfectly separable.
    unlearned = hand_built_outputs(rng, 0.25)
    acc_r = mia_nn_logistic(*retrained, neighbours=[1])
    acc_u = mia_nn_logistic(*unlearned, neighbours=[1])
    assert abs(acc_r - 0.5) < 0.1
    assert acc_u > 0.97
    gap = mia_nn_gap(unlearned, retrained, neighbours=[1], attacker="logistic")
    assert gap["gap"] == pytest.approx(abs(acc_u - acc_r))
    # Several neighbours as features work the same way.
    assert mia_nn_logistic(*unlearned, neighbours=[1, 2]) > 0.97


def test_mia_nn_logistic_reads_only_neighbour_classes():
    rng = np.random.default_rng(3)
    forget, neighbour = hand_built_outputs(rng, 0.7)
    # Make a non-neighbour class differ strongly: invisible through neighbours=[1] features
    # except through class 1 itself, which is unchanged.
    forget = forget.copy()
    forget[:, 2], forget[:, 3] = forget[:, 2] + forget[:, 3] - 0.001, 0.001
    assert abs(mia_nn_logistic(forget, neighbour, neighbours=[1]) - 0.5) < 0.1
    assert mia_nn_logistic(forget, neighbour, neighbours=[3]) > 0.97


def test_nearest_classes_votes_over_several_retrained_models():
    # 3 retrained models, class 0 forgotten. Models A and B send it mostly to class 2 (0.5 vs
    # 0.4 on class 1); model C sends nearly all of it to class 1 (0.95). Averaged, class 1 has
    # more mass (0.583 vs 0.35), but two of three models put class 2 first.
    probs = np.zeros((3, 4, 4))
    probs[0, :] = [0.0, 0.4, 0.5, 0.1]
    probs[1, :] = [0.0, 0.4, 0.5, 0.1]
    probs[2, :] = [0.0, 0.95, 0.05, 0.0]
    np.testing.assert_array_equal(nearest_classes(probs, 0, k=1), [2])  # the vote, by default
    np.testing.assert_array_equal(nearest_classes(probs, 0, k=1, rule="mean"), [1])
    # the rest are ranked by the mean over models: class 1 before class 3
    np.testing.assert_array_equal(nearest_classes(probs, 0, k=3), [2, 1, 3])
    # a model's vote is the argmax of its mean over inputs, not of one input's: model A's first
    # input prefers class 1, its mean still class 2 (0.4875 vs 0.4375)
    probs[0, 0] = [0.0, 0.55, 0.45, 0.0]
    np.testing.assert_array_equal(nearest_classes(probs, 0, k=1), [2])
    # one model: the two rules agree
    np.testing.assert_array_equal(nearest_classes(probs[2], 0, k=3),
                                  nearest_classes(probs[2], 0, k=3, rule="mean"))


def logit_clouds(rng, forget_mean, neighbour_mean, n=300, spread=1.0):
    return (rng.normal(forget_mean, spread, (n, len(forget_mean))),
            rng.normal(neighbour_mean, spread, (n, len(neighbour_mean))))


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_mia_nn_svm_separable_vs_identical_logits(kernel):
    rng = np.random.default_rng(4)
    neighbour = [0.0, 5.0, 1.0, 0.0]
    # retrained-like: forget-class logits drawn like the neighbour class's -> chance
    same = logit_clouds(rng, neighbour, neighbour)
    # still knows the class: its logit is high on forget inputs -> separable
    apart = logit_clouds(rng, [6.0, 1.0, 1.0, 0.0], neighbour)
    acc_same = mia_nn(*same, kernel=kernel)
    acc_apart = mia_nn(*apart, kernel=kernel)
    assert abs(acc_same - 0.5) < 0.07
    assert acc_apart > 0.99
    gap = mia_nn_gap(apart, same, kernel=kernel)
    assert gap == {"unlearned": acc_apart, "retrained": acc_same,
                   "gap": pytest.approx(abs(acc_apart - acc_same))}


def test_mia_nn_svm_reads_every_logit_and_matches_the_bayes_accuracy():
    # The classes differ only in logit 3, which a neighbour-only feature set would not see.
    # Two unit-variance Gaussians 2 apart along one axis: the best balanced accuracy is
    # Phi(1) = 0.841; a linear SVM on 600 + 600 points must get close to it.
    rng = np.random.default_rng(5)
    forget, neighbour = logit_clouds(rng, [0.0, 4.0, 0.0, 2.0], [0.0, 4.0, 0.0, 0.0], n=1200)
    accuracy = mia_nn(forget, neighbour, kernel="linear")
    assert abs(accuracy - 0.8413) < 0.03
    # same seed, same number; another split seed, a nearby one
    assert mia_nn(forget, neighbour, kernel="linear") == accuracy
    assert abs(mia_nn(forget, neighbour, kernel="linear", seed=1) - 0.8413) < 0.03


def test_mia_nn_svm_balanced_accuracy_with_unequal_sets():
    # 60 forget-class inputs vs 600 neighbour inputs, identical distributions: an attacker
    # that said "neighbour" always would score 0.909 plain accuracy but 0.5 balanced
    rng = np.random.default_rng(6)
    forget = rng.normal(0.0, 1.0, (60, 3))
    neighbour = rng.normal(0.0, 1.0, (600, 3))
    assert abs(mia_nn(forget, neighbour) - 0.5) < 0.12


@pytest.mark.parametrize("call, name", [
    (lambda: tv_distance(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3)), "same shape"),
    (lambda: tv_distance(np.ones(3) / 3, np.ones(3) / 3), "p_u"),
    (lambda: tv_distance(np.zeros((0, 3)), np.zeros((0, 3))), "p_u"),
    (lambda: tv_distance(np.ones((2, 3)), np.ones((2, 3))), "sum to 1"),
    (lambda: tv_distance(np.full((2, 3), 1 / 3), np.full((2, 3), 1 / 3), reduction="sum"), "reduction"),
    (lambda: prediction_agreement(np.zeros((2, 3)), np.zeros((2, 4))), "same shape"),
    (lambda: nearest_classes(np.full((2, 3), 1 / 3), 5), "forget_class"),
    (lambda: nearest_classes(np.full((2, 3), 1 / 3), 0, k=3), "k must"),
    (lambda: nearest_classes(np.full((2, 3), 1 / 3), 0, rule="median"), "rule"),
    (lambda: mia_nn_logistic(np.full((4, 3), 1 / 3), np.full((4, 3), 1 / 3), [7]), "neighbours"),
    (lambda: mia_nn_logistic(np.full((1, 3), 1 / 3), np.full((4, 3), 1 / 3), [1]), "probs_forget"),
    (lambda: mia_nn_logistic(np.full((4, 3), 1 / 3), np.full((4, 4), 1 / 4), [1]), "number of classes"),
    (lambda: mia_nn_logistic(np.full((4, 3), 1 / 3), np.full((4, 3), 1 / 3), [1], train_fraction=1.0), "train_fraction"),
    (lambda: mia_nn(np.zeros((1, 3)), np.zeros((4, 3))), "logits_forget"),
    (lambda: mia_nn(np.zeros((4, 3)), np.zeros((4,))), "logits_neighbours"),
    (lambda: mia_nn(np.zeros((4, 3)), np.full((4, 3), np.nan)), "logits_neighbours must be finite"),
    (lambda: mia_nn(np.zeros((4, 3)), np.zeros((4, 4))), "number of classes"),
    (lambda: mia_nn(np.zeros((4, 3)), np.zeros((4, 3)), train_fraction=0.0), "train_fraction"),
    (lambda: mia_nn(np.zeros((4, 3)), np.zeros((4, 3)), svm_c=0.0), "svm_c"),
    (lambda: mia_nn(np.zeros((4, 3)), np.zeros((4, 3)), kernel="cubic"), "kernel"),
    (lambda: mia_nn_gap((np.zeros((4, 3)),) * 2, (np.zeros((4, 3)),) * 2, [1]), "neighbours"),
    (lambda: mia_nn_gap((np.full((4, 3), 1 / 3),) * 2, (np.full((4, 3), 1 / 3),) * 2,
                        attacker="logistic"), "neighbours"),
    (lambda: mia_nn_gap((np.zeros((4, 3)),) * 2, (np.zeros((4, 3)),) * 2, attacker="knn"), "attacker"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
