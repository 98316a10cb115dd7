"""Test helper shared by the model and method tests: model variables filled from NumPy."""

import jax
import jax.numpy as jnp
import numpy as np


def numpy_variables(init, sample, seed: int = 0) -> dict:
    """Variables with ``init``'s structure filled from NumPy (He-normal kernels, zero biases, unit
    scales, N(0, 0.02²) embeddings): no random-initialiser program is compiled, which on a CPU
    costs seconds per model."""
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = getattr(path[-1], "key", None)
        if name == "kernel":
            scale = np.sqrt(2.0 / np.prod(leaf.shape[:-1]))
        elif name in ("bias", "scale"):
            return jnp.full(leaf.shape, 1.0 if name == "scale" else 0.0, leaf.dtype)
        else:
            scale = 0.02
        return jnp.asarray(scale * rng.standard_normal(leaf.shape), leaf.dtype)

    abstract = jax.eval_shape(init, jax.random.key(0), jnp.asarray(sample))
    return jax.tree_util.tree_map_with_path(fill, abstract)
