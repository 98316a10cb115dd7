"""Tests for the digits loader, the `load_dataset` registry and the import footprint."""

import collections
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from sklearn import datasets as sklearn_datasets

from jaxunlearn.data import load_dataset, load_digits

_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _rows(images):
    return collections.Counter(row.tobytes() for row in images.reshape(len(images), -1))


def test_digits_shapes_classes_and_stratified_sizes():
    train, test = load_digits(test_fraction=0.2, seed=0)
    reference = sklearn_datasets.load_digits()
    class_counts = np.bincount(reference.target, minlength=10)

    assert train.inputs.shape == (len(train), 8, 8, 1) and train.inputs.dtype == np.float32
    assert len(train) + len(test) == 1797
    assert len(test) == int(np.ceil(0.2 * 1797))
    assert train.num_classes == test.num_classes == 10
    assert (train.name, train.augmentation) == ("digits", None)
    # Stratified: each class keeps (about) its 20% share in the test split.
    test_counts = np.bincount(test.labels, minlength=10)
    assert np.all(np.abs(test_counts - 0.2 * class_counts) <= 1)


def test_digits_normalised_with_train_statistics_and_same_images():
    train, test = load_digits(seed=3)
    reference = sklearn_datasets.load_digits()
    assert abs(float(train.inputs.mean())) < 1e-5
    assert abs(float(train.inputs.std()) - 1.0) < 1e-5
    # Undoing the recorded normalisation gives back exactly the scikit-learn pixels / 16.
    pixels = {}
    for name, dataset in (("train", train), ("test", test)):
        restored = dataset.inputs * dataset.std[0] + dataset.mean[0]
        pixels[name] = np.round(restored * 16).astype(np.int64)
        np.testing.assert_allclose(restored * 16, pixels[name], atol=1e-4)
    expected = sklearn_datasets.load_digits().images.astype(np.int64)
    combined = np.concatenate([pixels["train"], pixels["test"]])[..., 0]
    assert _rows(combined) == _rows(expected)
    restored_train = pixels["train"].reshape(len(train), -1) / 16.0
    assert train.mean[0] == pytest.approx(restored_train.mean(), abs=1e-9)
    assert train.std[0] == pytest.approx(restored_train.std(), abs=1e-9)
    # Labels stay attached to their images.
    by_image = {image.tobytes(): label for image, label in zip(expected, reference.target)}
    for image, label in zip(pixels["test"][..., 0][:50], test.labels[:50]):
        assert by_image[image.tobytes()] == label


def test_digits_split_is_deterministic_in_seed():
    first, _ = load_digits(seed=1)
    again, _ = load_digits(seed=1)
    other, _ = load_digits(seed=2)
    np.testing.assert_array_equal(first.inputs, again.inputs)
    assert first.fingerprint() == again.fingerprint() != other.fingerprint()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"test_fraction": 0.0}, ValueError, "test_fraction"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction"),
        ({"test_fraction": "0.2"}, TypeError, "test_fraction"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_digits_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)


def test_load_dataset_dispatches_and_lists_options():
    train, _ = load_dataset("digits", test_fraction=0.5)
    assert train.name == "digits" and len(train) == 1797 - int(np.ceil(0.5 * 1797))
    with pytest.raises(ValueError, match="digits.*fashion_mnist.*tfds:<name>"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="tfds"):
        load_dataset("tfds:")
    with pytest.raises(TypeError, match="name"):
        load_dataset(3)


def test_importing_the_package_does_not_import_tensorflow_datasets():
    code = (
        "import sys, jaxunlearn.data\n"
        "assert 'tensorflow_datasets' not in sys.modules, 'tensorflow_datasets was imported'\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=_REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
