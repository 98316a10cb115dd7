"""The arguments of :func:`jaxunlearn.transforms.clip_spectral_norm` (FastClip): the checks of
its hyperparameters, and the lookup and replacement of the listed layers' leaves in pytrees.

FastClip is Ebrahimpour Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for
Implicitly Linear Layers", AISTATS 2024 (arXiv:2402.16017), code ``Ali-E/FastClip``. Layers are
named by their path in ``params`` (``"Block_0/Conv_0"`` or ``("Block_0", "Conv_0")``), holding a
``kernel`` (dense and convolution layers) or a ``scale`` (batch norms, whose running ``var`` lies
at the same path in ``batch_stats``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

from jaxunlearn.spectral.linear_map import LayerSpec


_KERNEL = "kernel"
BATCH_NORM_MODES = ("leave", "clamp")
"""What :func:`clip_spectral_norm` does to batch-norm scales: leave them, or clamp them."""


def _path_name(path: str | tuple[str, ...]) -> str:
    return path if isinstance(path, str) else "/".join(path)


def _kernel_at(tree: Any, name: str) -> Any:
    node = tree
    for part in [part for part in name.split("/") if part] + [_KERNEL]:
        try:
            node = node[part]
        except (KeyError, TypeError, IndexError):
            raise ValueError(
                f"layers names {name!r}, but there is no kernel at {name}/kernel"
            ) from None
    return node


def _replace_kernels(tree: Any, kernels: Mapping[str, jax.Array]) -> Any:
    def replace(path, leaf):
        keys = [getattr(entry, "key", None) for entry in path]
        if keys and keys[-1] == _KERNEL and all(isinstance(k, str) for k in keys):
            return kernels.get("/".join(keys[:-1]), leaf)
        return leaf

    return jax.tree_util.tree_map_with_path(replace, tree)


def _leaf_at(tree: Any, name: str, leaf: str, what: str) -> Any:
    node = tree
    for part in [part for part in name.split("/") if part] + [leaf]:
        try:
            node = node[part]
        except (KeyError, TypeError, IndexError):
            raise ValueError(f"batch_norms names {name!r}, but there is no {what} at "
                             f"{name}/{leaf}") from None
    return node


def _replace_leaves(tree: Any, leaf_name: str, values: Mapping[str, jax.Array]) -> Any:
    def replace(path, leaf):
        keys = [getattr(entry, "key", None) for entry in path]
        if keys and keys[-1] == leaf_name and all(isinstance(k, str) for k in keys):
            return values.get("/".join(keys[:-1]), leaf)
        return leaf

    return jax.tree_util.tree_map_with_path(replace, tree)


def _concrete_bool(value: Any) -> bool | None:
    """``bool(value)``, or ``None`` for a traced value (inject_hyperparams under jit)."""
    try:
        return bool(value)
    except (TypeError, jax.errors.ConcretizationTypeError):
        return None


def _check_flag(value: Any, name: str) -> None:
    if isinstance(value, bool):
        return
    dtype = getattr(value, "dtype", None)
    if dtype is None or jnp.ndim(value) != 0 or not jnp.issubdtype(dtype, jnp.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def _check_batch_norms(batch_norm: Any, batch_norms: Any) -> dict[str, float]:
    if batch_norm not in BATCH_NORM_MODES:
        raise ValueError(f"batch_norm must be one of {BATCH_NORM_MODES}, got {batch_norm!r}")
    if batch_norm == "leave":
        return {}
    if not isinstance(batch_norms, Mapping) or not batch_norms:
        raise ValueError(
            "batch_norm='clamp' needs batch_norms, a non-empty {path: epsilon} mapping (see "
            f"record_batch_norms), got {batch_norms!r}")
    named = {}
    for path, epsilon in batch_norms.items():
        try:
            number = float(epsilon)
        except (TypeError, ValueError):
            number = float("nan")
        if isinstance(epsilon, bool) or not math.isfinite(number) or number < 0:
            raise ValueError(f"batch_norms[{path!r}] must be a finite epsilon >= 0, got "
                             f"{epsilon!r}")
        named[_path_name(path)] = number
    return dict(sorted(named.items()))


def _check_positive_number(value: Any, name: str) -> None:
    if jnp.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {jnp.shape(value)}")
    try:
        number = float(value)
    except TypeError:  # a traced value (inject_hyperparams under jit): checked where concrete
        return
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {number}")


def _check_count(value: Any, name: str) -> None:
    if isinstance(value, bool) or jnp.ndim(value) != 0:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    try:
        number = float(value)
    except TypeError:
        return
    if number < 1 or number != int(number):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _check_layers(layers: Any) -> dict[str, LayerSpec]:
    if not isinstance(layers, Mapping):
        raise ValueError(f"layers must map layer paths to LayerSpec, got {type(layers).__name__}")
    named = {}
    for path, spec in layers.items():
        if not isinstance(spec, LayerSpec):
            raise ValueError(f"layers[{path!r}] must be a LayerSpec, got {type(spec).__name__}")
        named[_path_name(path)] = spec
    return dict(sorted(named.items()))
