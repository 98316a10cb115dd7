"""ResNet-18 for small (CIFAR-sized) images."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxunlearn.models._layers import check_image_batch, relu_conv_init

# One pixel of zero padding on each side (PyTorch's ``padding=1``, used by the CIFAR networks the
# parameter count refers to); Flax's "SAME" pads asymmetrically for stride 2 on even sizes,
# which would shift the sampling grid by a pixel.
_PAD_ONE = ((1, 1), (1, 1))

# ResNet-18: four stages of two basic blocks (He et al., 2016, Table 1).
_STAGE_CHANNELS = (64, 128, 256, 512)
_STAGE_STRIDES = (1, 2, 2, 2)
_BLOCKS_PER_STAGE = (2, 2, 2, 2)


def _batch_norm(module: nn.Module, train: bool, name: str) -> nn.BatchNorm:
    return nn.BatchNorm(
        use_running_average=not train,
        momentum=0.9,
        epsilon=1e-5,
        dtype=module.dtype,
        param_dtype=module.param_dtype,
        name=name,
    )


class BasicBlock(nn.Module):
    """Residual block of two 3x3 convolutions (He et al., 2016, Fig. 2, left).

    ``out = relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``, where the shortcut is the identity
    when the shape is kept and a strided 1x1 convolution with batch norm (projection shortcut,
    option B of He et al., 2016, Sec. 3.3) when the stride or channel count changes.

    With ``batch_norm=False`` (FastClip's "noBN" ResNet, Ebrahimpour Boroojeny, Telgarsky &
    Sundaram, AISTATS 2024, arXiv:2402.16017; ``models/resnet.py`` of ``Ali-E/FastClip``) there
    is no batch norm and a block with a projection shortcut halves the sum,
    ``out = relu((conv(relu(conv(x))) + shortcut_conv(x)) / 2)``, so that it stays 1-Lipschitz
    when each convolution is; the identity-shortcut block keeps the plain sum.

    Attributes:
        channels: output channels of both convolutions.
        strides: stride of the first convolution (and of the projection shortcut).
        dtype: computation dtype.
        param_dtype: dtype of the parameters.
        batch_norm: whether each convolution is followed by batch norm.
    """

    channels: int
    strides: int = 1
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32
    batch_norm: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        conv_kwargs = dict(
            use_bias=False,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            kernel_init=relu_conv_init,
        )
        residual = nn.Conv(
            self.channels,
            (3, 3),
            strides=(self.strides, self.strides),
            padding=_PAD_ONE,
            name="conv_1",
            **conv_kwargs,
        )(x)
        if self.batch_norm:
            residual = _batch_norm(self, train, "bn_1")(residual)
        residual = nn.relu(residual)
        residual = nn.Conv(self.channels, (3, 3), padding=_PAD_ONE, name="conv_2", **conv_kwargs)(
            residual
        )
        if self.batch_norm:
            residual = _batch_norm(self, train, "bn_2")(residual)

        shortcut = x
        if self.strides != 1 or x.shape[-1] != self.channels:
            shortcut = nn.Conv(
                self.channels,
                (1, 1),
                strides=(self.strides, self.strides),
                padding="VALID",
                name="shortcut_conv",
                **conv_kwargs,
            )(x)
            if not self.batch_norm:  # FastClip's noBN ResNet: keep the block 1-Lipschitz
                return nn.relu((residual + shortcut) / 2)
            shortcut = _batch_norm(self, train, "shortcut_bn")(shortcut)
        return nn.relu(residual + shortcut)


class ResNet18(nn.Module):
    """ResNet-18, CIFAR variant (He, Zhang, Ren & Sun, 2016, "Deep Residual Learning for Image
    Recognition", CVPR; Table 1, 18-layer column).

    The ImageNet network's 7x7/2 stem and 3x3/2 max-pool are replaced by a single 3x3 stride-1
    convolution with 64 channels, batch norm and ReLU, which suits 32x32 inputs. Then four stages
    of two :class:`BasicBlock` each with 64/128/256/512 channels and strides 1/2/2/2, global
    average pooling and one dense layer. Convolutions have no bias; batch norm (Ioffe & Szegedy,
    2015, ICML) uses momentum 0.9 and epsilon 1e-5 and keeps its running statistics in the
    ``batch_stats`` collection. With 10 classes this has 11,173,962 parameters, the count of the
    CIFAR ResNet-18 used across the unlearning literature (e.g. SalUn, Fan et al., ICLR 2024).

    Attributes:
        num_classes: number of output logits.
        dtype: computation dtype.
        param_dtype: dtype of the parameters and of the batch-norm statistics.
        batch_norm: whether each convolution is followed by batch norm; False gives
            :class:`ResNet18NoBN`'s network.

    Call with NHWC images ``x`` of shape ``(n, height, width, channels)``; ``train=True`` uses
    batch statistics and needs ``mutable=['batch_stats']``. Returns float32 logits of shape
    ``(n, num_classes)``.
    """

    num_classes: int
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32
    batch_norm: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        check_image_batch(x, type(self).__name__)
        hidden = jnp.asarray(x, self.dtype)
        hidden = nn.Conv(
            64,
            (3, 3),
            padding=_PAD_ONE,
            use_bias=False,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            kernel_init=relu_conv_init,
            name="stem_conv",
        )(hidden)
        if self.batch_norm:
            hidden = _batch_norm(self, train, "stem_bn")(hidden)
        hidden = nn.relu(hidden)
        for stage, (channels, strides, num_blocks) in enumerate(
            zip(_STAGE_CHANNELS, _STAGE_STRIDES, _BLOCKS_PER_STAGE)
        ):
            for block in range(num_blocks):
                hidden = BasicBlock(
                    channels,
                    strides=strides if block == 0 else 1,
                    dtype=self.dtype,
                    param_dtype=self.param_dtype,
                    batch_norm=self.batch_norm,
                    name=f"stage_{stage + 1}_block_{block + 1}",
                )(hidden, train=train)
        hidden = jnp.mean(hidden, axis=(1, 2))
        logits = nn.Dense(
            self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head"
        )(hidden)
        return logits.astype(jnp.float32)


class ResNet18NoBN(ResNet18):
    """ResNet-18 without batch norm, the network FastClip clips ("noBN"; Ebrahimpour Boroojeny,
    Telgarsky & Sundaram, AISTATS 2024, arXiv:2402.16017; ``models/resnet.py`` of
    ``Ali-E/FastClip``, ``bn=False``), also AMUN's smooth original (ICML 2025, arXiv:2503.00917).

    :class:`ResNet18` with every batch norm removed (the convolutions still have no bias, the
    head keeps its bias) and the residual sum halved in the three blocks with a projection
    shortcut (``out = relu((residual + shortcut) / 2)``, see :class:`BasicBlock`), so that with
    every convolution and the head clipped to operator norm 1 the network is 1-Lipschitz. It has
    no ``batch_stats`` collection; with 10 classes, 11,164,362 parameters.
    """

    batch_norm: bool = False
