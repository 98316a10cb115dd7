"""Multilayer perceptron classifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxunlearn.models._layers import check_batched, flatten_features


class MLP(nn.Module):
    """Fully connected ReLU network: flatten, ``Dense -> ReLU`` per hidden layer, ``Dense``.

    The feed-forward network trained by back-propagation (Rumelhart, Hinton & Williams, 1986,
    "Learning representations by back-propagating errors", Nature 323), with rectified linear
    hidden units (Nair & Hinton, 2010, "Rectified Linear Units Improve Restricted Boltzmann
    Machines", ICML).

    Attributes:
        num_classes: number of output logits.
        hidden_sizes: width of each hidden layer, input side first; ``()`` gives a linear model.
        dtype: computation dtype (e.g. ``jnp.bfloat16`` for mixed precision).
        param_dtype: dtype of the parameters.

    Call with ``x`` of shape ``(n, ...)`` (any trailing shape, e.g. NHWC images); returns float32
    logits of shape ``(n, num_classes)``. ``train`` is accepted for a uniform interface and has no
    effect.
    """

    num_classes: int
    hidden_sizes: Sequence[int] = (256, 256)
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        check_batched(x, "MLP")
        hidden = flatten_features(jnp.asarray(x, self.dtype))
        for layer_index, width in enumerate(self.hidden_sizes):
            hidden = nn.Dense(
                width, dtype=self.dtype, param_dtype=self.param_dtype, name=f"hidden_{layer_index}"
            )(hidden)
            hidden = nn.relu(hidden)
        logits = nn.Dense(
            self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head"
        )(hidden)
        return logits.astype(jnp.float32)
