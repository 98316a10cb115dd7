"""The check of one real hyperparameter, in NumPy: shared by the certificates
(:mod:`jaxunlearn.certify`, which must not import JAX) and the transforms (which skip traced
values first)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_real(value: Any, name: str, *, minimum: float | None = None, strict: bool = False,
               maximum: float | None = None, maximum_strict: bool = False) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything that is not array-like is not a number either
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if array.ndim != 0 or array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real scalar, got {value!r}")
    number = float(array)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if minimum is not None and (number <= minimum if strict else number < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {number}")
    if maximum is not None and (number >= maximum if maximum_strict else number > maximum):
        raise ValueError(
            f"{name} must be {'<' if maximum_strict else '<='} {maximum}, got {number}")
    return number
