"""Small image-to-image models: a convolutional autoencoder and a masked-autoencoder inpainter.

Both map NHWC images of shape ``(n, H, W, C)`` to reconstructions of the same shape, in the
dataset's normalised space (no output squashing, since standardised pixels are not bounded to
[0, 1]). They are registered next to the classifiers (``get_model("conv_autoencoder", ...)``) and
train with the same engine and checkpoints: pass ``loss_fn=jaxunlearn.losses.reconstruction_mse``
and ``targets="inputs"`` to :func:`jaxunlearn.train.train`.

Every model here has two submodules, ``encoder`` and ``decoder`` (the top-level keys of its
``params``), so a method can train the encoder alone (Li et al., ICLR 2024). A model returns its
encoder output instead of the reconstruction when its variables carry the
:data:`ENCODING_REQUEST` collection; :func:`encoder_apply` wraps a ``ModelFns.apply`` that way,
so methods reach the encoding through the one pure ``apply`` the library passes around.

The registry builds every model with ``num_classes``; an image-to-image model has no classes and
ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.models._layers import check_image_batch

ENCODING_REQUEST = "image_to_image"
"""Name of the variables collection whose presence makes an image-to-image model return its
encoding; it holds one dummy entry, :data:`_REQUEST_ENTRY`, and is never trained."""

_REQUEST_ENTRY = "return_encoding"


def _returns_encoding(module: nn.Module) -> bool:
    # The collection's presence is part of the pytree structure, hence static under jit.
    return module.has_variable(ENCODING_REQUEST, _REQUEST_ENTRY)


def request_encoding(variables: Mapping[str, Any]) -> dict:
    """``variables`` plus the :data:`ENCODING_REQUEST` collection (see the module docstring)."""
    return {**variables, ENCODING_REQUEST: {_REQUEST_ENTRY: jnp.zeros((), jnp.int8)}}


def encoder_apply(apply_fn: Callable) -> Callable:
    """``encode(variables, inputs, train, rng=None) -> encoding`` from a ``ModelFns.apply`` of an
    image-to-image model of this module (the encoder output, e.g. ``(n, latent_size)`` for
    :class:`ConvAutoencoder`, ``(n, patches, embed_dim)`` for :class:`MaskedAutoencoder`)."""

    def encode(variables: Mapping[str, Any], inputs: jax.Array, train: bool,
               rng: jax.Array | None = None) -> jax.Array:
        encoding, _ = apply_fn(request_encoding(variables), inputs, train, rng=rng)
        return encoding

    return encode


def _check_divisible(images: jax.Array, factor: int, model_name: str, what: str) -> None:
    height, width = images.shape[1:3]
    if height % factor or width % factor:
        raise ValueError(
            f"{model_name} needs image height and width divisible by {factor} ({what}); "
            f"got {height}x{width}"
        )


class _ConvEncoder(nn.Module):
    channels: Sequence[int]
    latent_size: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, images: jax.Array) -> jax.Array:
        hidden = images
        for stage, features in enumerate(self.channels):
            hidden = nn.Conv(features, (3, 3), strides=(2, 2), padding="SAME", dtype=self.dtype,
                             param_dtype=self.param_dtype, name=f"conv_{stage}")(hidden)
            hidden = nn.relu(hidden)
        hidden = hidden.reshape(hidden.shape[0], -1)
        return nn.Dense(self.latent_size, dtype=self.dtype, param_dtype=self.param_dtype,
                        name="latent")(hidden)


class _ConvDecoder(nn.Module):
    channels: Sequence[int]
    image_shape: tuple[int, int, int]
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, encoding: jax.Array) -> jax.Array:
        height, width, out_channels = self.image_shape
        factor = 2 ** len(self.channels)
        start = (height // factor, width // factor, self.channels[-1])
        hidden = nn.Dense(math.prod(start), dtype=self.dtype, param_dtype=self.param_dtype,
                          name="expand")(encoding)
        hidden = nn.relu(hidden).reshape(encoding.shape[0], *start)
        for stage, features in enumerate(reversed(self.channels)):
            hidden = nn.ConvTranspose(features, (3, 3), strides=(2, 2), padding="SAME",
                                      dtype=self.dtype, param_dtype=self.param_dtype,
                                      name=f"upconv_{stage}")(hidden)
            hidden = nn.relu(hidden)
        return nn.Conv(out_channels, (3, 3), padding="SAME", dtype=self.dtype,
                       param_dtype=self.param_dtype, name="output")(hidden)


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: strided 3x3 convolutions to a dense bottleneck, mirrored back.

    The undercomplete autoencoder of Hinton & Salakhutdinov (2006), "Reducing the dimensionality
    of data with neural networks", Science 313, with the convolutional encoder/decoder of Masci
    et al. (2011, "Stacked convolutional auto-encoders", ICANN), as the "simple AutoEncoder" that
    Varshney & Torra (arXiv 2502.04260) compare with retraining. Encoder: per stage
    ``conv3x3 stride 2 -> ReLU``, then ``Dense(latent_size)``; decoder: ``Dense -> ReLU``, per
    stage ``transposed conv3x3 stride 2 -> ReLU``, then a linear ``conv3x3`` to the input's
    channels.

    Attributes:
        num_classes: ignored (the registry passes it to every model).
        channels: output channels of the encoder's stages; H and W must be divisible by
            ``2 ** len(channels)`` (8x8 digits and 28x28 Fashion-MNIST with the default two).
        latent_size: width of the bottleneck.
        dtype: computation dtype.
        param_dtype: dtype of the parameters.

    Call with NHWC images ``x`` of shape ``(n, H, W, C)``; returns the float32 reconstruction of
    the same shape (the ``(n, latent_size)`` encoding with :func:`request_encoding`). ``train``
    has no effect.
    """

    num_classes: int = 0
    channels: Sequence[int] = (16, 32)
    latent_size: int = 32
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        del train
        check_image_batch(x, "ConvAutoencoder")
        _check_divisible(x, 2 ** len(self.channels), "ConvAutoencoder",
                         f"{len(self.channels)} stride-2 stages")
        images = jnp.asarray(x, self.dtype)
        encoding = _ConvEncoder(tuple(self.channels), self.latent_size, self.dtype,
                                self.param_dtype, name="encoder")(images)
        if _returns_encoding(self):
            return encoding.astype(jnp.float32)
        decoder = _ConvDecoder(tuple(self.channels), tuple(x.shape[1:]), self.dtype,
                               self.param_dtype, name="decoder")
        return decoder(encoding).astype(jnp.float32)


# --- masked autoencoder -------------------------------------------------------------------------


def patchify(images: jax.Array, patch_size: int) -> jax.Array:
    """``(n, H, W, C) -> (n, (H/p)(W/p), p*p*C)``, patches in row-major order."""
    n, height, width, channels = images.shape
    rows, cols = height // patch_size, width // patch_size
    patches = images.reshape(n, rows, patch_size, cols, patch_size, channels)
    return patches.transpose(0, 1, 3, 2, 4, 5).reshape(n, rows * cols, -1)


def unpatchify(patches: jax.Array, patch_size: int, image_shape: tuple[int, int, int]) -> jax.Array:
    """Inverse of :func:`patchify` for images of shape ``image_shape = (H, W, C)``."""
    height, width, channels = image_shape
    rows, cols = height // patch_size, width // patch_size
    images = patches.reshape(patches.shape[0], rows, cols, patch_size, patch_size, channels)
    return images.transpose(0, 1, 3, 2, 4, 5).reshape(patches.shape[0], height, width, channels)


def random_patch_mask(key: jax.Array, batch: int, num_patches: int, num_masked: int) -> jax.Array:
    """``(batch, num_patches)`` booleans, True = masked, exactly ``num_masked`` per row (the
    per-image random shuffle of He et al., CVPR 2022, §3)."""
    noise = jax.random.uniform(key, (batch, num_patches))
    ranks = jnp.argsort(jnp.argsort(noise, axis=1), axis=1)
    return ranks < num_masked


class _TransformerBlock(nn.Module):
    num_heads: int
    mlp_ratio: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        width = tokens.shape[-1]
        common = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        hidden = nn.LayerNorm(**common, name="norm_attention")(tokens)
        tokens = tokens + nn.MultiHeadDotProductAttention(
            self.num_heads, **common, name="attention")(hidden, hidden)
        hidden = nn.LayerNorm(**common, name="norm_mlp")(tokens)
        hidden = nn.gelu(nn.Dense(width * self.mlp_ratio, **common, name="mlp_in")(hidden))
        return tokens + nn.Dense(width, **common, name="mlp_out")(hidden)


class _MaskedEncoder(nn.Module):
    embed_dim: int
    depth: int
    num_heads: int
    mlp_ratio: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, patches: jax.Array, mask: jax.Array) -> jax.Array:
        common = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        tokens = nn.Dense(self.embed_dim, **common, name="patch_embed")(patches)
        mask_token = self.param("mask_token", nn.initializers.normal(0.02), (self.embed_dim,),
                                self.param_dtype)
        tokens = jnp.where(mask[..., None], mask_token.astype(tokens.dtype), tokens)
        position = self.param("position", nn.initializers.normal(0.02),
                              (patches.shape[1], self.embed_dim), self.param_dtype)
        tokens = tokens + position.astype(tokens.dtype)
        for index in range(self.depth):
            tokens = _TransformerBlock(self.num_heads, self.mlp_ratio, **common,
                                       name=f"block_{index}")(tokens)
        return nn.LayerNorm(**common, name="norm")(tokens)


class _MaskedDecoder(nn.Module):
    patch_dim: int
    num_heads: int
    mlp_ratio: int
    dtype: Any
    param_dtype: Any

    @nn.compact
    def __call__(self, encoding: jax.Array) -> jax.Array:
        common = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        tokens = _TransformerBlock(self.num_heads, self.mlp_ratio, **common, name="block")(encoding)
        return nn.Dense(self.patch_dim, **common, name="to_pixels")(tokens)


class MaskedAutoencoder(nn.Module):
    """A small masked-autoencoder inpainter: hides a random subset of patches, predicts them.

    After He et al. (CVPR 2022), "Masked Autoencoders Are Scalable Vision Learners", in the
    SimMIM form (Xie et al., CVPR 2022): masked patches are replaced by a learned mask token and
    the encoder sees every position, so the encoding has a fixed shape
    ``(n, patches, embed_dim)`` — the encoder output Li et al. (ICLR 2024) unlearn on. Patches
    are ``patch_size`` squares, linearly embedded with learned position embeddings; the encoder
    is ``depth`` pre-norm transformer blocks, the decoder one block and a linear map to pixels.

    **Masking.** ``round(mask_ratio * patches)`` patches per image are masked. When the call is
    given an RNG (``apply(..., rng=key)``, the ``'dropout'`` stream, as the train engine does at
    every step) each image draws its own mask from it, so a teacher and a student called with
    the same key see the same mask. Without an RNG one fixed mask (drawn from ``mask_seed``) is
    used for every image, so evaluation is deterministic and does not depend on batch position.

    **Output and loss.** The output composites the input's visible pixels with the predicted
    masked pixels (inpainting), so an all-pixel reconstruction loss such as
    :func:`jaxunlearn.losses.reconstruction_mse` equals the MSE on the masked patches times the
    masked fraction, and its gradient is MAE's masked-patch loss (up to that constant).

    Attributes:
        num_classes: ignored (the registry passes it to every model).
        patch_size: side of a square patch; H and W must be divisible by it.
        embed_dim: token width.
        depth: encoder transformer blocks.
        num_heads: attention heads (must divide ``embed_dim``).
        mlp_ratio: hidden width of each block's MLP, as a multiple of ``embed_dim``.
        mask_ratio: fraction of patches masked, in [0, 1).
        mask_seed: seed of the fixed mask used without an RNG.
        dtype: computation dtype.
        param_dtype: dtype of the parameters.

    Call with NHWC images ``x`` of shape ``(n, H, W, C)``; returns the float32 inpainted image
    of the same shape (the encoding with :func:`request_encoding`).
    """

    num_classes: int = 0
    patch_size: int = 2
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: int = 2
    mask_ratio: float = 0.5
    mask_seed: int = 0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def patch_mask(self, batch: int, num_patches: int) -> jax.Array:
        """``(batch, num_patches)`` mask: drawn from the ``'dropout'`` RNG if given, else fixed."""
        num_masked = int(round(self.mask_ratio * num_patches))
        if self.has_rng("dropout"):
            return random_patch_mask(self.make_rng("dropout"), batch, num_patches, num_masked)
        fixed = random_patch_mask(jax.random.key(self.mask_seed), 1, num_patches, num_masked)
        return jnp.broadcast_to(fixed, (batch, num_patches))

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        del train  # masking depends on whether an RNG is given, see the class docstring
        check_image_batch(x, "MaskedAutoencoder")
        _check_divisible(x, self.patch_size, "MaskedAutoencoder", f"patch_size {self.patch_size}")
        if not 0.0 <= self.mask_ratio < 1.0:
            raise ValueError(
                f"MaskedAutoencoder mask_ratio must be in [0, 1), got {self.mask_ratio}")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MaskedAutoencoder num_heads {self.num_heads} must divide "
                             f"embed_dim {self.embed_dim}")
        images = jnp.asarray(x, self.dtype)
        patches = patchify(images, self.patch_size)
        mask = self.patch_mask(patches.shape[0], patches.shape[1])
        common = dict(num_heads=self.num_heads, mlp_ratio=self.mlp_ratio, dtype=self.dtype,
                      param_dtype=self.param_dtype)
        encoding = _MaskedEncoder(self.embed_dim, self.depth, **common, name="encoder")(
            patches, mask)
        if _returns_encoding(self):
            return encoding.astype(jnp.float32)
        predicted = _MaskedDecoder(patches.shape[-1], **common, name="decoder")(encoding)
        composite = jnp.where(mask[..., None], predicted.astype(patches.dtype), patches)
        return unpatchify(composite, self.patch_size, tuple(x.shape[1:])).astype(jnp.float32)


IMAGE_TO_IMAGE_MODELS: dict[str, type[nn.Module]] = {
    "conv_autoencoder": ConvAutoencoder,
    "masked_autoencoder": MaskedAutoencoder,
}
"""The image-to-image models by registry name."""


def is_image_to_image(module: Any) -> bool:
    """Whether ``module`` (a Linen module instance) is one of :data:`IMAGE_TO_IMAGE_MODELS`."""
    return isinstance(module, tuple(IMAGE_TO_IMAGE_MODELS.values()))


def image_patch_mask(module: MaskedAutoencoder, image_shape: tuple[int, int, int]) -> np.ndarray:
    """The fixed (no-RNG) mask of a :class:`MaskedAutoencoder` as a boolean ``(H, W)`` pixel map,
    True where the model inpaints."""
    height, width, _ = image_shape
    rows, cols = height // module.patch_size, width // module.patch_size
    num_masked = int(round(module.mask_ratio * rows * cols))
    mask = random_patch_mask(jax.random.key(module.mask_seed), 1, rows * cols, num_masked)
    grid = np.asarray(mask).reshape(rows, cols)
    return np.kron(grid, np.ones((module.patch_size, module.patch_size), bool)).astype(bool)
