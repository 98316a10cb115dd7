"""Shapes, dtypes, parameter counts and reference outputs of the shipped classifiers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.models import count_params, create_model_fns

NUM_CLASSES = 10
MODEL_NAMES = ("mlp", "small_cnn", "resnet18", "vgg16_bn", "logistic_regression")
SMALL_MODEL_NAMES = ("mlp", "small_cnn", "logistic_regression")
DEEP_MODEL_NAMES = ("resnet18", "vgg16_bn")


def _images(shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), shape, jnp.float32)


def _abstract_variables(name: str, input_shape: tuple[int, ...], **kwargs) -> dict:
    """Variables as ShapeDtypeStructs: nothing is compiled or allocated."""
    model = create_model_fns(name, NUM_CLASSES, **kwargs)
    return jax.eval_shape(model.init, jax.random.key(0), jnp.zeros(input_shape, jnp.float32))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_float32_logits_have_batch_by_classes_shape(name, model_cache):
    variables, images = model_cache.variables(name), model_cache.images
    logits, _ = model_cache.apply(name)(variables, images, train=False)
    assert logits.shape == (2, NUM_CLASSES)
    assert logits.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(logits)))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_bfloat16_compute_returns_float32_logits_close_to_float32(name, model_cache):
    variables, images = model_cache.variables(name), model_cache.images
    reference, _ = model_cache.apply(name)(variables, images, train=False)
    logits, _ = model_cache.apply(name, "bfloat16")(variables, images, train=False)
    assert logits.shape == (2, NUM_CLASSES)
    assert logits.dtype == jnp.float32
    reference, logits = np.asarray(reference, np.float64), np.asarray(logits, np.float64)
    # bfloat16 keeps 8 significant bits (relative step 2**-8); errors grow with depth.
    relative_error = np.linalg.norm(logits - reference) / np.linalg.norm(reference)
    assert relative_error < 0.1
    assert not np.array_equal(logits, reference), "bfloat16 compute gave bit-identical logits"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_bfloat16_compute_keeps_float32_variables(name):
    variables = _abstract_variables(name, (2, 8, 8, 3), dtype="bfloat16")
    dtypes = {leaf.dtype for leaf in jax.tree.leaves(variables)}
    assert dtypes == {jnp.dtype(jnp.float32)}


@pytest.mark.parametrize("name", SMALL_MODEL_NAMES)
@pytest.mark.parametrize("input_shape", [(2, 8, 8, 1), (2, 28, 28, 1)])
def test_small_models_run_on_digits_and_mnist_sizes(name, input_shape, plausible_variables):
    model = create_model_fns(name, NUM_CLASSES)
    images = _images(input_shape)
    variables = plausible_variables(model.init, images)
    logits, _ = model.apply(variables, images, train=False)
    assert logits.shape == (2, NUM_CLASSES)
    assert logits.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(logits)))


@pytest.mark.parametrize("name", DEEP_MODEL_NAMES)
@pytest.mark.parametrize("input_shape", [(2, 8, 8, 1), (2, 28, 28, 1), (2, 32, 32, 3)])
def test_deep_models_accept_digits_mnist_and_cifar_sizes(name, input_shape):
    model = create_model_fns(name, NUM_CLASSES)
    images = jnp.zeros(input_shape, jnp.float32)
    variables = jax.eval_shape(model.init, jax.random.key(0), images)
    for train in (False, True):
        logits, _ = jax.eval_shape(lambda v, x: model.apply(v, x, train), variables, images)
        assert logits.shape == (2, NUM_CLASSES)
        assert logits.dtype == jnp.float32


def test_resnet18_has_the_cifar_parameter_count():
    variables = _abstract_variables("resnet18", (1, 32, 32, 3))
    assert count_params(variables) == 11_173_962


def test_vgg16_bn_has_the_cifar_parameter_count():
    variables = _abstract_variables("vgg16_bn", (1, 32, 32, 3))
    assert count_params(variables) == 14_728_266


def test_resnet18_has_a_batch_norm_after_every_convolution():
    variables = _abstract_variables("resnet18", (1, 32, 32, 3))
    # Stem, 16 block convolutions and 3 projection shortcuts each have one batch norm.
    bn_channels = 64 + 4 * 64 + 4 * 128 + 128 + 4 * 256 + 256 + 4 * 512 + 512
    running_stats = sum(leaf.size for leaf in jax.tree.leaves(variables["batch_stats"]))
    assert running_stats == 2 * bn_channels


def test_logistic_regression_parameter_count_on_digits():
    variables = _abstract_variables("logistic_regression", (1, 8, 8, 1))
    assert count_params(variables) == 8 * 8 * 10 + 10 == 650


def test_mlp_parameter_count_is_the_sum_of_its_dense_layers():
    default = _abstract_variables("mlp", (1, 8, 8, 1))
    assert count_params(default) == (64 * 256 + 256) + (256 * 256 + 256) + (256 * 10 + 10)
    narrow = _abstract_variables("mlp", (1, 28, 28, 1), hidden_sizes=(16, 8))
    assert count_params(narrow) == (784 * 16 + 16) + (16 * 8 + 8) + (8 * 10 + 10)
    linear = _abstract_variables("mlp", (1, 8, 8, 1), hidden_sizes=())
    assert count_params(linear) == 650


def test_small_cnn_parameter_count_follows_the_pooled_feature_map():
    # 8x8 -> pool -> 4x4 -> pool -> 2x2, so the dense layer sees 2*2*64 features.
    digits = _abstract_variables("small_cnn", (1, 8, 8, 1))
    assert count_params(digits) == (
        (9 * 1 * 32 + 32) + (9 * 32 * 64 + 64) + (2 * 2 * 64 * 128 + 128) + (128 * 10 + 10)
    )
    # 8x8 -> 4 -> 2 -> 1, and the fourth stage leaves the 1x1 map unpooled.
    deep = _abstract_variables("small_cnn", (1, 8, 8, 1), channels=(8, 8, 8, 8), dense_size=16)
    assert count_params(deep) == (
        (9 * 1 * 8 + 8) + 3 * (9 * 8 * 8 + 8) + (1 * 1 * 8 * 16 + 16) + (16 * 10 + 10)
    )
    # 28x28 -> 14 -> 7.
    mnist = _abstract_variables("small_cnn", (1, 28, 28, 1))
    assert count_params(mnist) == (
        (9 * 1 * 32 + 32) + (9 * 32 * 64 + 64) + (7 * 7 * 64 * 128 + 128) + (128 * 10 + 10)
    )


def test_logistic_regression_matches_numpy_affine_map(plausible_variables):
    model = create_model_fns("logistic_regression", NUM_CLASSES)
    images = _images((2, 8, 8, 1), seed=3)
    variables = plausible_variables(model.init, images, seed=1)
    logits, new_mutable = model.apply(variables, images, train=True)

    weights = np.asarray(variables["params"]["linear"]["kernel"], np.float64)
    bias = np.asarray(variables["params"]["linear"]["bias"], np.float64)
    expected = np.asarray(images, np.float64).reshape(2, -1) @ weights + bias
    np.testing.assert_allclose(np.asarray(logits, np.float64), expected, rtol=1e-5, atol=1e-5)
    assert new_mutable == {}


def test_mlp_matches_numpy_forward_pass(plausible_variables):
    model = create_model_fns("mlp", 3, hidden_sizes=(5, 4))
    images = _images((2, 4, 4, 2), seed=4)
    variables = plausible_variables(model.init, images, seed=2)
    logits, _ = model.apply(variables, images, train=False)

    params = jax.tree.map(lambda leaf: np.asarray(leaf, np.float64), variables["params"])
    hidden = np.asarray(images, np.float64).reshape(2, -1)
    for layer in ("hidden_0", "hidden_1"):
        hidden = np.maximum(hidden @ params[layer]["kernel"] + params[layer]["bias"], 0.0)
    expected = hidden @ params["head"]["kernel"] + params["head"]["bias"]
    np.testing.assert_allclose(np.asarray(logits, np.float64), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ("small_cnn", "resnet18", "vgg16_bn"))
def test_convolutional_models_reject_non_image_inputs(name):
    model = create_model_fns(name, NUM_CLASSES)
    with pytest.raises(AssertionError, match="NHWC"):
        jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((2, 64), jnp.float32))
