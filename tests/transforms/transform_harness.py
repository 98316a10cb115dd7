"""The shared harness every Optax add-on goes through (in the spirit of optax's
``contrib/_common_test.py``).

Each transform module contributes ``TransformCase``s in a ``cases_<topic>.py`` file next to this one
(a list named ``CASES``); ``test_transforms_common.py`` runs every case through the same checks.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax


def example_params(key: jax.Array | None = None) -> dict:
    """A small params pytree with a dense and a convolution layer (Flax layout)."""
    key = jax.random.key(0) if key is None else key
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return {
        "Conv_0": {
            "kernel": 0.5 * jax.random.normal(k1, (3, 3, 2, 4)),
            "bias": 0.1 * jax.random.normal(k2, (4,)),
        },
        "Dense_0": {
            "kernel": jax.random.normal(k3, (8, 5)),
            "bias": 0.1 * jax.random.normal(k4, (5,)),
        },
    }


def example_updates(key: jax.Array) -> dict:
    """Random "gradients" with the structure of :func:`example_params`."""
    params = example_params()
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree_util.tree_unflatten(
        treedef, [jax.random.normal(k, leaf.shape) for k, leaf in zip(keys, leaves)]
    )


# Input shapes (NHWC, batch 1) of the layers of example_params, for transforms that need them.
EXAMPLE_LAYER_INPUT_SHAPES = {"Conv_0": (1, 6, 6, 2), "Dense_0": (1, 8)}


@dataclasses.dataclass(frozen=True)
class TransformCase:
    """One add-on as the harness sees it.

    Attributes:
      name: test id.
      make: builds the transform (``GradientTransformationExtraArgs``) with fixed hyperparameters.
      extra_args: ``extra_args(params, key) -> dict`` of the keyword arguments its ``update``
        needs (e.g. ``retain_grads``, ``losses``); ``{}`` if none.
      inject: ``(factory, hyperparams)`` such that ``optax.inject_hyperparams(factory)(**hyperparams)``
        builds the same transform with injectable numeric hyperparameters; ``None`` to skip.
      stochastic: the update depends on a PRNG key in the state (only used for messages).
    """

    name: str
    make: Callable[[], optax.GradientTransformation]
    extra_args: Callable[[Any, jax.Array], dict] = lambda params, key: {}
    inject: tuple[Callable[..., optax.GradientTransformation], dict] | None = None
    stochastic: bool = False


def stack(trees: list) -> Any:
    """Stack pytrees along a new leading (model) axis."""
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *trees)
