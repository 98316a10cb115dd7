"""Class-unlearning metrics against direct NumPy computations and hand-built model outputs
(TRW, arXiv 2506.20893)."""


import numpy as np
import pytest

from jaxunlearn.evaluate.class_metrics import (
    mia_nn, mia_nn_gap, nearest_classes, prediction_agreement, tv_distance)


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


def test_mia_nn_hand_built():
    rng = np.random.default_rng(2)
    # Retrained-like: forget-class inputs sent to the neighbour like its own inputs → chance.
    retrained = hand_built_outputs(rng, 0.7)
    # Unlearned with mass spread evenly: the neighbour gets ~0.25 → perfectly separable.
    unlearned = hand_built_outputs(rng, 0.25)
    acc_r = mia_nn(*retrained, neighbours=[1])
    acc_u = mia_nn(*unlearned, neighbours=[1])
    assert abs(acc_r - 0.5) < 0.1
    assert acc_u > 0.97
    gap = mia_nn_gap(unlearned, retrained, neighbours=[1])
    assert gap["gap"] == pytest.approx(abs(acc_u - acc_r))
    # Several neighbours as features work the same way.
    assert mia_nn(*unlearned, neighbours=[1, 2]) > 0.97


def test_mia_nn_reads_only_neighbour_classes():
    rng = np.random.default_rng(3)
    forget, neighbour = hand_built_outputs(rng, 0.7)
    # Make a non-neighbour class differ strongly: invisible through neighbours=[1] features
    # except through class 1 itself, which is unchanged.
    forget = forget.copy()
    forget[:, 2], forget[:, 3] = forget[:, 2] + forget[:, 3] - 0.001, 0.001
    assert abs(mia_nn(forget, neighbour, neighbours=[1]) - 0.5) < 0.1
    assert mia_nn(forget, neighbour, neighbours=[3]) > 0.97


@pytest.mark.parametrize("call, name", [
    (lambda: tv_distance(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3)), "same shape"),
    (lambda: tv_distance(np.ones(3) / 3, np.ones(3) / 3), "p_u"),
    (lambda: tv_distance(np.zeros((0, 3)), np.zeros((0, 3))), "p_u"),
    (lambda: tv_distance(np.ones((2, 3)), np.ones((2, 3))), "sum to 1"),
    (lambda: tv_distance(np.full((2, 3), 1 / 3), np.full((2, 3), 1 / 3), reduction="sum"), "reduction"),
    (lambda: prediction_agreement(np.zeros((2, 3)), np.zeros((2, 4))), "same shape"),
    (lambda: nearest_classes(np.full((2, 3), 1 / 3), 5), "forget_class"),
    (lambda: nearest_classes(np.full((2, 3), 1 / 3), 0, k=3), "k must"),
    (lambda: mia_nn(np.full((4, 3), 1 / 3), np.full((4, 3), 1 / 3), [7]), "neighbours"),
    (lambda: mia_nn(np.full((1, 3), 1 / 3), np.full((4, 3), 1 / 3), [1]), "probs_forget"),
    (lambda: mia_nn(np.full((4, 3), 1 / 3), np.full((4, 4), 1 / 4), [1]), "number of classes"),
    (lambda: mia_nn(np.full((4, 3), 1 / 3), np.full((4, 3), 1 / 3), [1], train_fraction=1.0), "train_fraction"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
