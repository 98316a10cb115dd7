"""Argument checks and ℓ2 geometry shared by the input attacks.

Checks run in Python before anything is compiled. Values that are traced (the attack called
inside a user's ``jax.jit``) cannot be inspected and are passed through; concrete ones must be
finite and within range, else a ``ValueError`` names the argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.scipy.special import ndtr

Bounds = tuple[Any, Any]
"""``(lower, upper)`` on input values, each a scalar or an array broadcastable to one example."""


def _is_concrete(value: Any) -> bool:
    return not isinstance(value, jax.core.Tracer)


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as a Python int, or a ``ValueError`` naming ``name`` unless it is an int >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive integer (>= 1), got {value}")
    return int(value)


def check_scalar(value: Any, name: str, *, greater_than: float) -> None:
    """``ValueError`` naming ``name`` unless ``value`` is a real scalar, finite and above
    ``greater_than``."""
    if not _is_concrete(value):
        return
    array = np.asarray(value)
    if array.ndim != 0 or array.dtype.kind not in "iuf" or array.dtype == np.bool_:
        raise ValueError(f"`{name}` must be a real scalar, got {value!r}")
    number = float(array)
    if not math.isfinite(number) or number <= greater_than:
        raise ValueError(f"`{name}` must be finite and > {greater_than}, got {number}")


def check_radius(value: Any, name: str, num_examples: int) -> None:
    """``ValueError`` naming ``name`` unless ``value`` is positive and finite, of shape () or (n,)."""
    shape = np.shape(value)
    if shape not in ((), (num_examples,)):
        raise ValueError(
            f"`{name}` must be a scalar or have shape ({num_examples},) (one per example), "
            f"got shape {shape}"
        )
    if not _is_concrete(value):
        return
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or array.dtype == np.bool_:
        raise ValueError(f"`{name}` must be real, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)) or not np.all(array > 0):
        raise ValueError(f"`{name}` must be positive and finite, got {value!r}")


def check_examples(inputs: Any, labels: Any) -> None:
    """``inputs`` (n, ...) floating and ``labels`` (n,) integer, else a ``ValueError`` naming
    the one at fault."""
    input_shape, label_shape = np.shape(inputs), np.shape(labels)
    if len(input_shape) < 2:
        raise ValueError(
            f"`inputs` must have a leading batch axis and at least one feature axis, "
            f"got shape {input_shape}"
        )
    if not jnp.issubdtype(jnp.result_type(inputs), jnp.floating):
        raise ValueError(f"`inputs` must be floating point, got dtype {jnp.result_type(inputs)}")
    if input_shape[0] < 1:
        raise ValueError("`inputs` must hold at least one example")
    if len(label_shape) != 1 or label_shape[0] != input_shape[0]:
        raise ValueError(
            f"`labels` must have shape ({input_shape[0]},) to match `inputs` of shape "
            f"{input_shape}, got shape {label_shape}"
        )
    if not jnp.issubdtype(jnp.result_type(labels), jnp.integer):
        raise ValueError(
            f"`labels` must be integer class indices, got dtype {jnp.result_type(labels)}"
        )


def check_bounds(input_bounds: Any, example_shape: tuple[int, ...]) -> None:
    """``input_bounds`` is None or ``(lower, upper)``, each broadcastable to one example, with
    lower <= upper, else a ``ValueError`` naming it."""
    if input_bounds is None:
        return
    if not isinstance(input_bounds, (tuple, list)) or len(input_bounds) != 2:
        raise ValueError(
            f"`input_bounds` must be None or a pair (lower, upper), got {input_bounds!r}"
        )
    lower, upper = input_bounds
    for bound in (lower, upper):
        try:
            np.broadcast_shapes(np.shape(bound), example_shape)
        except ValueError:
            raise ValueError(
                f"`input_bounds` entries must broadcast to one example of shape {example_shape}, "
                f"got shape {np.shape(bound)}"
            ) from None
    if _is_concrete(lower) and _is_concrete(upper):
        lower_array, upper_array = np.asarray(lower), np.asarray(upper)
        if np.any(np.isnan(lower_array)) or np.any(np.isnan(upper_array)):
            raise ValueError("`input_bounds` must not contain NaN")
        if np.any(lower_array > upper_array):
            raise ValueError("`input_bounds` must have lower <= upper everywhere")


def per_example_norm(values: jax.Array) -> jax.Array:
    """ℓ2 norm over all axes but the first: shape (n,)."""
    flat = values.reshape(values.shape[0], -1).astype(jnp.float32)
    return jnp.sqrt(jnp.sum(jnp.square(flat), axis=1))


def per_example(scale: jax.Array, like: jax.Array) -> jax.Array:
    """Reshapes a (n,) vector to broadcast against ``like`` of shape (n, ...)."""
    return scale.reshape(scale.shape + (1,) * (like.ndim - 1))


def project_l2_ball(delta: jax.Array, radius: jax.Array) -> jax.Array:
    """Euclidean projection of each example's ``delta`` onto the ball of its ``radius`` (n,)."""
    norm = per_example_norm(delta)
    factor = jnp.minimum(1.0, radius / jnp.maximum(norm, jnp.finfo(jnp.float32).tiny))
    return delta * per_example(factor, delta).astype(delta.dtype)


def unit_direction(values: jax.Array) -> jax.Array:
    """Each example divided by its ℓ2 norm; an all-zero example stays zero (no step)."""
    norm = per_example_norm(values)
    safe = jnp.where(norm > 0, norm, 1.0)
    return values / per_example(safe, values).astype(values.dtype)


def clip_to_bounds(values: jax.Array, input_bounds: Bounds | None) -> jax.Array:
    if input_bounds is None:
        return values
    lower, upper = input_bounds
    return jnp.clip(values, jnp.asarray(lower, values.dtype), jnp.asarray(upper, values.dtype))


def predict(apply_fn: Callable[..., Any], variables: Any, inputs: jax.Array) -> jax.Array:
    """Arg-max class of the model in eval mode: shape (n,), int32."""
    logits, _ = apply_fn(variables, inputs, train=False)
    return jnp.argmax(logits, axis=-1).astype(jnp.int32)


def summed_cross_entropy(
    inputs: jax.Array, apply_fn: Callable[..., Any], variables: Any, labels: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Σ_i CE(f(x_i), y_i) in eval mode, and the logits.

    In eval mode each example's logits depend only on that example, so the gradient of the sum
    with respect to ``inputs`` holds every per-example input gradient, from one backward pass.
    """
    logits, _ = apply_fn(variables, inputs, train=False)
    losses = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels)
    return jnp.sum(losses), logits


def random_point_in_ball(
    key: jax.Array, example_index: jax.Array, radius: jax.Array, example_shape: tuple[int, ...]
) -> jax.Array:
    """A uniform draw from each example's ℓ2 ball of ``radius``, shape (n, *example_shape).

    Each example's draw depends only on ``key`` and its ``example_index`` (through
    ``jax.random.fold_in``), so it does not change with the batch the example is processed in.
    From d + 1 standard normals g: direction g[:d] / ‖g[:d]‖ and length ``radius · U^(1/d)``
    with U = Φ(g[d]) uniform on (0, 1), d the input dimension.
    """
    dimension = math.prod(example_shape)

    def draw(index: jax.Array) -> jax.Array:
        # One draw per example: a single random-bits call keeps the compiled program small.
        return jax.random.normal(jax.random.fold_in(key, index), (dimension + 1,), jnp.float32)

    normals = jax.vmap(draw)(example_index)
    directions = unit_direction(normals[:, :dimension])
    uniforms = ndtr(normals[:, dimension])
    lengths = radius * uniforms ** (1.0 / dimension)
    return (directions * lengths[:, None]).reshape((-1,) + tuple(example_shape))
