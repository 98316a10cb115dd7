"""Tests for `jaxunlearn.data.Dataset` and `from_arrays`."""

import numpy as np
import pytest

from jaxunlearn.data import Dataset, from_arrays


def _arrays(n=12, shape=(4, 4, 3), num_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(n, *shape))
    labels = np.arange(n) % num_classes
    return inputs, labels


def test_converts_dtypes_and_exposes_shape():
    inputs, labels = _arrays()
    dataset = Dataset(inputs=inputs, labels=labels.astype(np.int64), num_classes=3)
    assert dataset.inputs.dtype == np.float32
    assert dataset.labels.dtype == np.int32
    assert dataset.input_shape == (4, 4, 3)
    assert len(dataset) == 12
    np.testing.assert_array_equal(dataset.inputs, inputs.astype(np.float32))
    np.testing.assert_array_equal(dataset.labels, labels)


def test_arrays_are_read_only_but_caller_array_is_untouched():
    inputs, labels = _arrays()
    inputs = inputs.astype(np.float32)
    dataset = Dataset(inputs=inputs, labels=labels, num_classes=3)
    with pytest.raises(ValueError):
        dataset.inputs[0, 0, 0, 0] = 1.0
    inputs[0, 0, 0, 0] = 5.0  # the caller's own array stays writable
    assert inputs.flags.writeable


@pytest.mark.parametrize(
    "changes, error, match",
    [
        ({"labels": np.zeros(11, dtype=np.int64)}, ValueError, "labels"),
        ({"labels": np.full(12, 3)}, ValueError, "labels"),
        ({"labels": np.full(12, -1)}, ValueError, "labels"),
        ({"labels": np.zeros(12, dtype=np.float32)}, TypeError, "labels"),
        ({"labels": np.zeros((12, 1), dtype=np.int64)}, ValueError, "labels"),
        ({"inputs": np.full((12, 4, 4, 3), np.nan)}, ValueError, "inputs"),
        ({"inputs": np.zeros(12)}, ValueError, "inputs"),
        ({"inputs": np.array([["a"]] * 12)}, TypeError, "inputs"),
        ({"num_classes": 0}, ValueError, "num_classes"),
        ({"num_classes": 3.0}, TypeError, "num_classes"),
        ({"num_classes": True}, TypeError, "num_classes"),
        ({"std": (1.0, 0.0, 1.0)}, ValueError, "std"),
        ({"std": (-1.0,)}, ValueError, "std"),
        ({"mean": (0.0, 0.0)}, ValueError, "mean"),
        ({"mean": (float("nan"),)}, ValueError, "mean"),
        ({"augmentation": "flip"}, ValueError, "augmentation"),
        ({"inputs": np.zeros((12, 5)), "augmentation": "crop"}, ValueError, "augmentation"),
        ({"name": 3}, TypeError, "name"),
    ],
)
def test_rejects_bad_fields(changes, error, match):
    inputs, labels = _arrays()
    fields = {"inputs": inputs, "labels": labels, "num_classes": 3, **changes}
    with pytest.raises(error, match=match):
        Dataset(**fields)


@pytest.mark.parametrize("augmentation", [None, "crop", "crop_flip"])
def test_accepts_allowed_augmentations(augmentation):
    inputs, labels = _arrays()
    assert Dataset(inputs, labels, 3, augmentation=augmentation).augmentation == augmentation


def test_subset_selects_rows_and_keeps_metadata():
    inputs, labels = _arrays()
    dataset = Dataset(inputs, labels, 3, name="toy", mean=(0.5,), std=(2.0,), augmentation="crop")
    chosen = [5, 0, 5, 11]
    part = dataset.subset(chosen)
    np.testing.assert_array_equal(part.inputs, inputs.astype(np.float32)[chosen])
    np.testing.assert_array_equal(part.labels, labels[chosen])
    assert (part.name, part.mean, part.std, part.augmentation, part.num_classes) == (
        "toy", (0.5,), (2.0,), "crop", 3
    )
    assert len(dataset.subset([])) == 0


@pytest.mark.parametrize(
    "indices, error",
    [([12], ValueError), ([-1], ValueError), ([0.0, 1.0], TypeError),
     (np.ones(12, dtype=bool), TypeError), ([[0, 1]], ValueError)],
)
def test_subset_rejects_bad_indices(indices, error):
    inputs, labels = _arrays()
    with pytest.raises(error, match="indices"):
        Dataset(inputs, labels, 3).subset(indices)


def test_fingerprint_tracks_content_not_identity():
    inputs, labels = _arrays()
    first = Dataset(inputs, labels, 3)
    assert first.fingerprint() == Dataset(inputs.copy(), labels.copy(), 3, name="x").fingerprint()
    changed_label = labels.copy()
    changed_label[7] = (changed_label[7] + 1) % 3
    changed_input = inputs.copy()
    changed_input[0, 0, 0, 0] += 1.0
    others = {
        Dataset(inputs, changed_label, 3).fingerprint(),
        Dataset(changed_input, labels, 3).fingerprint(),
        Dataset(inputs, labels, 4).fingerprint(),
        Dataset(inputs[:-1], labels[:-1], 3).fingerprint(),
    }
    assert first.fingerprint() not in others and len(others) == 4
    assert len(first.fingerprint()) == 16


def test_from_arrays_adds_channel_axis_and_infers_classes():
    images = np.arange(5 * 3 * 2, dtype=np.uint8).reshape(5, 3, 2)
    dataset = from_arrays(images, [0, 4, 1, 1, 2], name="tiny")
    assert dataset.inputs.shape == (5, 3, 2, 1)
    np.testing.assert_array_equal(dataset.inputs[..., 0], images.astype(np.float32))
    assert dataset.num_classes == 5 and dataset.name == "tiny"
    assert dataset.mean == (0.0,) and dataset.std == (1.0,)


def test_from_arrays_normalises_each_channel():
    rng = np.random.default_rng(1)
    raw = rng.normal(loc=[1.0, -3.0, 10.0], scale=[0.5, 2.0, 4.0], size=(200, 6, 6, 3))
    dataset = from_arrays(raw, np.zeros(200, dtype=int), num_classes=2, normalise=True)
    np.testing.assert_allclose(dataset.mean, raw.mean(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(dataset.std, raw.std(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(dataset.inputs.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(dataset.inputs.std(axis=(0, 1, 2)), 1.0, atol=1e-5)
    expected = (raw - raw.mean(axis=(0, 1, 2))) / raw.std(axis=(0, 1, 2))
    np.testing.assert_allclose(dataset.inputs, expected, atol=1e-5)
