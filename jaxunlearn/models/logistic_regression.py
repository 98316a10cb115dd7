"""Multinomial logistic regression."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxunlearn.models._layers import check_batched, flatten_features


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: ``logits = flatten(x) @ W + b``.

    With the cross-entropy loss this is softmax regression; with L2 regularisation the objective
    is strongly convex, which is what the certified-removal analysis of Guo, Goldstein, Hannun &
    van der Maaten (2020, "Certified Data Removal from Machine Learning Models", ICML) and the
    Langevin-unlearning certificates of Chien, Wang, Chen & Li (2024, "Langevin Unlearning: A New
    Perspective of Noisy Gradient Descent for Machine Unlearning", NeurIPS) assume.

    Attributes:
        num_classes: number of output logits.
        dtype: computation dtype.
        param_dtype: dtype of ``W`` (``kernel``, shape ``(features, num_classes)``) and ``b``
            (``bias``, shape ``(num_classes,)``), stored under ``params['linear']``.

    Call with ``x`` of shape ``(n, ...)``; returns float32 logits of shape ``(n, num_classes)``.
    ``train`` has no effect.
    """

    num_classes: int
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        check_batched(x, "LogisticRegression")
        features = flatten_features(jnp.asarray(x, self.dtype))
        logits = nn.Dense(
            self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="linear"
        )(features)
        return logits.astype(jnp.float32)
