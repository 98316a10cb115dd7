"""Datasets for unlearning experiments: sources, normalisation and forget/retain/public splits.

Loaders return `(train, test)` pairs of in-memory, normalised `Dataset`s; `make_splits` chooses
what to forget and which public data methods may use. TensorFlow Datasets is imported only when
`load_tfds` is called.
"""

from jaxunlearn.data.dataset import AUGMENTATIONS, Dataset
from jaxunlearn.data.idx import read_idx, write_idx
from jaxunlearn.data.normalisation import KNOWN_STATISTICS, channel_statistics, normalise
from jaxunlearn.data.public import (
    allocate_class_counts,
    class_skew_weights,
    corrupt_inputs,
    sample_public_indices,
)
from jaxunlearn.data.sources import (
    DEFAULT_FASHION_MNIST_DIR,
    from_arrays,
    load_dataset,
    load_digits,
    load_fashion_mnist,
)
from jaxunlearn.data.splits import Splits, make_splits
from jaxunlearn.data.surrogate import resize_like
from jaxunlearn.data.subset import stratified_subset, subset_indices
from jaxunlearn.data.tfds_source import load_tfds

__all__ = [
    "AUGMENTATIONS",
    "DEFAULT_FASHION_MNIST_DIR",
    "Dataset",
    "KNOWN_STATISTICS",
    "Splits",
    "allocate_class_counts",
    "channel_statistics",
    "class_skew_weights",
    "corrupt_inputs",
    "from_arrays",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "stratified_subset",
    "subset_indices",
    "load_tfds",
    "make_splits",
    "normalise",
    "read_idx",
    "resize_like",
    "sample_public_indices",
    "write_idx",
]
