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

    The pool is a reshape to 2x2 blocks and a ``max`` over them: the same forward values as
    ``nn.max_pool(..., padding="VALID")``, but its gradient is an elementwise select instead of
    XLA's select-and-scatter, which XLA:CPU runs slowly (issue 16: the pooling's forward and
    backward pass 5x faster on a 128×28×28×32 batch). Where a block's maximum is tied, the
    gradient is shared between the tied entries (select-and-scatter gives it all to one); after a
    ReLU the usual tie is at 0, where the ReLU's own gradient is 0 either way.
    """
    batch, height, width, channels = images.shape
    rows = 2 if height >= 2 else 1
    cols = 2 if width >= 2 else 1
    if (rows, cols) == (1, 1):
        return images
    height, width = height - height % rows, width - width % cols
    blocks = images[:, :height, :width].reshape(
        batch, height // rows, rows, width // cols, cols, channels)
    return jnp.max(blocks, axis=(2, 4))
