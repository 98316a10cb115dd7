"""Small shape helpers shared by the image classifiers in this package."""

from __future__ import annotations

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

# He, Zhang, Ren & Sun (2015), "Delving Deep into Rectifiers", ICCV, Eq. (10): zero-mean Gaussian
# weights with variance 2 / fan keep activation scale through ReLU layers; fan-out (the
# back-propagation form of Sec. 2.2) is the usual choice for ResNet and VGG.
relu_conv_init = nn.initializers.variance_scaling(2.0, "fan_out", "normal")


def check_image_batch(images: jax.Array, model_name: str) -> None:
    """Asserts that ``images`` is an NHWC batch of shape ``(n, height, width, channels)``."""
    chex.assert_rank(
        images,
        4,
        custom_message=(
            f"{model_name} expects `x` as NHWC images of shape (n, height, width, channels)"
        ),
    )


def check_batched(inputs: jax.Array, model_name: str) -> None:
    """Asserts that ``inputs`` has a leading batch axis and at least one feature axis."""
    if inputs.ndim < 2:
        raise ValueError(
            f"{model_name} expects `x` with a leading batch axis, shape (n, ...); "
            f"got shape {inputs.shape}"
        )


def flatten_features(inputs: jax.Array) -> jax.Array:
    """Flattens every axis but the leading batch axis: ``(n, ...) -> (n, features)``."""
    return inputs.reshape(inputs.shape[0], -1)


def max_pool_2x2(images: jax.Array) -> jax.Array:
    """2x2 max-pool with stride 2 on an NHWC batch, leaving spatial axes of size 1 alone.

    Small inputs (8x8 digits) shrink to 1x1 before a deep network runs out of pooling
    stages; pooling such an axis again would make it empty, so that axis is not pooled and a
    1x1 map passes through unchanged. An odd size drops its last row or column, as a "VALID"
    window does.

    The pool is the elementwise maximum of the four strided sub-grids (rows 0::2 / 1::2 × columns
    0::2 / 1::2): the same forward values as ``nn.max_pool(..., padding="VALID")``, but its
    gradient is elementwise selects instead of XLA's select-and-scatter, which XLA:CPU runs
    slowly (issue 16: a conv → ReLU → pool stage's backward pass 5x faster than the windowed pool
    and 2.4x faster than a reshape to 2x2 blocks with a ``max`` over them, on a 128×28×28×32
    batch). Where a block's maximum is tied, the gradient is shared between the tied entries
    (select-and-scatter gives it all to one); after a ReLU the usual tie is at 0, where the
    ReLU's own gradient is 0 either way.
    """
    height, width = images.shape[1:3]
    row_step = 2 if height >= 2 else 1
    col_step = 2 if width >= 2 else 1
    if (row_step, col_step) == (1, 1):
        return images
    height, width = height - height % row_step, width - width % col_step
    grids = [images[:, row:height:row_step, col:width:col_step]
             for row in range(row_step) for col in range(col_step)]
    while len(grids) > 1:  # a balanced tree: a 4-way tie gives each entry a quarter
        grids = [jnp.maximum(grids[i], grids[i + 1]) for i in range(0, len(grids), 2)]
    return grids[0]


_NHWC = ("NHWC", "HWIO", "NHWC")
# Below this many input channels a tap's matmul is a thin (1 × n) product and XLA's kernel gradient
# is faster (a 1→32 first layer: 3 ms against 11 ms on 128×28×28).
_MIN_TAP_FEATURES = 8


def _same_conv(inputs: jax.Array, kernel: jax.Array) -> jax.Array:
    return jax.lax.conv_general_dilated(inputs, kernel, (1, 1), "SAME", dimension_numbers=_NHWC)


@jax.custom_vjp
def _same_conv_cpu(inputs: jax.Array, kernel: jax.Array) -> jax.Array:
    return _same_conv(inputs, kernel)


def _same_conv_cpu_forward(inputs, kernel):
    return _same_conv(inputs, kernel), (inputs, kernel)


def _same_conv_cpu_backward(residuals, cotangent):
    inputs, kernel = residuals
    # the input gradient: the cotangent convolved with the flipped, transposed kernel ("SAME" on
    # an odd kernel is its own transpose's padding)
    input_grad = _same_conv(cotangent, jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2))
    # the kernel gradient as one matmul per kernel tap: dK[i, j] = Σ_{n,h,w} x_pad[n, h+i, w+j]ᵀ
    # g[n, h, w]; XLA:CPU's own (a convolution over the batch) runs 2.5x slower here
    rows, cols, in_features, out_features = kernel.shape
    batch, height, width, _ = inputs.shape
    padded = jnp.pad(inputs, ((0, 0), (rows // 2, rows // 2), (cols // 2, cols // 2), (0, 0)))
    flat_cotangent = cotangent.reshape(-1, out_features)
    taps = [jnp.matmul(padded[:, i:i + height, j:j + width, :].reshape(-1, in_features).T,
                       flat_cotangent, preferred_element_type=jnp.float32)
            for i in range(rows) for j in range(cols)]
    kernel_grad = jnp.stack(taps).reshape(kernel.shape).astype(kernel.dtype)
    return input_grad, kernel_grad


_same_conv_cpu.defvjp(_same_conv_cpu_forward, _same_conv_cpu_backward)


def _is_same_padding(padding, kernel_shape) -> bool:
    rows, cols = kernel_shape[:2]
    if rows % 2 == 0 or cols % 2 == 0:
        return False
    if isinstance(padding, str):
        return padding == "SAME"
    try:
        return [tuple(pair) for pair in padding] == [(rows // 2, rows // 2), (cols // 2, cols // 2)]
    except TypeError:
        return False


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None):
    """``jax.lax.conv_general_dilated``, with a faster kernel gradient for the common case on CPU.

    A drop-in for ``flax.linen.Conv(conv_general_dilated=...)``. On the CPU backend, a 2-D
    NHWC/HWIO convolution with stride 1, no dilation or grouping and "SAME" padding of an odd
    kernel uses a custom VJP whose kernel gradient is one matmul per kernel tap (issue 16: 2.5x
    faster than XLA:CPU's for a 3x3, 32→64 convolution on a 128×14×14 batch); its forward pass
    and input gradient are XLA's. Equal to XLA's gradient up to float summation order. Every
    other case, and every other backend (GPU, TPU), calls ``jax.lax.conv_general_dilated``.
    """
    nhwc = jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC) if lhs.ndim == 4 else None
    fast = (jax.default_backend() == "cpu" and lhs.ndim == 4 and nhwc is not None
            and dimension_numbers in (_NHWC, nhwc)
            and tuple(window_strides) == (1, 1)
            and all(d is None or tuple(d) == (1, 1) for d in (lhs_dilation, rhs_dilation))
            and feature_group_count == 1 and batch_group_count == 1 and precision is None
            and preferred_element_type is None and lhs.dtype == rhs.dtype
            and rhs.shape[2] >= _MIN_TAP_FEATURES and _is_same_padding(padding, rhs.shape))
    if fast:
        return _same_conv_cpu(lhs, rhs)
    return jax.lax.conv_general_dilated(
        lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, batch_group_count=batch_group_count,
        precision=precision, preferred_element_type=preferred_element_type)
