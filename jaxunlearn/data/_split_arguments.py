"""Validation of the `make_splits` request, done in full before any data is drawn.

Each function names the offending argument in its error: `TypeError` for a wrong type,
`ValueError` for an unusable value.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from jaxunlearn.data import _validation
from jaxunlearn.data.dataset import Dataset


@dataclasses.dataclass(frozen=True)
class ForgetRequest:
    """A checked forget request: its kind, its JSON-able parameters, and what it needs to draw."""

    kind: str  # "fraction", "classes" or "indices"
    spec: dict[str, Any]
    count: int  # number of examples to forget
    indices: np.ndarray | None = None  # sorted, for "classes" and "indices"


@dataclasses.dataclass(frozen=True)
class PublicRequest:
    """A checked public-set request."""

    size: int
    from_test: bool
    class_skew: float
    corruption: float
    spec: dict[str, Any]


def check_dataset(value: Any, name: str) -> Dataset:
    if not isinstance(value, Dataset):
        raise TypeError(f"{name} must be a Dataset, got {type(value).__name__}")
    return value


def check_compatible(train: Dataset, other: Dataset, name: str) -> None:
    """`other` must describe the same task as `train`: input shape and class count."""
    if other.input_shape != train.input_shape:
        raise ValueError(
            f"{name} input shape {other.input_shape} differs from train's {train.input_shape}"
        )
    if other.num_classes != train.num_classes:
        raise ValueError(
            f"{name} has {other.num_classes} classes, train has {train.num_classes}"
        )


def _check_classes(forget_classes: Any, train: Dataset) -> np.ndarray:
    if isinstance(forget_classes, numbers.Integral) and not isinstance(forget_classes, bool):
        forget_classes = [forget_classes]
    if isinstance(forget_classes, (str, bytes, float)) or not isinstance(
        forget_classes, (Iterable, np.ndarray)
    ):
        raise TypeError(
            f"forget_classes must be an int or a sequence of ints, got "
            f"{type(forget_classes).__name__}"
        )
    values = list(forget_classes)
    if not values:
        raise ValueError("forget_classes must name at least one class (forget set would be empty)")
    classes = [_validation.check_integer(value, "forget_classes") for value in values]
    outside = [value for value in classes if not 0 <= value < train.num_classes]
    if outside:
        raise ValueError(
            f"forget_classes {outside} are not classes of train (valid: 0..{train.num_classes - 1})"
        )
    if len(set(classes)) != len(classes):
        raise ValueError(f"forget_classes contains duplicate classes: {classes}")
    present = set(np.unique(train.labels).tolist())
    absent = [value for value in classes if value not in present]
    if absent:
        raise ValueError(f"forget_classes {absent} have no examples in train (forget set empty)")
    return np.asarray(sorted(classes), dtype=np.int64)


def check_forget_request(
    train: Dataset, forget_fraction: Any, forget_classes: Any, forget_indices: Any
) -> ForgetRequest:
    """Checks that exactly one forget argument is given and that it leaves both sets non-empty."""
    given = [
        name
        for name, value in (
            ("forget_fraction", forget_fraction),
            ("forget_classes", forget_classes),
            ("forget_indices", forget_indices),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise ValueError(
            "exactly one of forget_fraction, forget_classes, forget_indices must be given, "
            f"got {given or 'none'}"
        )
    size = len(train)
    if forget_fraction is not None:
        fraction = _validation.check_open_fraction(forget_fraction, "forget_fraction")
        count = round(fraction * size)
        if count < 1:
            raise ValueError(
                f"forget_fraction {fraction} of {size} examples rounds to 0 (forget set empty)"
            )
        if count >= size:
            raise ValueError(
                f"forget_fraction {fraction} of {size} examples rounds to all of them "
                "(retain set would be empty)"
            )
        return ForgetRequest("fraction", {"forget_fraction": fraction}, count)
    if forget_classes is not None:
        classes = _check_classes(forget_classes, train)
        indices = np.flatnonzero(np.isin(train.labels, classes)).astype(np.int64)
        if indices.size == size:
            raise ValueError(
                f"forget_classes {classes.tolist()} cover every train example "
                "(retain set would be empty)"
            )
        spec = {"forget_classes": classes.tolist()}
        return ForgetRequest("classes", spec, int(indices.size), indices)
    indices = _validation.check_indices(forget_indices, size, "forget_indices")
    if indices.size == 0:
        raise ValueError("forget_indices is empty (forget set would be empty)")
    if indices.size == size:
        raise ValueError("forget_indices covers every train example (retain set would be empty)")
    indices = np.sort(indices)
    spec = {"forget_indices": indices.tolist()}
    return ForgetRequest("indices", spec, int(indices.size), indices)


def check_public_request(
    test: Dataset,
    public_source: Dataset | None,
    public_fraction: Any,
    public_size: Any,
    public_class_skew: Any,
    public_corruption: Any,
) -> PublicRequest | None:
    """Checks the public-set arguments; returns None when no public set is requested."""
    class_skew = _validation.check_non_negative(public_class_skew, "public_class_skew")
    corruption = _validation.check_non_negative(public_corruption, "public_corruption")
    if public_fraction is not None and public_size is not None:
        raise ValueError("give at most one of public_fraction and public_size, got both")
    if public_fraction is None and public_size is None:
        for name, unused in (
            ("public_class_skew", class_skew != 0.0),
            ("public_corruption", corruption != 0.0),
            ("public_source", public_source is not None),
        ):
            if unused:
                raise ValueError(f"{name} needs public_fraction or public_size to be given")
        return None

    from_test = public_source is None
    pool = test if from_test else public_source
    pool_name = "the test set" if from_test else "public_source"
    if public_fraction is not None:
        fraction = _validation.check_open_fraction(public_fraction, "public_fraction")
        argument, size = "public_fraction", round(fraction * len(pool))
        if size < 1:
            raise ValueError(
                f"public_fraction {fraction} of {len(pool)} examples rounds to 0 (public set empty)"
            )
    else:
        fraction = None
        argument = "public_size"
        size = _validation.check_integer(public_size, "public_size", minimum=1)
        if size > len(pool):
            raise ValueError(
                f"public_size {size} is larger than {pool_name} ({len(pool)} examples)"
            )
    if from_test and size >= len(pool):
        raise ValueError(
            f"{argument} takes all {len(pool)} test examples for the public set "
            "(test set would be empty); pass public_source or ask for fewer"
        )
    spec = {
        "fraction": fraction,
        "size": size,
        "class_skew": class_skew,
        "corruption": corruption,
        "source": "test" if from_test else "public_source",
    }
    return PublicRequest(size, from_test, class_skew, corruption, spec)
