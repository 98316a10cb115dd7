"""The model registry: names, construction, dtype handling and argument errors."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.models import (
    MLP,
    MODELS,
    VGG16BN,
    LogisticRegression,
    ResNet18,
    SmallCNN,
    count_params,
    create_model_fns,
    get_model,
    register_model,
)

SHIPPED_MODEL_NAMES = ("mlp", "small_cnn", "resnet18", "vgg16_bn", "logistic_regression")


def test_registry_holds_the_shipped_models():
    expected = {
        "mlp": MLP,
        "small_cnn": SmallCNN,
        "resnet18": ResNet18,
        "vgg16_bn": VGG16BN,
        "logistic_regression": LogisticRegression,
    }
    assert {name: MODELS[name] for name in expected} == expected


@pytest.mark.parametrize("name", SHIPPED_MODEL_NAMES)
def test_get_model_builds_float32_model_with_requested_classes(name):
    model = get_model(name, 7)
    assert isinstance(model, MODELS[name])
    assert model.num_classes == 7
    assert jnp.dtype(model.dtype) == jnp.float32
    assert jnp.dtype(model.param_dtype) == jnp.float32


@pytest.mark.parametrize(
    "dtype, expected",
    [
        ("float32", jnp.float32),
        ("bfloat16", jnp.bfloat16),
        ("float16", jnp.float16),
        (jnp.bfloat16, jnp.bfloat16),
        (jnp.float16, jnp.float16),
        (np.dtype("float32"), jnp.float32),
        (jnp.dtype("bfloat16"), jnp.bfloat16),
    ],
)
def test_get_model_sets_compute_dtype_and_keeps_float32_params(dtype, expected):
    model = get_model("mlp", 3, dtype=dtype)
    assert jnp.dtype(model.dtype) == jnp.dtype(expected)
    assert jnp.dtype(model.param_dtype) == jnp.float32


def test_get_model_passes_architecture_arguments_through():
    model = get_model("small_cnn", 4, channels=(8,), dense_size=16)
    assert tuple(model.channels) == (8,) and model.dense_size == 16


def test_unknown_name_is_a_value_error_listing_the_registered_names():
    with pytest.raises(ValueError, match="name") as error:
        get_model("resnet19", 10)
    for name in SHIPPED_MODEL_NAMES:
        assert name in str(error.value)


@pytest.mark.parametrize("dtype", ["float64", "int8", "fp16", jnp.int32, jnp.float64, None])
def test_unsupported_dtype_is_a_value_error_naming_dtype(dtype):
    with pytest.raises(ValueError, match="`dtype`"):
        get_model("mlp", 10, dtype=dtype)


@pytest.mark.parametrize("num_classes", [1, 0, -3, 2.5, True])
def test_fewer_than_two_classes_is_a_value_error_naming_num_classes(num_classes):
    with pytest.raises(ValueError, match="`num_classes`"):
        get_model("mlp", num_classes)


def test_create_model_fns_validates_like_get_model():
    with pytest.raises(ValueError, match="`num_classes`"):
        create_model_fns("logistic_regression", 1)
    with pytest.raises(ValueError, match="`dtype`"):
        create_model_fns("logistic_regression", 2, dtype="float8")


@pytest.fixture
def temporary_model_name():
    name = "test_models_registry_two_layer"
    yield name
    MODELS.pop(name, None)


def test_register_model_makes_a_module_available_by_name(temporary_model_name):
    @register_model(temporary_model_name)
    class TwoLayer(nn.Module):
        num_classes: int
        dtype: Any = jnp.float32
        param_dtype: Any = jnp.float32

        @nn.compact
        def __call__(self, x, train: bool = False):
            hidden = nn.Dense(5, dtype=self.dtype, param_dtype=self.param_dtype)(x)
            return nn.Dense(self.num_classes, dtype=self.dtype)(hidden).astype(jnp.float32)

    assert MODELS[temporary_model_name] is TwoLayer
    model = create_model_fns(temporary_model_name, 3)
    variables = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((2, 4)))
    assert count_params(variables) == (4 * 5 + 5) + (5 * 3 + 3)

    with pytest.raises(ValueError, match="`name`"):
        register_model(temporary_model_name)


def test_register_model_rejects_non_modules(temporary_model_name):
    with pytest.raises(TypeError):
        register_model(temporary_model_name)(lambda x: x)
    assert temporary_model_name not in MODELS
