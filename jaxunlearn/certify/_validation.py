"""Checks of certificate arguments (NumPy only).

Every public certificate function checks its numbers here before computing: each must be a finite
real within range, else a ``ValueError`` names the argument. Unlike ``transforms._validation``
nothing here is traced, so nothing is passed through unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jaxunlearn._numbers import check_real  # noqa: F401  (re-exported)


def check_int(value: Any, name: str, *, minimum: int | None = 0,
              maximum: int | None = None) -> int:
    """Return ``value`` as an int (integral floats accepted), or raise naming ``name``."""
    number = check_real(value, name)
    if not number.is_integer():
        raise ValueError(f"{name} must be an integer, got {value!r}")
    integer = int(number)
    if minimum is not None and integer < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {integer}")
    if maximum is not None and integer > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {integer}")
    return integer


def check_alpha(alpha: Any, name: str = "alpha") -> float | np.ndarray:
    """Rényi order(s): a finite float or array, every entry > 1."""
    if isinstance(alpha, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number > 1, got {alpha!r}")
    array = np.asarray(alpha, dtype=np.float64) if _is_numeric(alpha) else None
    if array is None:
        raise ValueError(f"{name} must be a real number or array of reals, got {alpha!r}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {alpha!r}")
    if np.any(array <= 1.0):
        raise ValueError(f"{name} must be > 1 (Rényi orders), got {alpha!r}")
    return float(array) if array.ndim == 0 else array


def check_alpha_range(alpha_range: Any, name: str = "alpha_range") -> tuple[float, float]:
    """A pair ``(lo, hi)`` of finite orders with 1 < lo < hi."""
    if not isinstance(alpha_range, Sequence) or len(alpha_range) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi), got {alpha_range!r}")
    low = check_real(alpha_range[0], f"{name}[0]", minimum=1.0, strict=True)
    high = check_real(alpha_range[1], f"{name}[1]", minimum=1.0, strict=True)
    if not low < high:
        raise ValueError(f"{name} must satisfy lo < hi, got {alpha_range!r}")
    return low, high


def check_delta(delta: Any, name: str = "delta") -> float:
    return check_real(delta, name, minimum=0.0, strict=True, maximum=1.0, maximum_strict=True)


def check_method(method: Any) -> str:
    if method not in ("mironov", "improved"):
        raise ValueError(f"method must be 'mironov' or 'improved', got {method!r}")
    return method


def check_int_sequence(values: Any, name: str, *, minimum: int = 0) -> list[int]:
    """A non-empty sequence of integers >= ``minimum``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ValueError(f"{name} must be a non-empty sequence of integers, got {values!r}")
    if len(values) == 0:
        raise ValueError(f"{name} must be non-empty")
    return [check_int(v, f"{name}[{i}]", minimum=minimum) for i, v in enumerate(values)]


def _is_numeric(value: Any) -> bool:
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001
        return False
    return array.dtype.kind in "iuf"
