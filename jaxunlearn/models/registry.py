"""Models by name, so configs and the command line can pick an architecture with a string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from jaxunlearn.models.autoencoder import ConvAutoencoder, MaskedAutoencoder
from jaxunlearn.models.logistic_regression import LogisticRegression
from jaxunlearn.models.mlp import MLP
from jaxunlearn.models.resnet import ResNet18, ResNet18NoBN
from jaxunlearn.models.small_cnn import SmallCNN
from jaxunlearn.models.vgg import VGG16BN

ModuleType = TypeVar("ModuleType", bound=type[nn.Module])

MODELS: dict[str, type[nn.Module]] = {}
"""Registered model classes by name; each takes ``num_classes``, ``dtype`` and ``param_dtype``."""

COMPUTE_DTYPES: dict[str, Any] = {
    "float32": jnp.float32,
    "bfloat16": jnp.bfloat16,
    "float16": jnp.float16,
}
"""Computation dtypes a model can be built with, by name."""


def register_model(name: str) -> Callable[[ModuleType], ModuleType]:
    """Class decorator adding a Flax Linen module to :data:`MODELS` under ``name``.

    The module must take ``num_classes``, ``dtype`` and ``param_dtype`` fields and be called as
    ``module(x, train=...)``, returning logits of shape ``(n, num_classes)``.

    Example::

        @register_model("tiny_mlp")
        class TinyMLP(nn.Module):
            num_classes: int
            dtype: Any = jnp.float32
            param_dtype: Any = jnp.float32
            ...

    Raises:
        ValueError: if ``name`` is empty or already registered.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string, got {name!r}")
    if name in MODELS:
        raise ValueError(f"`name` {name!r} is already registered to {MODELS[name].__name__}")

    def decorator(module_class: ModuleType) -> ModuleType:
        if not (isinstance(module_class, type) and issubclass(module_class, nn.Module)):
            raise TypeError(f"register_model({name!r}) expects a flax.linen.Module subclass")
        MODELS[name] = module_class
        return module_class

    return decorator


def resolve_dtype(dtype: Any) -> Any:
    """Returns the JAX dtype for ``dtype``: a name in :data:`COMPUTE_DTYPES` or such a dtype.

    Raises:
        ValueError: naming ``dtype`` when it is not float32, bfloat16 or float16.
    """
    if isinstance(dtype, str):
        if dtype not in COMPUTE_DTYPES:
            raise ValueError(
                f"`dtype` must be one of {sorted(COMPUTE_DTYPES)} or a matching JAX dtype, "
                f"got {dtype!r}"
            )
        return COMPUTE_DTYPES[dtype]
    try:
        requested = np.dtype(dtype)
    except (TypeError, ValueError):
        requested = None
    for supported in COMPUTE_DTYPES.values():
        if requested is not None and requested == np.dtype(supported):
            return supported
    raise ValueError(
        f"`dtype` must be one of {sorted(COMPUTE_DTYPES)} or a matching JAX dtype, got {dtype!r}"
    )


def get_model(name: str, num_classes: int, *, dtype: Any = "float32", **kwargs: Any) -> nn.Module:
    """Builds the registered model ``name``.

    Args:
        name: a key of :data:`MODELS`, e.g. ``"resnet18"``.
        num_classes: number of output logits, at least 2.
        dtype: computation dtype, ``"float32"``, ``"bfloat16"``, ``"float16"`` or the matching
            JAX dtype. Parameters stay float32 (mixed precision); logits are always float32.
        **kwargs: further fields of the model, e.g. ``hidden_sizes=(64,)`` for ``"mlp"``.

    Returns:
        An unbound Flax Linen module; see :func:`jaxunlearn.models.from_linen` for pure functions.

    Raises:
        ValueError: for an unknown ``name`` (the message lists the registered names), a
            ``num_classes`` below 2, or an unsupported ``dtype``.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model `name` {name!r}; registered models: {sorted(MODELS)}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"`num_classes` must be an integer, got {num_classes!r}")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2, got {num_classes}")
    compute_dtype = resolve_dtype(dtype)
    return MODELS[name](num_classes=int(num_classes), dtype=compute_dtype, **kwargs)


register_model("mlp")(MLP)
register_model("small_cnn")(SmallCNN)
register_model("resnet18")(ResNet18)
register_model("resnet18_nobn")(ResNet18NoBN)
register_model("vgg16_bn")(VGG16BN)
register_model("logistic_regression")(LogisticRegression)
register_model("conv_autoencoder")(ConvAutoencoder)
register_model("masked_autoencoder")(MaskedAutoencoder)
