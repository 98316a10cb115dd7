"""The convex tasks: unit-norm features, ±1 labels, a public set from held-out training rows with
the requested shift, and Fashion-MNIST when its files are installed."""

import os

import numpy as np
import pytest

from jaxunlearn.alu import binary_logistic_task
from jaxunlearn.alu.tasks import unit_features
from jaxunlearn.data import DEFAULT_FASHION_MNIST_DIR, load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits(test_fraction=0.25)


def _rows(array):
    return {row.tobytes() for row in np.asarray(array)}


def test_digits_task_features_labels_and_disjoint_sets(digits):
    task = binary_logistic_task("digits", negative=(3,), positive=(8,), num_private=120,
                                num_public=100, datasets=digits)
    for inputs in (task.private_inputs, task.public_inputs, task.test_inputs):
        np.testing.assert_allclose(np.linalg.norm(inputs, axis=1), 1.0, rtol=1e-5)
    for labels in (task.private_labels, task.public_labels, task.test_labels):
        assert set(np.unique(labels)) == {-1, 1}
    assert task.dim == 64 and task.num_private == 120 and task.num_public == 100
    assert not _rows(task.private_inputs) & _rows(task.public_inputs)
    assert not _rows(task.test_inputs) & (_rows(task.private_inputs) | _rows(task.public_inputs))
    data = task.data(num_public=40)
    assert data.num_private == 120 and data.num_public == 40
    assert task.spec["negative"] == [3] and task.spec["positive"] == [8]


def test_public_shift_options(digits):
    common = dict(negative=range(5), positive=range(5, 10), num_private=200, num_public=300,
                  datasets=digits)
    clean = binary_logistic_task("digits", **common)
    skewed = binary_logistic_task("digits", public_class_skew=3.0, **common)
    noisy = binary_logistic_task("digits", public_corruption=1.0, **common)
    assert np.mean(clean.public_labels > 0) == pytest.approx(0.5, abs=0.05)
    assert np.mean(skewed.public_labels > 0) < 0.1  # class +1 drawn e^{-3} times less often
    np.testing.assert_array_equal(noisy.private_inputs, clean.private_inputs)
    cosine = np.sum(noisy.public_inputs * clean.public_inputs, axis=1)
    assert np.all(cosine < 0.99) and np.mean(cosine) > 0.2  # same rows, corrupted


def test_pooling_and_bad_requests(digits):
    images = np.arange(2 * 4 * 4, dtype=np.float64).reshape(2, 4, 4, 1)
    pooled = unit_features(images, pool=2)
    assert pooled.shape == (2, 4)
    with pytest.raises(ValueError, match="disjoint"):
        binary_logistic_task("digits", negative=(1,), positive=(1, 2), datasets=digits)
    with pytest.raises(ValueError, match="num_public must lie in"):
        binary_logistic_task("digits", negative=(3,), positive=(8,), num_private=200,
                             num_public=500, datasets=digits)
    with pytest.raises(ValueError, match="dataset must be one of"):
        binary_logistic_task("mnist")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(DEFAULT_FASHION_MNIST_DIR),
                    reason="Fashion-MNIST is not installed")
def test_fashion_mnist_task():
    task = binary_logistic_task("fashion_mnist", negative=(7,), positive=(9,), num_private=300,
                                num_public=200, pool=2)
    assert task.dim == 196 and task.test_labels.shape == (2000,)
    np.testing.assert_allclose(np.linalg.norm(task.public_inputs, axis=1), 1.0, rtol=1e-5)
