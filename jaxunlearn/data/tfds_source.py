"""TensorFlow Datasets through `tfds.data_source` (random access, no TensorFlow needed).

`tensorflow_datasets` is imported inside `load_tfds` only, so the package imports on machines
without it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from jaxunlearn.data import _validation, normalisation
from jaxunlearn.data.dataset import Dataset

# Augmentation used in the unlearning literature for each dataset; others get none.
_AUGMENTATION_BY_NAME: dict[str, str] = {
    "cifar10": "crop_flip",
    "cifar100": "crop_flip",
    "svhn_cropped": "crop",
}


def _base_name(name: str) -> str:
    """"cifar10:3.0.2" or "mnist/config:1.*" -> the builder name used for the lookup tables."""
    return name.split(":", 1)[0].split("/", 1)[0]


def _read_split(
    source: Any, image_key: str, label_key: str, limit: int | None, split: str
) -> tuple[np.ndarray, np.ndarray]:
    """Reads the first `limit` records of a data source into (images NHWC, labels) arrays."""
    count = len(source) if limit is None else min(limit, len(source))
    if count == 0:
        raise ValueError(f"split {split!r} holds no records")
    images = []
    labels = np.empty((count,), dtype=np.int64)
    for position in range(count):
        record = source[position]
        if position == 0:
            for key_name, key in (("image_key", image_key), ("label_key", label_key)):
                if key not in record:
                    raise ValueError(
                        f"{key_name} {key!r} is not a feature of split {split!r}; "
                        f"features: {sorted(record)}"
                    )
        images.append(np.asarray(record[image_key]))
        labels[position] = int(record[label_key])
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise ValueError(f"split {split!r} has images of several shapes: {sorted(shapes)[:3]}")
    stacked = np.stack(images)
    if stacked.ndim == 3:
        stacked = stacked[..., np.newaxis]
    return stacked, labels


def _num_classes(source: Any, label_key: str, labels: list[np.ndarray]) -> int:
    """The class count recorded in the dataset info, else the largest label seen plus one."""
    try:
        recorded = source.dataset_info.features[label_key].num_classes
    except (AttributeError, KeyError, TypeError):
        recorded = None
    if isinstance(recorded, (int, np.integer)) and recorded > 0:
        return int(recorded)
    return int(max(int(values.max()) for values in labels)) + 1


def load_tfds(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    train_split: str = "train",
    test_split: str = "test",
    image_key: str = "image",
    label_key: str = "label",
    max_examples: int | None = None,
) -> tuple[Dataset, Dataset]:
    """Loads an image classification dataset from TensorFlow Datasets into memory.

    Records are read one by one with `tfds.data_source`, which prepares the dataset in
    `data_dir` first if it is not there (that step needs network access). uint8 images are
    divided by 255; then every split is standardised per channel with the published statistics
    for cifar10, cifar100, svhn_cropped, mnist and fashion_mnist, and with statistics computed on
    the training split for any other dataset. Grayscale images keep a channel axis.

    Args:
      name: the tfds name, optionally with config/version ("cifar10", "cifar10:3.0.2").
      data_dir: the tfds data directory; None uses the tfds default.
      train_split: the split used for training, e.g. "train" or "train[:90%]".
      test_split: the held-out split.
      image_key: the image feature.
      label_key: the label feature.
      max_examples: if given, keep only the first `max_examples` records of each split.

    Returns:
      `(train, test)`: inputs (n, H, W, C) float32, int32 labels; `num_classes` from the
      dataset info (else the largest label plus one); augmentation "crop_flip" for
      cifar10/cifar100, "crop" for svhn_cropped, else None; name is the builder name.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    for argument_name, value in (
        ("train_split", train_split),
        ("test_split", test_split),
        ("image_key", image_key),
        ("label_key", label_key),
    ):
        if not isinstance(value, str):
            raise TypeError(f"{argument_name} must be a str, got {type(value).__name__}")
    if max_examples is not None:
        max_examples = _validation.check_integer(max_examples, "max_examples", minimum=1)

    import tensorflow_datasets as tfds

    sources = {
        split: tfds.data_source(name, split=split, data_dir=data_dir)
        for split in (train_split, test_split)
    }
    train_images, train_labels = _read_split(
        sources[train_split], image_key, label_key, max_examples, train_split
    )
    test_images, test_labels = _read_split(
        sources[test_split], image_key, label_key, max_examples, test_split
    )
    if train_images.shape[1:] != test_images.shape[1:]:
        raise ValueError(
            f"train_split and test_split images differ in shape: {train_images.shape[1:]} "
            f"and {test_images.shape[1:]}"
        )

    base_name = _base_name(name)
    divisor = 255.0 if train_images.dtype == np.uint8 else 1.0
    channels = train_images.shape[-1]
    known = normalisation.KNOWN_STATISTICS.get(base_name)
    if known is not None and divisor == 255.0 and len(known[0]) == channels:
        mean, std = known
    else:
        mean, std = normalisation.channel_statistics(train_images, divisor=divisor)
    num_classes = _num_classes(sources[train_split], label_key, [train_labels, test_labels])
    augmentation = _AUGMENTATION_BY_NAME.get(base_name)

    def build(images: np.ndarray, labels: np.ndarray) -> Dataset:
        return Dataset(
            inputs=normalisation.normalise(images, mean, std, divisor=divisor),
            labels=labels,
            num_classes=num_classes,
            name=base_name,
            mean=mean,
            std=std,
            augmentation=augmentation,
        )

    return build(train_images, train_labels), build(test_images, test_labels)
