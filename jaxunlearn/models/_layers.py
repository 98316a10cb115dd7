"""Small shape helpers shared by the image classifiers in this package."""

from __future__ import annotations

import chex
import flax.linen as nn
import jax

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
    1x1 map passes through unchanged.
    """
    window = tuple(2 if size >= 2 else 1 for size in images.shape[1:3])
    if window == (1, 1):
        return images
    return nn.max_pool(images, window_shape=window, strides=window, padding="VALID")
