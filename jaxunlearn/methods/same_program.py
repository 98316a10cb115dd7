"""Whether M Optax chains run the same update program (used by
:func:`jaxunlearn.methods.unlearn_many`).

``unlearn_many`` builds each model's chain as :func:`~jaxunlearn.methods.unlearn` does, initialises
each model's optimizer state with that model's own ``init``, stacks the states and ``jax.vmap``-s
one ``update`` (the first model's) over them. That is exact only when every model's ``update`` is
the same Python program: per-model values (SalUn's saliency mask, a transform's PRNG key) must
live in the state, set by ``init``, and never in the update's closure.

:func:`same_update` checks that without tracing: two functions are the same program when they
share their code and their closures, defaults and bound objects hold equal values, compared
recursively (functions as functions, arrays element-wise, containers and dataclasses item by
item, anything else by identity or ``==``). It may answer ``False`` for two chains that would
compute the same (``unlearn_many`` then runs the models one by one), never ``True`` for two whose
closed-over values differ.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from typing import Any

import jax
import numpy as np
import optax

_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def same_update(first: optax.GradientTransformation,
                second: optax.GradientTransformation) -> bool:
    """Whether ``first.update`` and ``second.update`` are the same program with equal closed-over
    values (their ``init`` functions may differ: that is where per-model values belong).

    Raises:
      TypeError: ``first`` or ``second`` is not an ``optax.GradientTransformation``.
    """
    for name, value in (("first", first), ("second", second)):
        if not isinstance(value, optax.GradientTransformation):
            raise TypeError(f"{name}: expected an optax.GradientTransformation, got "
                            f"{type(value).__name__}")
    return _same(first.update, second.update, {})


def _same(first: Any, second: Any, seen: dict) -> bool:
    """Structural equality of two Python values as :func:`same_update` defines it; ``seen``
    holds the pairs under comparison (kept alive, so that their ids stay theirs)."""
    if first is second:
        return True
    if type(first) is not type(second):
        return False
    pair = (id(first), id(second))
    if pair in seen:  # a cycle (a closure that refers to itself): equal unless shown otherwise
        return True
    seen[pair] = (first, second)
    if isinstance(first, optax.GradientTransformation):
        # only the update runs in the step (optax.with_extra_args_support closes over the
        # whole transform to call its update)
        return _same(first.update, second.update, seen)
    if isinstance(first, types.FunctionType):
        cells = [tuple(cell.cell_contents for cell in function.__closure__ or ())
                 for function in (first, second)]
        return (first.__code__ == second.__code__
                and first.__globals__ is second.__globals__
                and _same(first.__defaults__, second.__defaults__, seen)
                and _same(first.__kwdefaults__, second.__kwdefaults__, seen)
                and _same(cells[0], cells[1], seen))
    if isinstance(first, types.MethodType):
        return (_same(first.__func__, second.__func__, seen)
                and _same(first.__self__, second.__self__, seen))
    if isinstance(first, functools.partial):
        return (_same(first.func, second.func, seen) and _same(first.args, second.args, seen)
                and _same(first.keywords, second.keywords, seen))
    if isinstance(first, (tuple, list)):
        return len(first) == len(second) and all(
            _same(a, b, seen) for a, b in zip(first, second))
    if isinstance(first, dict):
        return list(first) == list(second) and all(
            _same(first[key], second[key], seen) for key in first)
    if isinstance(first, (np.ndarray, np.generic, jax.Array)):
        return _same_array(first, second)
    if isinstance(first, _SCALARS):
        return first == second
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        return all(_same(getattr(first, field.name), getattr(second, field.name), seen)
                   for field in dataclasses.fields(first))
    try:
        return bool(first == second)
    except Exception:  # an object whose == is not a truth value: not known to be equal
        return False


def _same_array(first: Any, second: Any) -> bool:
    if np.shape(first) != np.shape(second) or first.dtype != second.dtype:
        return False
    try:
        if jax.dtypes.issubdtype(first.dtype, jax.dtypes.prng_key):
            first, second = jax.random.key_data(first), jax.random.key_data(second)
        return bool(np.array_equal(np.asarray(first), np.asarray(second)))
    except jax.errors.JAXTypeError:  # a tracer: its value is not known here
        return False
