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
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
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


def _spec_of(layer: nn.Module, input_shape: tuple[int, ...]) -> LayerSpec:
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
            spec = _spec_of(layer, tuple(inputs.shape))
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


def _flat(block: jax.Array) -> jax.Array:
    return block.reshape(block.shape[0], -1)


def orthonormalize_rows(block: jax.Array) -> jax.Array:
    """Orthonormal rows spanning the rows of ``block`` (``(b, ...)``, QR of the flattened rows).

    The first row keeps its direction (up to sign); a rank-deficient block still gets orthonormal
    rows. Returns an array of the shape of ``block``.
    """
    q, _ = jnp.linalg.qr(_flat(block).T)
    return q.T.reshape(block.shape)


def power_iterations(
    kernel: jax.Array, spec: LayerSpec, block: jax.Array, num_iterations: int | jax.Array
) -> jax.Array:
    """Block power iteration ``V <- orth(A_W^T A_W V)``, the paper's PowerQR (arXiv:2402.16017).

    ``A_W^T`` is ``jax.linear_transpose`` of the layer's forward pass, so the map is never formed.
    PowerQR iterates ``V <- orth(V + A^T A V)`` (a gradient-ascent step on ``1/2 ||A V||^2``);
    dropping the ``+V`` shift converges faster and has the same fixed points.

    Args:
      kernel: the layer's kernel.
      spec: the layer's :class:`LayerSpec`.
      block: ``(b, *spec.input_shape[1:])``, the start vectors (need not be orthonormal).
      num_iterations: number of iterations (may be traced).

    Returns:
      ``(b, *spec.input_shape[1:])`` with orthonormal rows approximating the top ``b`` right
      singular vectors.
    """
    forward = lambda x: apply_linear(kernel, x, spec)
    transpose = jax.linear_transpose(forward, jax.ShapeDtypeStruct(block.shape, block.dtype))

    def step(_, current):
        return orthonormalize_rows(transpose(forward(current))[0])

    return lax.fori_loop(0, num_iterations, step, block)


def rayleigh_ritz(
    kernel: jax.Array, spec: LayerSpec, block: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The singular pairs of ``A_W`` restricted to the span of an orthonormal ``block``.

    With ``Y = A_W V`` and the eigenvectors ``P`` of the small Gram matrix ``Y Y^T``, the rotated
    block ``P^T V`` satisfies ``A_W v_i = sigma_i u_i`` exactly, with orthonormal ``u_i``; each
    ``sigma_i`` is at most the ``i``-th singular value of ``A_W``.

    Args:
      kernel: the layer's kernel.
      spec: the layer's :class:`LayerSpec`.
      block: ``(b, *spec.input_shape[1:])`` with orthonormal rows.

    Returns:
      ``(sigmas, right, left)``: ``(b,)`` in descending order, the rotated block ``(b, *input)``,
      and the left vectors ``(b, prod(output_shape))``, flattened.
    """
    images = _flat(apply_linear(kernel, block, spec))
    _, rotation = jnp.linalg.eigh(images @ images.T)
    rotation = rotation[:, ::-1]
    rotated = rotation.T @ images
    sigmas = jnp.linalg.norm(rotated, axis=1)
    left = rotated / jnp.maximum(sigmas, jnp.finfo(sigmas.dtype).tiny)[:, None]
    right = (rotation.T @ _flat(block)).reshape(block.shape)
    return sigmas, right, left


def spectral_norm(
    kernel: jax.Array,
    spec: LayerSpec,
    num_iterations: int = 1000,
    tolerance: float = 1e-7,
    seed: int = 0,
) -> jax.Array:
    """The operator norm ``sigma_1(A_W)`` of a layer's linear map, by power iteration.

    PowerQR (arXiv:2402.16017) on a block of two vectors through the layer's forward pass and its
    transpose, run until the estimate changes by less than ``tolerance`` (relative) or for
    ``num_iterations`` iterations. A diagnostic: a lower estimate that converges to
    ``sigma_1`` from below.

    Args:
      kernel: the layer's kernel (see :class:`LayerSpec`).
      spec: the layer's :class:`LayerSpec`.
      num_iterations: the most power iterations.
      tolerance: the relative change of the estimate at which to stop.
      seed: seed of the random start.

    Returns:
      A scalar, the estimated largest singular value.

    Example:
      >>> import jax.numpy as jnp
      >>> round(float(spectral_norm(jnp.diag(jnp.array([3.0, 1.0])), LayerSpec.dense(2))), 4)
      3.0
    """
    spec.check_kernel(jnp.shape(kernel))
    return _power_norm(kernel, num_iterations, tolerance, seed, spec=spec)


@functools.partial(jax.jit, static_argnames=("spec",))
def _power_norm(kernel, num_iterations, tolerance, seed, *, spec: LayerSpec):
    dtype = jnp.promote_types(jnp.result_type(kernel), jnp.float32)
    kernel = jnp.asarray(kernel, dtype)
    block_shape = (min(2, math.prod(spec.input_shape)),) + spec.input_shape[1:]
    start = jax.random.normal(jax.random.key(seed), block_shape, dtype)

    def keep_going(carry):
        iteration, _, sigma, previous = carry
        changing = jnp.abs(sigma - previous) > tolerance * sigma
        return (iteration < num_iterations) & changing

    def step(carry):
        iteration, block, sigma, _ = carry
        block = power_iterations(kernel, spec, block, 1)
        new_sigma = rayleigh_ritz(kernel, spec, block)[0][0]
        return iteration + 1, block, new_sigma, sigma

    carry = (0, orthonormalize_rows(start), jnp.asarray(1.0, dtype), jnp.asarray(0.0, dtype))
    _, block, _, _ = lax.while_loop(keep_going, step, carry)
    return rayleigh_ritz(kernel, spec, block)[0][0]
