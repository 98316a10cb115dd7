"""Image augmentation done on the device, inside the jitted step.

Random crop with zero padding and random horizontal flip, the standard CIFAR recipe (He et al.,
2016, §4.2). Inputs are already normalised, so the zero padding is the dataset mean colour.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

AUGMENTATIONS = (None, "crop", "crop_flip")


def random_crop(key: jax.Array, images: jax.Array, padding: int = 4) -> jax.Array:
    """Pad (batch, H, W, C) images by ``padding`` and crop each back to (H, W) at a random offset."""
    batch, height, width, channels = images.shape
    padded = jnp.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    offsets = jax.random.randint(key, (batch, 2), 0, 2 * padding + 1)

    def crop_one(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (height, width, channels))

    return jax.vmap(crop_one)(padded, offsets)


def random_flip(key: jax.Array, images: jax.Array) -> jax.Array:
    """Flip each (batch, H, W, C) image left-right with probability 1/2."""
    flip = jax.random.bernoulli(key, 0.5, (images.shape[0], 1, 1, 1))
    return jnp.where(flip, images[:, :, ::-1, :], images)


def augment(key: jax.Array, images: jax.Array, augmentation: str | None) -> jax.Array:
    """Apply the named augmentation (``None``, ``"crop"`` or ``"crop_flip"``) to a batch."""
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {AUGMENTATIONS}, got {augmentation!r}")
    if augmentation is None:
        return images
    crop_key, flip_key = jax.random.split(key)
    images = random_crop(crop_key, images)
    if augmentation == "crop_flip":
        images = random_flip(flip_key, images)
    return images
