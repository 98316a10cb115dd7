"""Argument checks shared by the data modules.

Every check names the offending argument in its message, raises `TypeError` when the value has
the wrong type and `ValueError` when it has the right type but an unusable value.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def check_integer(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Returns `value` as a Python int, rejecting bools, floats and values below `minimum`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_real(value: Any, name: str) -> float:
    """Returns `value` as a finite Python float; bools and non-numbers are a `TypeError`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_open_fraction(value: Any, name: str) -> float:
    """Returns `value` as a float strictly between 0 and 1."""
    value = check_real(value, name)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return value


def check_non_negative(value: Any, name: str) -> float:
    """Returns `value` as a finite float >= 0."""
    value = check_real(value, name)
    if value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_indices(
    indices: Any, size: int, name: str, *, allow_duplicates: bool = False
) -> np.ndarray:
    """Validates positions into a sequence of length `size` and returns them as int64.

    Args:
      indices: a 1-D array-like of integers. Booleans and floats (even integral ones) are rejected
        so that a mask or a float array is never silently reinterpreted as positions.
      size: the length of the indexed sequence; valid indices lie in [0, size).
      name: the argument name used in error messages.
      allow_duplicates: whether an index may appear more than once.

    Returns:
      A new int64 array with the indices in their given order.
    """
    if isinstance(indices, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array of integers, got {type(indices).__name__}")
    array = np.asarray(indices)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {array.shape}")
    if array.size == 0:
        return np.zeros((0,), dtype=np.int64)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        hint = " (use np.flatnonzero(mask) for a boolean mask)" if array.dtype == np.bool_ else ""
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}{hint}")
    if array.min() < 0:
        raise ValueError(f"{name} must be non-negative, got {int(array.min())}")
    if array.max() >= size:
        raise ValueError(
            f"{name} must be < {size} (the number of examples), got {int(array.max())}"
        )
    array = array.astype(np.int64)
    if not allow_duplicates and np.unique(array).size != array.size:
        values, counts = np.unique(array, return_counts=True)
        repeated = values[counts > 1][:5].tolist()
        raise ValueError(f"{name} contains duplicate indices, e.g. {repeated}")
    return array


def read_only(array: np.ndarray) -> np.ndarray:
    """Returns a read-only view of `array` without touching the caller's own array flags."""
    view = array.view()
    view.flags.writeable = False
    return view
