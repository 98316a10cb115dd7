"""The 2x2 max-pool without select-and-scatter (issue 16) against Flax's windowed pool and a
NumPy loop."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.models._layers import max_pool_2x2


@pytest.mark.parametrize("shape", [(3, 8, 8, 4), (2, 7, 9, 3), (2, 1, 5, 2), (2, 6, 1, 2)])
def test_values_and_gradients_match_the_windowed_pool(shape):
    x = jnp.asarray(np.random.default_rng(0).normal(size=shape), jnp.float32)  # no ties
    window = tuple(2 if size >= 2 else 1 for size in shape[1:3])
    reference = lambda v: nn.max_pool(v, window, window, "VALID")  # noqa: E731
    np.testing.assert_array_equal(max_pool_2x2(x), reference(x))
    weights = jnp.asarray(np.random.default_rng(1).normal(size=reference(x).shape), jnp.float32)
    ours = jax.grad(lambda v: jnp.sum(weights * max_pool_2x2(v)))(x)
    theirs = jax.grad(lambda v: jnp.sum(weights * reference(v)))(x)
    np.testing.assert_array_equal(ours, theirs)


def test_numpy_loop_and_tied_maxima_share_the_gradient():
    x = np.random.default_rng(2).normal(size=(1, 4, 6, 2)).astype(np.float32)
    x[0, 0:2, 0:2, 0] = 5.0  # a block whose four entries tie
    expected = np.zeros((1, 2, 3, 2), np.float32)
    for i in range(2):
        for j in range(3):
            expected[0, i, j] = x[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(0, 1))
    np.testing.assert_array_equal(max_pool_2x2(jnp.asarray(x)), expected)
    grad = np.asarray(jax.grad(lambda v: max_pool_2x2(v).sum())(jnp.asarray(x)))
    np.testing.assert_allclose(grad[0, 0:2, 0:2, 0], 0.25)  # shared between the tied four
    assert grad.sum() == pytest.approx(expected.size)


def test_a_one_by_one_map_passes_through():
    x = jnp.ones((2, 1, 1, 3))
    assert max_pool_2x2(x) is x
