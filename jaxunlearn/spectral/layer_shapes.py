"""The linear map of a dense or convolution layer: the input shapes that define it, the map
itself, and its top singular values by power iteration through autodiff.

A convolution is a linear map on the whole input image, so its operator norm depends on the
input's spatial size, padding, strides and dilations, not on the kernel alone (Ebrahimpour
Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for Implicitly Linear Layers",
AISTATS 2024, arXiv:2402.16017). :class:`LayerSpec` records what fixes that map,
:func:`apply_linear` evaluates it, :func:`record_layer_shapes` fills the specs from one traced call
of a Flax Linen model, and :func:`spectral_norm` measures ``sigma_1`` with the paper's PowerQR
(block power iteration ``V <- orth(A^T A V)``, the adjoint ``A^T`` being the transpose of the
forward pass). Biases are not part of the map: a layer ``x -> A_W x + b`` has the Lipschitz
constant of ``A_W``.

:class:`LayerSpec`, :func:`apply_linear` and :func:`output_shape` are defined in
:mod:`jaxunlearn.spectral.linear_map`, and :func:`spectral_norm` with its PowerQR steps
(:func:`power_iterations`, :func:`rayleigh_ritz`, :func:`orthonormalize_rows`) in
:mod:`jaxunlearn.spectral.power_qr`; this module records the specs from a Flax model and
re-exports them all.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax

from jaxunlearn.spectral.arguments import _check_layers, _kernel_at
from jaxunlearn.spectral.linear_map import (
    CONV,
    DENSE,
    PADDING_NAMES,
    LayerSpec,
    apply_linear,
    output_shape,
)
from jaxunlearn.spectral.power_qr import (
    orthonormalize_rows,
    power_iterations,
    rayleigh_ritz,
    spectral_norm,
)

__all__ = [
    "CONV",
    "DENSE",
    "PADDING_NAMES",
    "LayerSpec",
    "apply_linear",
    "layer_spectral_norms",
    "orthonormalize_rows",
    "output_shape",
    "power_iterations",
    "rayleigh_ritz",
    "record_batch_norms",
    "record_layer_shapes",
    "spectral_norm",
]


def layer_spec(layer: nn.Module, input_shape: tuple[int, ...]) -> LayerSpec:
    """The :class:`LayerSpec` of a Flax ``nn.Dense`` or ``nn.Conv`` called on inputs of
    ``input_shape`` (its strides, padding and dilations in canonical form)."""
    if isinstance(layer, nn.Dense):
        return LayerSpec.dense(input_shape[-1])
    kernel_size = layer.kernel_size
    rank = 1 if isinstance(kernel_size, int) else len(kernel_size)
    return LayerSpec.conv(
        (1,) + tuple(input_shape[-(rank + 1):]),
        strides=layer.strides,
        padding=layer.padding,
        input_dilation=layer.input_dilation,
        kernel_dilation=layer.kernel_dilation,
        feature_group_count=layer.feature_group_count,
    )


def record_layer_shapes(
    module: nn.Module, variables: Any, *args: Any, **kwargs: Any
) -> dict[str, LayerSpec]:
    """Records the :class:`LayerSpec` of every ``nn.Dense`` and ``nn.Conv`` a model calls.

    Runs ``module.apply(variables, *args, **kwargs)`` once under ``jax.eval_shape`` (no FLOPs)
    with Flax method interception, and for each call of a ``flax.linen.Dense`` or
    ``flax.linen.Conv`` reads its input shape (batch set to 1) and convolution attributes.
    Convolutions with a ``mask``, ``ConvLocal``, ``ConvTranspose`` and ``DenseGeneral`` are not
    recorded.

    Args:
      module: a Flax Linen module.
      variables: its variables (arrays or ``jax.ShapeDtypeStruct``s), e.g. ``{"params": ...}``.
      *args: the inputs of one call (arrays or ``jax.ShapeDtypeStruct``s; any batch size).
      **kwargs: further keyword arguments of ``module.apply`` (``train=False``,
        ``mutable=[...]``, ``method=...``).

    Returns:
      ``{path: LayerSpec}`` where ``path`` joins the layer's module path with ``"/"``, i.e. the
      location of its ``kernel`` in the ``params`` collection (``params["Block_0"]["Conv_0"]``
      is ``"Block_0/Conv_0"``).

    Raises:
      ValueError: if one layer is called on inputs of two different shapes.

    Example:
      >>> import flax.linen as nn, jax, jax.numpy as jnp
      >>> model = nn.Sequential([nn.Conv(4, (3, 3), strides=2), nn.Dense(2)])
      >>> x = jnp.zeros((8, 6, 6, 2))
      >>> variables = jax.eval_shape(model.init, jax.random.key(0), x)  # shapes suffice
      >>> specs = record_layer_shapes(model, variables, x)
      >>> specs["layers_0"].input_shape, specs["layers_0"].strides, specs["layers_1"].input_shape
      ((1, 6, 6, 2), (2, 2), (1, 4))
    """
    specs: dict[str, LayerSpec] = {}

    def interceptor(next_fun, call_args, call_kwargs, context):
        layer = context.module
        is_layer = isinstance(layer, nn.Dense) or (
            isinstance(layer, nn.Conv) and layer.mask is None
        )
        if context.method_name == "__call__" and is_layer:
            inputs = call_args[0] if call_args else next(iter(call_kwargs.values()))
            path = "/".join(layer.path)
            spec = layer_spec(layer, tuple(inputs.shape))
            if specs.setdefault(path, spec) != spec:
                raise ValueError(
                    f"layer {path!r} is called on inputs of shapes {specs[path].input_shape} "
                    f"and {spec.input_shape}; its operator norm is not one number"
                )
        return next_fun(*call_args, **call_kwargs)

    with nn.intercept_methods(interceptor):
        jax.eval_shape(functools.partial(module.apply, **kwargs), variables, *args)
    return specs


def record_batch_norms(
    module: nn.Module, variables: Any, *args: Any, **kwargs: Any
) -> dict[str, float]:
    """Records the ``epsilon`` of every ``nn.BatchNorm`` with a scale that a model calls.

    Runs ``module.apply(variables, *args, **kwargs)`` once under ``jax.eval_shape`` with Flax
    method interception, as :func:`record_layer_shapes` does, for the batch-norm clamp of
    :func:`jaxunlearn.transforms.clip_spectral_norm` (FastClip's "clipBN_hard").

    Returns:
      ``{path: epsilon}``, ``path`` the layer's module path joined with ``"/"``: the location of
      its ``scale`` in ``params`` and of its running ``var`` in ``batch_stats``. Layers with
      ``use_scale=False`` have no scale to clamp and are left out.

    Example:
      >>> import flax.linen as nn, jax, jax.numpy as jnp
      >>> model = nn.Sequential([nn.Conv(4, (3, 3)), nn.BatchNorm(use_running_average=True)])
      >>> x = jnp.zeros((2, 6, 6, 2))
      >>> record_batch_norms(model, jax.eval_shape(model.init, jax.random.key(0), x), x)
      {'layers_1': 1e-05}
    """
    epsilons: dict[str, float] = {}

    def interceptor(next_fun, call_args, call_kwargs, context):
        layer = context.module
        if context.method_name == "__call__" and isinstance(layer, nn.BatchNorm) \
                and layer.use_scale:
            epsilons["/".join(layer.path)] = float(layer.epsilon)
        return next_fun(*call_args, **call_kwargs)

    with nn.intercept_methods(interceptor):
        jax.eval_shape(functools.partial(module.apply, **kwargs), variables, *args)
    return dict(sorted(epsilons.items()))


def layer_spectral_norms(
    params: Any, layers: Mapping[str | tuple[str, ...], LayerSpec], **kwargs: Any
) -> dict[str, jax.Array]:
    """``{path: spectral_norm(kernel, spec, **kwargs)}`` for every layer in ``layers``.

    Args:
      params: a params pytree (Flax layout) holding ``path/kernel`` for each layer.
      layers: ``{path: LayerSpec}``, e.g. from :func:`record_layer_shapes`.
      **kwargs: passed to :func:`spectral_norm`.

    Returns:
      ``{path: scalar}`` with ``path`` joined by ``"/"``.
    """
    return {
        name: spectral_norm(_kernel_at(params, name), spec, **kwargs)
        for name, spec in _check_layers(layers).items()
    }
