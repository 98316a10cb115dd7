"""Every bad `make_splits` request raises the right error, naming the argument, up front."""

import numpy as np
import pytest

from jaxunlearn.data import Dataset, make_splits


def _dataset(labels, num_classes=4, seed=0):
    labels = np.asarray(labels)
    inputs = np.random.default_rng(seed).normal(size=(labels.size, 3, 3, 1))
    return Dataset(inputs=inputs, labels=labels, num_classes=num_classes)


TRAIN = _dataset(np.arange(20) % 3)  # classes 0, 1, 2 present; class 3 has no examples
TEST = _dataset(np.arange(10) % 4, seed=1)

BAD_FORGET = [
    # Not exactly one forget argument.
    ({}, ValueError, "forget_fraction, forget_classes, forget_indices"),
    ({"forget_fraction": 0.1, "forget_classes": [1]}, ValueError, "exactly one"),
    ({"forget_fraction": 0.1, "forget_indices": [1]}, ValueError, "forget_indices"),
    # forget_indices.
    ({"forget_indices": [1, 2, 1]}, ValueError, "forget_indices"),
    ({"forget_indices": [0, 20]}, ValueError, "forget_indices"),
    ({"forget_indices": [-1, 3]}, ValueError, "forget_indices"),
    ({"forget_indices": [1.0, 2.0]}, TypeError, "forget_indices"),
    ({"forget_indices": np.array([0.5])}, TypeError, "forget_indices"),
    ({"forget_indices": np.zeros(20, dtype=bool)}, TypeError, "forget_indices"),
    ({"forget_indices": "12"}, TypeError, "forget_indices"),
    ({"forget_indices": []}, ValueError, "forget_indices"),
    ({"forget_indices": [[1, 2]]}, ValueError, "forget_indices"),
    ({"forget_indices": list(range(20))}, ValueError, "forget_indices"),
    # forget_fraction.
    ({"forget_fraction": 0.0}, ValueError, "forget_fraction"),
    ({"forget_fraction": 1.0}, ValueError, "forget_fraction"),
    ({"forget_fraction": -0.2}, ValueError, "forget_fraction"),
    ({"forget_fraction": 1.5}, ValueError, "forget_fraction"),
    ({"forget_fraction": float("nan")}, ValueError, "forget_fraction"),
    ({"forget_fraction": float("inf")}, ValueError, "forget_fraction"),
    ({"forget_fraction": 0.01}, ValueError, "forget_fraction"),  # round(0.2) == 0
    ({"forget_fraction": 0.99}, ValueError, "forget_fraction"),  # round(19.8) == 20
    ({"forget_fraction": "0.1"}, TypeError, "forget_fraction"),
    ({"forget_fraction": True}, TypeError, "forget_fraction"),
    # forget_classes.
    ({"forget_classes": [4]}, ValueError, "forget_classes"),
    ({"forget_classes": [-1]}, ValueError, "forget_classes"),
    ({"forget_classes": [3]}, ValueError, "forget_classes"),  # no examples of class 3
    ({"forget_classes": [1, 1]}, ValueError, "forget_classes"),
    ({"forget_classes": []}, ValueError, "forget_classes"),
    ({"forget_classes": [0, 1, 2]}, ValueError, "forget_classes"),  # retain would be empty
    ({"forget_classes": [1.0]}, TypeError, "forget_classes"),
    ({"forget_classes": 1.5}, TypeError, "forget_classes"),
    ({"forget_classes": "1"}, TypeError, "forget_classes"),
]

BAD_PUBLIC = [
    ({"public_fraction": 0.0}, ValueError, "public_fraction"),
    ({"public_fraction": 1.0}, ValueError, "public_fraction"),
    ({"public_fraction": float("nan")}, ValueError, "public_fraction"),
    ({"public_fraction": 0.01}, ValueError, "public_fraction"),  # round(0.1) == 0
    ({"public_fraction": 0.99}, ValueError, "public_fraction"),  # takes every test example
    ({"public_size": 0}, ValueError, "public_size"),
    ({"public_size": -3}, ValueError, "public_size"),
    ({"public_size": 11}, ValueError, "public_size"),
    ({"public_size": 10}, ValueError, "public_size"),  # test set would be empty
    ({"public_size": 2.0}, TypeError, "public_size"),
    ({"public_size": 2, "public_fraction": 0.2}, ValueError, "public_fraction and public_size"),
    ({"public_size": 2, "public_class_skew": -0.1}, ValueError, "public_class_skew"),
    ({"public_size": 2, "public_class_skew": float("inf")}, ValueError, "public_class_skew"),
    ({"public_size": 2, "public_class_skew": "1"}, TypeError, "public_class_skew"),
    ({"public_size": 2, "public_corruption": -1.0}, ValueError, "public_corruption"),
    ({"public_size": 2, "public_corruption": float("nan")}, ValueError, "public_corruption"),
    ({"public_class_skew": 1.0}, ValueError, "public_class_skew"),  # no public set requested
    ({"public_corruption": 0.1}, ValueError, "public_corruption"),
    ({"public_source": TEST}, ValueError, "public_source"),
    ({"public_size": 11, "public_source": TEST}, ValueError, "public_size"),
    ({"public_size": 2, "public_source": np.zeros(3)}, TypeError, "public_source"),
    ({"public_size": 2, "public_source": _dataset([0, 1], num_classes=5)}, ValueError,
     "public_source"),
]

BAD_OTHER = [
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 0.5}, TypeError, "seed"),
    ({"seed": None}, TypeError, "seed"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_FORGET)
def test_bad_forget_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_splits(TRAIN, TEST, **kwargs)


@pytest.mark.parametrize("kwargs, error, match", BAD_PUBLIC + BAD_OTHER)
def test_bad_public_and_seed_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_splits(TRAIN, TEST, forget_fraction=0.25, **kwargs)


def test_public_size_may_take_a_whole_public_source():
    splits = make_splits(TRAIN, TEST, forget_fraction=0.25, public_size=10, public_source=TEST)
    assert len(splits.public) == 10 and len(splits.test) == 10


@pytest.mark.parametrize(
    "train, test, error, match",
    [
        (np.zeros((3, 2)), TEST, TypeError, "train"),
        (TRAIN, [1, 2], TypeError, "test"),
        (TRAIN, _dataset([0, 1], num_classes=3), ValueError, "test"),
        (TRAIN, Dataset(np.zeros((2, 4, 4, 1)), [0, 1], 4), ValueError, "test"),
    ],
)
def test_bad_datasets(train, test, error, match):
    with pytest.raises(error, match=match):
        make_splits(train, test, forget_fraction=0.25)


def test_errors_come_before_any_draw(monkeypatch):
    """A bad public argument must fail before the forget set is drawn."""
    calls = []
    original = np.random.default_rng

    def recording_rng(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(np.random, "default_rng", recording_rng)
    with pytest.raises(ValueError, match="public_size"):
        make_splits(TRAIN, TEST, forget_fraction=0.25, public_size=100)
    assert calls == []
