"""Tests for `load_tfds` on TensorFlow Datasets' offline mock data."""

import numpy as np
import pytest

from jaxunlearn.data import load_dataset, load_tfds

tfds = pytest.importorskip("tensorflow_datasets")


def _assert_pixels_restored(dataset):
    """Undoing the recorded normalisation must give multiples of 1/255 in [0, 1]."""
    restored = dataset.inputs * np.asarray(dataset.std) + np.asarray(dataset.mean)
    np.testing.assert_allclose(restored * 255, np.round(restored * 255), atol=1e-3)
    assert restored.min() > -1e-5 and restored.max() < 1 + 1e-5


def test_load_tfds_cifar10_from_mock_data():
    with tfds.testing.mock_data(num_examples=12):
        train, test = load_tfds("cifar10")
    for dataset in (train, test):
        assert dataset.inputs.shape == (12, 32, 32, 3)
        assert dataset.inputs.dtype == np.float32
        assert dataset.labels.dtype == np.int32
        assert dataset.labels.min() >= 0 and dataset.labels.max() < 10
        assert dataset.num_classes == 10
        assert dataset.augmentation == "crop_flip"
        assert dataset.name == "cifar10"
        np.testing.assert_allclose(dataset.mean, (0.4914, 0.4822, 0.4465))
        _assert_pixels_restored(dataset)


def test_load_dataset_tfds_prefix_and_max_examples():
    with tfds.testing.mock_data(num_examples=9):
        train, test = load_dataset("tfds:cifar10", max_examples=4)
    assert train.inputs.shape == (4, 32, 32, 3) and test.inputs.shape == (4, 32, 32, 3)
    assert train.num_classes == 10 and train.augmentation == "crop_flip"


def test_load_tfds_grayscale_keeps_channel_and_svhn_gets_crop():
    with tfds.testing.mock_data(num_examples=5):
        mnist_train, _ = load_tfds("mnist")
        svhn_train, _ = load_tfds("svhn_cropped")
        cifar100_train, _ = load_tfds("cifar100")
    assert mnist_train.inputs.shape == (5, 28, 28, 1)
    assert mnist_train.augmentation is None and mnist_train.mean == (0.1307,)
    assert svhn_train.augmentation == "crop"
    assert cifar100_train.num_classes == 100 and cifar100_train.augmentation == "crop_flip"
    _assert_pixels_restored(mnist_train)


def test_load_tfds_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_examples"):
        load_tfds("cifar10", max_examples=0)
    with pytest.raises(TypeError, match="train_split"):
        load_tfds("cifar10", train_split=3)
    with tfds.testing.mock_data(num_examples=3):
        with pytest.raises(ValueError, match="image_key"):
            load_tfds("cifar10", image_key="picture")


def test_load_tfds_computes_statistics_for_other_datasets():
    with tfds.testing.mock_data(num_examples=6):
        train, test = load_tfds("kmnist")
    assert train.inputs.shape == (6, 28, 28, 1) and train.augmentation is None
    # No published statistics for kmnist: the train split itself is standardised.
    assert abs(float(train.inputs.mean(dtype=np.float64))) < 1e-5
    assert abs(float(train.inputs.std(dtype=np.float64)) - 1.0) < 1e-5
    _assert_pixels_restored(train)
    _assert_pixels_restored(test)
