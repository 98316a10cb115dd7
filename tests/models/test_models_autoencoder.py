"""The image-to-image models: registry, output and encoding shapes on digits- and
Fashion-MNIST-sized images, the masked autoencoder's masking, training through the shared
engine (``targets="inputs"``) and clear errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import from_arrays
from jaxunlearn.losses import reconstruction_mse
from jaxunlearn.models import (
    IMAGE_TO_IMAGE_MODELS,
    MODELS,
    ConvAutoencoder,
    MaskedAutoencoder,
    create_model_fns,
    encoder_apply,
    get_model,
    is_image_to_image,
)
from jaxunlearn.models.autoencoder import image_patch_mask, patchify, unpatchify
from jaxunlearn.train import train
from variable_fill import numpy_variables

SHAPES = [(8, 8, 1), (28, 28, 1)]
OPTIONS = {"conv_autoencoder": {}, "masked_autoencoder": {"patch_size": 4}}


def test_registered_and_recognised():
    assert MODELS["conv_autoencoder"] is ConvAutoencoder
    assert MODELS["masked_autoencoder"] is MaskedAutoencoder
    assert set(IMAGE_TO_IMAGE_MODELS) == {"conv_autoencoder", "masked_autoencoder"}
    assert is_image_to_image(get_model("conv_autoencoder", 10))
    assert not is_image_to_image(get_model("mlp", 10))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(IMAGE_TO_IMAGE_MODELS))
def test_output_and_encoding_shapes(name, shape):
    """Shapes from abstract evaluation (nothing compiled): reconstruction = input shape."""
    fns = create_model_fns(name, 10, **OPTIONS[name])
    images = jax.ShapeDtypeStruct((3, *shape), jnp.float32)
    variables = jax.eval_shape(fns.init, jax.random.key(0), jax.ShapeDtypeStruct((1, *shape),
                                                                                  jnp.float32))
    assert set(variables["params"]) == {"encoder", "decoder"}
    outputs = jax.eval_shape(lambda v, x: fns.apply(v, x, False)[0], variables, images)
    assert outputs.shape == (3, *shape) and outputs.dtype == jnp.float32
    encoding = jax.eval_shape(lambda v, x: encoder_apply(fns.apply)(v, x, False), variables, images)
    if name == "conv_autoencoder":
        assert encoding.shape == (3, 32)
    else:
        patches = (shape[0] // 4) * (shape[1] // 4)
        assert encoding.shape == (3, patches, 64)


def test_patchify_round_trip():
    images = jnp.asarray(np.arange(2 * 8 * 8 * 3, dtype=np.float32).reshape(2, 8, 8, 3))
    patches = patchify(images, 2)
    assert patches.shape == (2, 16, 12)
    np.testing.assert_array_equal(np.asarray(patches[0, 1]),
                                  np.asarray(images[0, 0:2, 2:4, :]).ravel())
    np.testing.assert_array_equal(np.asarray(unpatchify(patches, 2, (8, 8, 3))), np.asarray(images))


@pytest.fixture(scope="module")
def inpainter():
    fns = create_model_fns("masked_autoencoder", 10, patch_size=2, embed_dim=16, depth=1,
                           num_heads=2, mask_ratio=0.25)
    images = jax.random.normal(jax.random.key(0), (4, 8, 8, 1))
    variables = numpy_variables(fns.init, images[:1], seed=1)
    return fns, jax.jit(fns.apply, static_argnames="train"), variables, images


def test_inpainting_keeps_visible_pixels_and_masks_a_quarter(inpainter):
    fns, apply, variables, images = inpainter
    outputs, _ = apply(variables, images, train=False)
    kept = np.asarray(outputs == images)[..., 0]
    mask = image_patch_mask(get_model("masked_autoencoder", 10, patch_size=2, mask_ratio=0.25),
                            (8, 8, 1))
    assert mask.sum() == 4 * 4  # round(0.25 * 16) patches of 2x2
    assert np.all(kept[:, ~mask])  # visible pixels are copied
    assert not np.any(kept[:, mask])  # masked pixels are predicted
    # without an RNG the mask is fixed and shared; with one, each image draws its own
    random_outputs, _ = apply(variables, images, train=True, rng=jax.random.key(5))
    random_kept = np.asarray(random_outputs == images)[..., 0]
    assert np.all(random_kept.reshape(4, -1).sum(axis=1) == 48)
    assert len({random_kept[i].tobytes() for i in range(4)}) > 1
    again, _ = apply(variables, images, train=True, rng=jax.random.key(5))
    np.testing.assert_array_equal(np.asarray(again), np.asarray(random_outputs))


def _loss_curve(fns, dataset, steps, learning_rate):
    losses = []
    variables = numpy_variables(fns.init, dataset.inputs[:1])
    config = TrainConfig(epochs=1, steps=steps, batch_size=32, optimizer="adam",
                         learning_rate=learning_rate, weight_decay=0.0, augment=False,
                         schedule="constant")
    result = train(fns.apply, variables, dataset, config, loss_fn=reconstruction_mse,
                   targets="inputs", progress=False,
                   callbacks=[lambda step, metrics: losses.append(float(metrics["loss"]))])
    return result, losses


@pytest.mark.parametrize("name, options", [
    ("conv_autoencoder", {"channels": (8,), "latent_size": 16}),
    ("masked_autoencoder", {"patch_size": 2, "embed_dim": 16, "depth": 1, "num_heads": 2}),
])
def test_a_few_training_steps_reduce_the_reconstruction_loss(name, options):
    rng = np.random.default_rng(0)
    # smooth 8x8 images: a few random blobs
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"), -1)
    centres = rng.uniform(1, 7, (128, 1, 1, 2))
    images = np.exp(-np.sum((grid[None] - centres) ** 2, -1) / 4.0)[..., None]
    dataset = from_arrays(images.astype(np.float32), rng.integers(0, 2, 128), num_classes=2,
                          normalise=True)
    result, losses = _loss_curve(create_model_fns(name, 2, **options), dataset, 40, 1e-2)
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    assert "accuracy" not in result.history[-1]  # reconstruction runs have no accuracy


def test_clear_errors():
    conv = create_model_fns("conv_autoencoder", 10)
    with pytest.raises(ValueError, match="divisible by 4"):
        jax.eval_shape(conv.init, jax.random.key(0), jax.ShapeDtypeStruct((1, 10, 10, 1),
                                                                          jnp.float32))
    masked = create_model_fns("masked_autoencoder", 10, patch_size=3)
    with pytest.raises(ValueError, match="patch_size 3"):
        jax.eval_shape(masked.init, jax.random.key(0), jax.ShapeDtypeStruct((1, 8, 8, 1),
                                                                            jnp.float32))
    bad_ratio = create_model_fns("masked_autoencoder", 10, mask_ratio=1.0)
    with pytest.raises(ValueError, match="mask_ratio"):
        jax.eval_shape(bad_ratio.init, jax.random.key(0), jax.ShapeDtypeStruct((1, 8, 8, 1),
                                                                               jnp.float32))
    with pytest.raises(AssertionError, match="NHWC"):
        jax.eval_shape(conv.init, jax.random.key(0), jax.ShapeDtypeStruct((1, 64), jnp.float32))
    with pytest.raises(ValueError, match="classifier's logits"):
        reconstruction_mse(jnp.zeros((2, 10)), jnp.zeros((2, 8, 8, 1)), jnp.ones(2))
    with pytest.raises(ValueError, match="targets must be one of"):
        dataset = from_arrays(np.zeros((4, 8, 8, 1), np.float32), np.zeros(4, int), num_classes=2)
        train(conv.apply, {}, dataset, TrainConfig(epochs=1, batch_size=4), targets="outputs",
              tx=__import__("optax").sgd(0.1), progress=False)
