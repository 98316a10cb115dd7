"""Class-stratified subsets (data.train_size / data.test_size)."""

import numpy as np
import pytest

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from jaxunlearn.data import from_arrays, load_digits, stratified_subset, subset_indices
from jaxunlearn.pipeline import prepare


def test_subset_keeps_each_class_share_within_one_example():
    labels = np.repeat(np.arange(4), [500, 300, 150, 50])
    size = 333
    keep = subset_indices(labels, size, seed=5)
    assert keep.shape == (size,) and np.all(np.diff(keep) > 0)
    counts = np.bincount(labels[keep], minlength=4)
    ideal = size * np.array([500, 300, 150, 50]) / 1000  # closed-form proportional shares
    assert counts.sum() == size and np.all(np.abs(counts - ideal) < 1)


def test_subset_is_a_seeded_uniform_draw_within_classes():
    labels = np.zeros(40, int)
    same = subset_indices(labels, 10, seed=1)
    assert np.array_equal(same, subset_indices(labels, 10, seed=1))
    assert not np.array_equal(same, subset_indices(labels, 10, seed=2))
    assert not np.array_equal(same, subset_indices(labels, 10, seed=1, salt=1))
    # Monte-Carlo: every example is kept with probability 10/40
    hits = np.zeros(40)
    for seed in range(400):
        hits[subset_indices(labels, 10, seed=seed)] += 1
    assert np.all(np.abs(hits / 400 - 0.25) < 0.1)


def test_stratified_subset_selects_rows_and_keeps_statistics():
    train, _ = load_digits()
    small = stratified_subset(train, 100, seed=0)
    keep = subset_indices(train.labels, 100, seed=0)
    np.testing.assert_array_equal(small.inputs, np.asarray(train.inputs)[keep])
    np.testing.assert_array_equal(small.labels, np.asarray(train.labels)[keep])
    assert small.mean == train.mean and small.std == train.std and small.name == train.name
    assert stratified_subset(train, None, seed=0) is train


def test_prepare_applies_train_and_test_size():
    config = ExperimentConfig(data=DataConfig(name="digits", train_size=300, test_size=120),
                              model=ModelConfig(name="mlp"), train=TrainConfig(epochs=1))
    splits = prepare(config).splits
    assert len(splits.train) == 300 and len(splits.test) == 120
    assert len(splits.forget_indices) == 30


@pytest.mark.parametrize("field, value, error", [
    ("train_size", 0, ValueError), ("test_size", -3, ValueError),
    ("train_size", 2.5, TypeError), ("test_size", True, TypeError)])
def test_bad_sizes_name_the_field(field, value, error):
    with pytest.raises(error, match=f"data.{field}"):
        DataConfig(**{field: value})


def test_a_size_beyond_the_dataset_names_the_field():
    config = ExperimentConfig(data=DataConfig(name="digits", train_size=10**6),
                              model=ModelConfig(name="mlp"), train=TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="data.train_size: 1000000 exceeds"):
        prepare(config)
    with pytest.raises(ValueError, match="size: 5 exceeds"):
        subset_indices(np.zeros(4, int), 5, seed=0)
