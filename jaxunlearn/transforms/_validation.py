"""Checks of transform hyperparameters at construction time.

Values that are traced (under ``optax.inject_hyperparams`` or ``jit``) cannot be inspected and are
passed through; concrete ones must be finite and within range, else a ``ValueError`` names them.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np


def is_concrete(value: Any) -> bool:
    return not isinstance(value, jax.core.Tracer) and not callable(value)


def check_number(
    value: Any, name: str, *, minimum: float | None = None, strict: bool = False,
    maximum: float | None = None,
) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is finite and within the bounds."""
    if not is_concrete(value):
        return
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or array.ndim != 0:
        raise ValueError(f"{name} must be a real scalar, got {value!r}")
    number = float(array)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if minimum is not None and (number <= minimum if strict else number < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {number}")
