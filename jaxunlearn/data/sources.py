"""Dataset sources: in-memory arrays, scikit-learn digits, Fashion-MNIST IDX files, and a registry.

Every loader returns `(train, test)` `Dataset`s whose inputs are already normalised with
statistics of the training split only, so nothing about the test set leaks into training.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable

import numpy as np

from jaxunlearn.data import _validation, normalisation
from jaxunlearn.data.dataset import Dataset
from jaxunlearn.data.idx import read_idx
from jaxunlearn.data.tfds_source import load_tfds

DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
_FASHION_MNIST_CLASSES = 10
_FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_FASHION_MNIST_HINT = (
    "install the Debian package with `apt-get install dataset-fashion-mnist`, or pass data_dir= "
    "pointing to a directory holding the four IDX files"
)


def from_arrays(
    inputs: Any,
    labels: Any,
    *,
    num_classes: int | None = None,
    name: str = "arrays",
    normalise: bool = False,
    augmentation: str | None = None,
) -> Dataset:
    """Wraps in-memory arrays as a `Dataset`.

    Args:
      inputs: array of shape (n, H, W) (a channel axis is added), (n, H, W, C), or (n, d).
        Values are converted to float32 as they are; scaling (e.g. /255) is the caller's job.
      labels: integer array of shape (n,).
      num_classes: the number of classes; defaults to `max(labels) + 1`.
      name: the dataset name.
      normalise: if True, standardise each channel (last axis) with its own mean and std and
        record them; otherwise record mean 0 and std 1.
      augmentation: None, "crop" or "crop_flip" (see `Dataset`).

    Returns:
      The `Dataset`.
    """
    if not isinstance(normalise, bool):
        raise TypeError(f"normalise must be a bool, got {type(normalise).__name__}")
    inputs = np.asarray(inputs)
    labels = np.asarray(labels)
    if inputs.ndim == 3:
        inputs = inputs[..., np.newaxis]
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("num_classes must be given when labels is empty")
        if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must hold integers, got dtype {labels.dtype}")
        num_classes = int(labels.max()) + 1
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    if normalise:
        if inputs.dtype.kind not in "biuf" or inputs.ndim < 2:
            raise TypeError(f"inputs must be a numeric array of shape (n, ...), got {inputs.shape}")
        mean, std = normalisation.channel_statistics(inputs)
        inputs = normalisation.normalise(inputs, mean, std)
    return Dataset(
        inputs=inputs,
        labels=labels,
        num_classes=num_classes,
        name=name,
        mean=mean,
        std=std,
        augmentation=augmentation,
    )


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """The scikit-learn 8x8 handwritten digits (1,797 images, 10 classes), split train/test.

    Pixels (0..16) are divided by 16, then standardised with the global mean and std of the
    training split. The split is stratified by label and deterministic given `seed`
    (scikit-learn's `train_test_split`).

    Args:
      test_fraction: the share of examples in the test split, strictly between 0 and 1.
      seed: the seed of the split, a non-negative integer.

    Returns:
      `(train, test)`, inputs of shape (n, 8, 8, 1), name "digits", no augmentation.
    """
    from sklearn import datasets as sklearn_datasets
    from sklearn.model_selection import train_test_split

    test_fraction = _validation.check_open_fraction(test_fraction, "test_fraction")
    seed = _validation.check_integer(seed, "seed", minimum=0)
    digits = sklearn_datasets.load_digits()
    images = digits.images.astype(np.float64)[..., np.newaxis]
    labels = digits.target.astype(np.int64)
    positions = np.arange(labels.shape[0])
    train_positions, test_positions = train_test_split(
        positions, test_size=test_fraction, random_state=seed, stratify=labels
    )
    train_positions = np.sort(train_positions)
    test_positions = np.sort(test_positions)
    mean, std = normalisation.channel_statistics(
        images[train_positions], divisor=16.0, per_channel=False
    )

    def build(selected: np.ndarray) -> Dataset:
        return Dataset(
            inputs=normalisation.normalise(images[selected], mean, std, divisor=16.0),
            labels=labels[selected],
            num_classes=10,
            name="digits",
            mean=mean,
            std=std,
        )

    return build(train_positions), build(test_positions)


def _find_idx_file(directory: pathlib.Path, stem: str) -> pathlib.Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"Fashion-MNIST file {stem}[.gz] not found in data_dir {str(directory)!r}; "
        f"{_FASHION_MNIST_HINT}"
    )


def load_fashion_mnist(
    data_dir: str | os.PathLike = DEFAULT_FASHION_MNIST_DIR,
) -> tuple[Dataset, Dataset]:
    """Fashion-MNIST (Xiao et al., 2017) from its four IDX files, plain or gzip-compressed.

    Pixels are divided by 255 and standardised with the mean and std of the training images.

    Args:
      data_dir: a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
        t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally with ".gz". The
        default is where the Debian package `dataset-fashion-mnist` installs them.

    Returns:
      `(train, test)`, inputs of shape (n, 28, 28, 1) (60,000 and 10,000 for the real files),
      10 classes, name "fashion_mnist", no augmentation.

    Raises:
      FileNotFoundError: if the directory or one of the files is missing.
      ValueError: if the files do not hold 3-D uint8 images with matching 1-D labels.
    """
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path, got {type(data_dir).__name__}")
    directory = pathlib.Path(data_dir)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"Fashion-MNIST data_dir {str(directory)!r} does not exist; {_FASHION_MNIST_HINT}"
        )
    arrays = {
        key: read_idx(_find_idx_file(directory, stem))
        for key, stem in _FASHION_MNIST_FILES.items()
    }
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"Fashion-MNIST {split} images in data_dir must be 3-D uint8, got "
                f"{images.dtype} of shape {images.shape}"
            )
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"Fashion-MNIST {split} labels in data_dir must be 1-D with one label per image, "
                f"got shape {labels.shape} for {images.shape[0]} images"
            )
    train_images = arrays["train_images"][..., np.newaxis]
    test_images = arrays["test_images"][..., np.newaxis]
    mean, std = normalisation.channel_statistics(train_images, divisor=255.0)

    def build(images: np.ndarray, labels: np.ndarray) -> Dataset:
        return Dataset(
            inputs=normalisation.normalise(images, mean, std, divisor=255.0),
            labels=labels.astype(np.int64),
            num_classes=_FASHION_MNIST_CLASSES,
            name="fashion_mnist",
            mean=mean,
            std=std,
        )

    return build(train_images, arrays["train_labels"]), build(test_images, arrays["test_labels"])


_LOADERS: dict[str, Callable[..., tuple[Dataset, Dataset]]] = {
    "digits": load_digits,
    "fashion_mnist": load_fashion_mnist,
}
_TFDS_PREFIX = "tfds:"


def load_dataset(name: str, **kwargs: Any) -> tuple[Dataset, Dataset]:
    """Loads `(train, test)` by name.

    Args:
      name: "digits" (`load_digits`), "fashion_mnist" (`load_fashion_mnist`) or
        "tfds:<tfds name>" (`load_tfds(<tfds name>)`, e.g. "tfds:cifar10").
      **kwargs: passed on to the loader.

    Returns:
      The loader's `(train, test)`.

    Raises:
      ValueError: for an unknown name.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name in _LOADERS:
        return _LOADERS[name](**kwargs)
    if name.startswith(_TFDS_PREFIX) and len(name) > len(_TFDS_PREFIX):
        return load_tfds(name[len(_TFDS_PREFIX) :], **kwargs)
    options = ", ".join([*(repr(key) for key in _LOADERS), "'tfds:<name>'"])
    raise ValueError(f"name {name!r} is not a known dataset; options: {options}")
