"""Shared fixtures for the model tests: each model is built and compiled once per session."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.models import ModelFns, create_model_fns

# A real initialiser compiles one program per tensor shape (random bits for every tensor), which
# dominates the suite's time on CPU; forward-pass tests only need plausible values of the right
# shapes, so only the small models below run their real initialiser here.
MODELS_WITH_REAL_INIT = ("mlp", "small_cnn", "logistic_regression")


def _plausible_value(path: tuple, leaf: jax.ShapeDtypeStruct, rng: np.random.Generator):
    name = getattr(path[-1], "key", None)
    shape = leaf.shape
    if name == "kernel":
        fan_in = math.prod(shape[:-1])
        value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    elif name == "bias":
        value = 0.1 * rng.standard_normal(shape)
    elif name in ("scale", "var"):
        value = np.ones(shape)
    elif name == "mean":
        value = np.zeros(shape)
    else:
        raise AssertionError(f"unexpected variable {jax.tree_util.keystr(path)}")
    return jnp.asarray(value, leaf.dtype)


def plausible_variables(init, images: jax.Array, seed: int = 0) -> dict:
    """Variables with the structure ``init`` gives for ``images``, filled from NumPy: He-scaled
    Gaussian kernels, small biases, unit batch-norm scales and running statistics (0, 1)."""
    abstract = jax.eval_shape(init, jax.random.key(0), images)
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map_with_path(
        lambda path, leaf: _plausible_value(path, leaf, rng), abstract
    )


class ModelCache:
    """Model functions, jitted applies and fp32 variables for a 2-image 8x8x3 batch, by name."""

    num_classes = 10

    def __init__(self) -> None:
        self.images = jax.random.normal(jax.random.key(0), (2, 8, 8, 3), jnp.float32)
        self._fns: dict[tuple[str, str], ModelFns] = {}
        self._jitted: dict[tuple[str, str], object] = {}
        self._variables: dict[str, dict] = {}

    def fns(self, name: str, dtype: str = "float32") -> ModelFns:
        if (name, dtype) not in self._fns:
            self._fns[name, dtype] = create_model_fns(name, self.num_classes, dtype=dtype)
        return self._fns[name, dtype]

    def apply(self, name: str, dtype: str = "float32"):
        """``fns(name, dtype).apply`` jitted with a static ``train``, compiled once per mode."""
        if (name, dtype) not in self._jitted:
            self._jitted[name, dtype] = jax.jit(
                self.fns(name, dtype).apply, static_argnames="train"
            )
        return self._jitted[name, dtype]

    def variables(self, name: str) -> dict:
        if name not in self._variables:
            init = self.fns(name).init
            if name in MODELS_WITH_REAL_INIT:
                self._variables[name] = jax.jit(init)(jax.random.key(0), self.images)
            else:
                self._variables[name] = plausible_variables(init, self.images)
        return self._variables[name]


@pytest.fixture(scope="session")
def model_cache() -> ModelCache:
    return ModelCache()


@pytest.fixture(name="plausible_variables", scope="session")
def plausible_variables_fixture():
    """:func:`plausible_variables`, for test modules (conftest helpers are not importable)."""
    return plausible_variables
