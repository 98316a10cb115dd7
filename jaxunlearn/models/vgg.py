"""VGG-16 with batch normalisation for small (CIFAR-sized) images."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxunlearn.models._layers import check_image_batch, max_pool_2x2, relu_conv_init

# Configuration "D" of Simonyan & Zisserman (2015), Table 1: output channels of each 3x3
# convolution, "M" for a 2x2 max-pool.
VGG16_LAYERS: tuple[int | str, ...] = (
    64, 64, "M",
    128, 128, "M",
    256, 256, 256, "M",
    512, 512, 512, "M",
    512, 512, 512, "M",
)  # fmt: skip


class VGG16BN(nn.Module):
    """VGG-16 with batch norm, CIFAR variant (Simonyan & Zisserman, 2015, "Very Deep
    Convolutional Networks for Large-Scale Image Recognition", ICLR; configuration D).

    Thirteen ``conv3x3 (with bias) -> batch norm -> ReLU`` layers in five blocks, each block
    closed by a 2x2 max-pool (a spatial axis already of size 1 is not pooled, so inputs smaller
    than 32x32 work). The three 4096-wide fully connected layers of the ImageNet network are
    replaced by global average pooling to 512 features and a single dense layer, the classifier
    used for CIFAR (on 32x32 inputs the map is 1x1 here, so the pooling is a flatten). Batch
    norm (Ioffe & Szegedy, 2015, ICML) follows every convolution, with momentum 0.9 and epsilon
    1e-5, running statistics in the ``batch_stats`` collection. With 10 classes this has
    14,728,266 parameters.

    Attributes:
        num_classes: number of output logits.
        dtype: computation dtype.
        param_dtype: dtype of the parameters and of the batch-norm statistics.

    Call with NHWC images ``x`` of shape ``(n, height, width, channels)``; ``train=True`` uses
    batch statistics and needs ``mutable=['batch_stats']``. Returns float32 logits of shape
    ``(n, num_classes)``.
    """

    num_classes: int
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        check_image_batch(x, "VGG16BN")
        hidden = jnp.asarray(x, self.dtype)
        conv_index = 0
        for layer in VGG16_LAYERS:
            if layer == "M":
                hidden = max_pool_2x2(hidden)
                continue
            conv_index += 1
            hidden = nn.Conv(
                layer,
                (3, 3),
                padding=((1, 1), (1, 1)),
                dtype=self.dtype,
                param_dtype=self.param_dtype,
                kernel_init=relu_conv_init,
                name=f"conv_{conv_index}",
            )(hidden)
            hidden = nn.BatchNorm(
                use_running_average=not train,
                momentum=0.9,
                epsilon=1e-5,
                dtype=self.dtype,
                param_dtype=self.param_dtype,
                name=f"bn_{conv_index}",
            )(hidden)
            hidden = nn.relu(hidden)
        hidden = jnp.mean(hidden, axis=(1, 2))
        logits = nn.Dense(
            self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head"
        )(hidden)
        return logits.astype(jnp.float32)
