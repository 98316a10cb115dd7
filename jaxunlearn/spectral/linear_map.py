"""The linear map of a dense or convolution layer: :class:`LayerSpec`, the input shape and
attributes that define it, and :func:`apply_linear`, the map itself.

A convolution is a linear map on the whole input image, so its operator norm depends on the
input's spatial size, padding, strides and dilations, not on the kernel alone (Ebrahimpour
Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for Implicitly Linear Layers",
AISTATS 2024, arXiv:2402.16017; code ``Ali-E/FastClip``). Biases are not part of the map: a layer
``x -> A_W x + b`` has the Lipschitz constant of ``A_W``. Everything here is importable from
:mod:`jaxunlearn.spectral.layer_shapes`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax


DENSE = "dense"
CONV = "conv"
PADDING_NAMES = ("SAME", "SAME_LOWER", "VALID", "CIRCULAR", "REFLECT", "CAUSAL")


def _per_axis(value: int | Sequence[int] | None, rank: int, name: str) -> tuple[int, ...]:
    if value is None:
        value = 1
    if isinstance(value, int):
        value = (value,) * rank
    value = tuple(int(v) for v in value)
    if len(value) != rank or any(v < 1 for v in value):
        raise ValueError(f"{name} must be a positive int or {rank} positive ints, got {value}")
    return value


def _canonical_padding(padding: Any, rank: int) -> str | tuple[tuple[int, int], ...]:
    """Flax's padding forms (a name, an int, ints or (low, high) pairs) as a name or pairs."""
    if isinstance(padding, str):
        name = padding.upper()
        if name not in PADDING_NAMES:
            raise ValueError(f"padding must be one of {PADDING_NAMES} or pairs, got {padding!r}")
        if name == "CAUSAL" and rank != 1:
            raise ValueError("padding 'CAUSAL' is only defined for 1D convolutions")
        return name
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    pairs = []
    for item in padding:
        if isinstance(item, int):
            pairs.append((item, item))
        else:
            low, high = item
            pairs.append((int(low), int(high)))
    if len(pairs) != rank:
        raise ValueError(f"padding needs {rank} (low, high) pairs, got {padding!r}")
    return tuple(pairs)


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """What fixes the linear map of one dense or convolution layer (Flax Linen layout).

    Attributes:
      kind: ``"dense"`` (kernel ``(in_features, out_features)``, ``y = x @ W``) or ``"conv"``
        (kernel ``(*kernel_size, in_channels // feature_group_count, out_channels)``, channels
        last, as ``flax.linen.Conv``).
      input_shape: the shape of one input with a batch axis of 1: ``(1, in_features)`` for a
        dense layer, ``(1, *spatial, in_channels)`` for a convolution.
      strides, padding, input_dilation, kernel_dilation, feature_group_count: as the attributes
        of ``flax.linen.Conv`` (padding ``'SAME'``, ``'VALID'``, ``'CIRCULAR'``, ``'REFLECT'``,
        ``'CAUSAL'``, an int or ``(low, high)`` pairs); ignored for dense layers. Ints are
        broadcast over the spatial axes.

    Specs are hashable, so they can be static arguments of jitted functions.
    """

    kind: str
    input_shape: tuple[int, ...]
    strides: int | tuple[int, ...] = 1
    padding: str | int | tuple = "SAME"
    input_dilation: int | tuple[int, ...] = 1
    kernel_dilation: int | tuple[int, ...] = 1
    feature_group_count: int = 1

    def __post_init__(self) -> None:
        shape = tuple(int(size) for size in self.input_shape)
        if self.kind not in (DENSE, CONV):
            raise ValueError(f"kind must be '{DENSE}' or '{CONV}', got {self.kind!r}")
        if not shape or shape[0] != 1 or any(size < 1 for size in shape):
            raise ValueError(f"input_shape must start with a batch axis of 1, got {shape}")
        if self.kind == DENSE and len(shape) != 2:
            raise ValueError(f"a dense layer's input_shape is (1, in_features), got {shape}")
        if self.kind == CONV and len(shape) < 3:
            raise ValueError(f"a convolution's input_shape is (1, *spatial, channels), got {shape}")
        rank = max(len(shape) - 2, 1)
        set_field = functools.partial(object.__setattr__, self)
        set_field("input_shape", shape)
        set_field("strides", _per_axis(self.strides, rank, "strides"))
        set_field("input_dilation", _per_axis(self.input_dilation, rank, "input_dilation"))
        set_field("kernel_dilation", _per_axis(self.kernel_dilation, rank, "kernel_dilation"))
        set_field("padding", _canonical_padding(self.padding, rank))
        groups = int(self.feature_group_count)
        if groups < 1 or (self.kind == CONV and shape[-1] % groups):
            raise ValueError(
                f"feature_group_count must be >= 1 and divide the input channels, got {groups}"
            )
        set_field("feature_group_count", groups)

    @classmethod
    def dense(cls, in_features: int) -> LayerSpec:
        """The spec of a ``flax.linen.Dense`` layer with ``in_features`` inputs."""
        return cls(DENSE, (1, in_features))

    @classmethod
    def conv(cls, input_shape: Sequence[int], **conv_attributes: Any) -> LayerSpec:
        """The spec of a ``flax.linen.Conv`` layer on inputs of ``input_shape`` (batch 1)."""
        return cls(CONV, tuple(input_shape), **conv_attributes)

    @property
    def spatial_rank(self) -> int:
        return len(self.input_shape) - 2

    def check_kernel(self, kernel_shape: Sequence[int], name: str = "kernel") -> None:
        """Raises ValueError if a kernel of ``kernel_shape`` cannot act on ``input_shape``."""
        in_features = self.input_shape[-1]
        if self.kind == DENSE:
            ok = len(kernel_shape) == 2 and kernel_shape[0] == in_features
        else:
            ok = (
                len(kernel_shape) == self.spatial_rank + 2
                and kernel_shape[-2] * self.feature_group_count == in_features
                and kernel_shape[-1] % self.feature_group_count == 0
            )
        if not ok:
            raise ValueError(
                f"{name} of shape {tuple(kernel_shape)} does not fit {self.kind} layer input "
                f"{self.input_shape} with feature_group_count {self.feature_group_count}"
            )


def apply_linear(kernel: jax.Array, inputs: jax.Array, spec: LayerSpec) -> jax.Array:
    """The layer's linear map ``A_W`` (no bias) applied to a batch of inputs.

    Reproduces ``flax.linen.Dense``/``flax.linen.Conv`` without bias, mask or dtype casts, in at
    least float32 at the highest matmul precision.

    Args:
      kernel: the layer's kernel, shaped as described in :class:`LayerSpec`.
      inputs: ``(batch, *spec.input_shape[1:])``.
      spec: the layer's :class:`LayerSpec`.

    Returns:
      ``(batch, *output_shape[1:])``, the images ``A_W x`` of the inputs.
    """
    dtype = jnp.promote_types(jnp.result_type(kernel, inputs), jnp.float32)
    kernel = jnp.asarray(kernel, dtype)
    inputs = jnp.asarray(inputs, dtype)
    precision = lax.Precision.HIGHEST
    if spec.kind == DENSE:
        return jnp.matmul(inputs, kernel, precision=precision)
    kernel_size = kernel.shape[: spec.spatial_rank]
    padding = spec.padding
    if padding in ("CIRCULAR", "REFLECT"):
        # the same boundary extension flax.linen.Conv applies before a VALID convolution
        dilated = [(k - 1) * d + 1 for k, d in zip(kernel_size, spec.kernel_dilation)]
        pads = [(0, 0)] + [((k - 1) // 2, k // 2) for k in dilated] + [(0, 0)]
        inputs = jnp.pad(inputs, pads, mode={"CIRCULAR": "wrap", "REFLECT": "reflect"}[padding])
        padding = "VALID"
    elif padding == "CAUSAL":
        left = spec.kernel_dilation[0] * (kernel_size[0] - 1)
        inputs = jnp.pad(inputs, [(0, 0), (left, 0), (0, 0)])
        padding = "VALID"
    ndim = inputs.ndim
    layout = (0, ndim - 1) + tuple(range(1, ndim - 1))
    kernel_layout = (ndim - 1, ndim - 2) + tuple(range(ndim - 2))
    return lax.conv_general_dilated(
        inputs,
        kernel,
        window_strides=spec.strides,
        padding=padding,
        lhs_dilation=spec.input_dilation,
        rhs_dilation=spec.kernel_dilation,
        dimension_numbers=lax.ConvDimensionNumbers(layout, kernel_layout, layout),
        feature_group_count=spec.feature_group_count,
        precision=precision,
    )


def output_shape(kernel_shape: Sequence[int], spec: LayerSpec) -> tuple[int, ...]:
    """The shape of ``A_W x`` for one input of ``spec.input_shape`` (batch 1)."""
    result = jax.eval_shape(
        functools.partial(apply_linear, spec=spec),
        jax.ShapeDtypeStruct(tuple(kernel_shape), jnp.float32),
        jax.ShapeDtypeStruct(spec.input_shape, jnp.float32),
    )
    return tuple(result.shape)
