"""The in-memory `Dataset`: normalised images, integer labels and how they were produced."""

from __future__ import annotations

import dataclasses
import hashlib
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from jaxunlearn.data import _validation

AUGMENTATIONS: tuple[str, ...] = ("crop", "crop_flip")
"""Augmentation kinds a `Dataset` may request: random crop with padding 4, plus horizontal flip."""

# Rows hashed by `Dataset.fingerprint`: enough to tell datasets apart, cheap for 50k CIFAR images.
_FINGERPRINT_ROWS = 256


def _check_statistics(values: Any, name: str) -> tuple[float, ...]:
    if isinstance(values, numbers.Real) and not isinstance(values, (bool, np.bool_)):
        values = (values,)
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of floats, got {type(values).__name__}")
    result = tuple(_validation.check_real(value, name) for value in values)
    if not result:
        raise ValueError(f"{name} must hold at least one value")
    return result


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled image dataset held in host memory, already normalised.

    Attributes:
      inputs: float32 array of shape (n, H, W, C) (NHWC images; the digits set is (n, 8, 8, 1)),
        already normalised per channel as `(x - mean) / std`. Other shapes (n, ...) with at least
        two axes are accepted (e.g. (n, d) features); the last axis is the channel axis.
      labels: int32 array of shape (n,), values in [0, num_classes).
      num_classes: the number of classes of the task (may exceed the labels present).
      name: a short name of the source, e.g. "digits" or "cifar10".
      mean: the per-channel means that were subtracted (one value, or one per channel).
      std: the per-channel standard deviations that were divided by; all > 0.
      augmentation: None, "crop" (random crop after padding by 4) or "crop_flip" (crop plus a
        random horizontal flip). This only records what training should apply; the arrays here
        are never augmented. Augmentation needs 4-D image inputs.

    The arrays are stored as read-only views, so a dataset cannot change after its fingerprint
    has been recorded. Equality is identity (`eq=False`): compare `fingerprint()` values instead.

    Raises:
      TypeError: non-numeric inputs, non-integer labels, or a non-integer `num_classes`.
      ValueError: mismatched lengths, labels outside [0, num_classes), non-finite inputs,
        statistics that do not match the channel count, `std <= 0` or an unknown augmentation.
    """

    inputs: np.ndarray
    labels: np.ndarray
    num_classes: int
    name: str = "arrays"
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    augmentation: str | None = None

    def __post_init__(self) -> None:
        inputs = np.asarray(self.inputs)
        if inputs.dtype.kind not in "biuf":
            raise TypeError(f"inputs must be a numeric array, got dtype {inputs.dtype}")
        if inputs.ndim < 2:
            raise ValueError(
                f"inputs must have shape (n, H, W, C) or at least (n, d), got {inputs.shape}"
            )
        inputs = inputs.astype(np.float32, copy=False)
        if not np.isfinite(inputs).all():
            raise ValueError("inputs must be finite (found NaN or infinity)")

        labels = np.asarray(self.labels)
        if labels.ndim != 1:
            raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
        integer_labels = labels.dtype != np.bool_ and np.issubdtype(labels.dtype, np.integer)
        if labels.size and not integer_labels:
            raise TypeError(f"labels must hold integers, got dtype {labels.dtype}")
        if labels.shape[0] != inputs.shape[0]:
            raise ValueError(
                f"inputs and labels must have the same length, got {inputs.shape[0]} inputs "
                f"and {labels.shape[0]} labels"
            )

        num_classes = _validation.check_integer(self.num_classes, "num_classes", minimum=1)
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"labels must lie in [0, num_classes={num_classes}), got values in "
                f"[{int(labels.min())}, {int(labels.max())}]"
            )
        labels = labels.astype(np.int32, copy=False)

        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")

        channels = inputs.shape[-1]
        mean = _check_statistics(self.mean, "mean")
        std = _check_statistics(self.std, "std")
        for statistic_name, statistic in (("mean", mean), ("std", std)):
            if len(statistic) not in (1, channels):
                raise ValueError(
                    f"{statistic_name} must have 1 or {channels} (channel count) values, "
                    f"got {len(statistic)}"
                )
        if any(value <= 0.0 for value in std):
            raise ValueError(f"std must be > 0 for every channel, got {std}")

        if self.augmentation is not None:
            if self.augmentation not in AUGMENTATIONS:
                raise ValueError(
                    f"augmentation must be None or one of {AUGMENTATIONS}, "
                    f"got {self.augmentation!r}"
                )
            if inputs.ndim != 4:
                raise ValueError(
                    f"augmentation {self.augmentation!r} needs (n, H, W, C) image inputs, "
                    f"got shape {inputs.shape}"
                )

        object.__setattr__(self, "inputs", _validation.read_only(inputs))
        object.__setattr__(self, "labels", _validation.read_only(labels))
        object.__setattr__(self, "num_classes", num_classes)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example, `inputs.shape[1:]`."""
        return tuple(self.inputs.shape[1:])

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, size={len(self)}, input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, augmentation={self.augmentation!r})"
        )

    def subset(self, indices: Any) -> Dataset:
        """Returns the rows at `indices` (in the given order) with the same metadata.

        Args:
          indices: 1-D integer array-like of positions in [0, len(self)). Repeats are allowed
            (e.g. a bootstrap sample); booleans, floats and negative positions are rejected.

        Returns:
          A new `Dataset` holding copies of the selected rows.
        """
        positions = _validation.check_indices(indices, len(self), "indices", allow_duplicates=True)
        return dataclasses.replace(
            self, inputs=self.inputs[positions], labels=self.labels[positions]
        )

    def fingerprint(self) -> str:
        """A short hex digest that identifies the data, used to match saved splits to a dataset.

        The sha256 covers the input shape, `num_classes`, every label, and the exact float32 bytes
        of up to 256 evenly spaced input rows (always including the first and the last). The
        name and the recorded statistics are not hashed; a change of normalisation changes the
        sampled rows and hence the fingerprint.

        Returns:
          The first 16 hex characters of the digest.
        """
        digest = hashlib.sha256()
        digest.update(repr((tuple(self.inputs.shape), self.num_classes)).encode())
        digest.update(np.ascontiguousarray(self.labels, dtype="<i4").tobytes())
        if len(self):
            count = min(len(self), _FINGERPRINT_ROWS)
            rows = np.unique(np.linspace(0, len(self) - 1, count).astype(np.int64))
            digest.update(np.ascontiguousarray(self.inputs[rows], dtype="<f4").tobytes())
        return digest.hexdigest()[:16]

