"""Checks of transform hyperparameters at construction time.

Values that are traced (under ``optax.inject_hyperparams`` or ``jit``) cannot be inspected and are
passed through; concrete ones must be finite and within range, else a ``ValueError`` names them.
"""

from __future__ import annotations

from typing import Any

import jax

from jaxunlearn._numbers import check_real


def is_concrete(value: Any) -> bool:
    return not isinstance(value, jax.core.Tracer) and not callable(value)


def check_number(
    value: Any, name: str, *, minimum: float | None = None, strict: bool = False,
    maximum: float | None = None,
) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is finite and within the bounds."""
    if is_concrete(value):
        check_real(value, name, minimum=minimum, strict=strict, maximum=maximum)
