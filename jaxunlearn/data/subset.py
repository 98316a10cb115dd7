"""A class-stratified random subset of a dataset: the small training sets on which a model
memorises (every example learnt, a clear train–test gap), as the papers' CIFAR models do.

The subset keeps each class's share of the full set (largest-remainder rounding,
:func:`jaxunlearn.data.allocate_class_counts`) and draws within each class with a NumPy
generator seeded by ``[seed, 3, salt]`` (salt 0 for the training set, 1 for the test set), so the same
seed gives the same subset on every machine. The normalisation statistics stay those of the full
training split: the subset is a selection, not a new dataset.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxunlearn.data import _validation
from jaxunlearn.data.dataset import Dataset
from jaxunlearn.data.public import allocate_class_counts

__all__ = ["stratified_subset", "subset_indices"]


def subset_indices(labels: np.ndarray, size: int, seed: int, salt: int = 0) -> np.ndarray:
    """Sorted positions of a class-stratified random subset of ``size`` of ``labels``.

    Raises:
      ValueError: if ``size`` is not in [1, len(labels)].
    """
    labels = np.asarray(labels)
    size = _validation.check_integer(size, "size", minimum=1)
    if size > labels.shape[0]:
        raise ValueError(f"size: {size} exceeds the {labels.shape[0]} examples available")
    classes, counts_available = np.unique(labels, return_counts=True)
    counts = allocate_class_counts(counts_available, np.ones(len(classes)), size)
    rng = np.random.default_rng([int(seed), 3, int(salt)])
    chosen = [rng.choice(np.flatnonzero(labels == label), count, replace=False)
              for label, count in zip(classes, counts) if count]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def stratified_subset(dataset: Dataset, size: int | None, seed: int, salt: int = 0) -> Dataset:
    """``dataset`` itself when ``size`` is None or its length, else the class-stratified
    subset of ``size`` examples (:func:`subset_indices`), with the same statistics and name."""
    if size is None or size == len(dataset):
        return dataset
    keep = subset_indices(dataset.labels, size, seed, salt)
    return dataclasses.replace(dataset, inputs=np.asarray(dataset.inputs)[keep],
                               labels=np.asarray(dataset.labels)[keep])
