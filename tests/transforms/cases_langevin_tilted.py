"""Harness cases for the Langevin, projection and tilting transforms."""

import jax
import jax.numpy as jnp

from jaxunlearn.transforms import add_langevin_noise, project_l2_ball, tilted_aggregate
from transform_harness import TransformCase


def _per_example(params, key, batch=6):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves) + 1)
    grads = jax.tree_util.tree_unflatten(
        treedef, [jax.random.normal(k, (batch, *leaf.shape)) for k, leaf in zip(keys, leaves)]
    )
    losses = jax.random.uniform(keys[-1], (batch,), maxval=3.0)
    mask = jnp.ones((batch,)).at[-1].set(0.0)
    return {"per_example_grads": grads, "per_example_losses": losses, "example_mask": mask}


CASES = [
    TransformCase(
        "add_langevin_noise",
        lambda: add_langevin_noise(0.1, 0.3, key=3),
        inject=(lambda step_size, sigma: add_langevin_noise(step_size, sigma, key=3),
                {"step_size": 0.1, "sigma": 0.3}),
        stochastic=True,
    ),
    TransformCase(
        "project_l2_ball",
        lambda: project_l2_ball(2.0),
        inject=(project_l2_ball, {"radius": 2.0}),
    ),
    TransformCase(
        "tilted_aggregate",
        lambda: tilted_aggregate(0.7),
        extra_args=_per_example,
        inject=(tilted_aggregate, {"tilt": 0.7}),
    ),
]
