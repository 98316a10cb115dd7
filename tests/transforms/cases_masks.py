"""Harness cases for the feasible-update masks (AND, PROB, focus) and the static saliency mask."""

import jax
import jax.numpy as jnp

from jaxunlearn.transforms.grad_stats import GradStats
from jaxunlearn.transforms.masks import (
    aggregate_ling,
    and_mask,
    focus_above_threshold,
    focus_mask,
    prob_mask,
)
from jaxunlearn.transforms.saliency import saliency_mask, static_mask
from transform_harness import TransformCase, example_updates


def _random_like(params, key, scale=1.0):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree_util.tree_unflatten(
        treedef, [scale * jax.random.normal(k, leaf.shape) for k, leaf in zip(keys, leaves)]
    )


def _random_stats(params, key, count=16):
    """Means ~ N(0, 1) and standard errors in [0.1, 0.5]: a mix of sure and unsure signs."""
    mean_key, spread_key = jax.random.split(key)
    mean = _random_like(params, mean_key)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(spread_key, len(leaves))
    sem = [jax.random.uniform(k, leaf.shape, minval=0.1, maxval=0.5)
           for k, leaf in zip(keys, leaves)]
    m2 = [s**2 * count * (count - 1) for s in sem]
    return GradStats(mean, jax.tree_util.tree_unflatten(treedef, m2), jnp.asarray(count, jnp.int32))


def _stats_args(params, key):
    forget_key, retain_key = jax.random.split(key)
    return {"forget_stats": _random_stats(params, forget_key),
            "retain_stats": _random_stats(params, retain_key)}


def _retain_grads(params, key):
    return {"retain_grads": _random_like(params, key)}


def _joint_prob(threshold):
    return prob_mask(threshold, criterion="joint", aggregate=aggregate_ling(0.8, 0.5),
                     apply_to="gradient")


def _thresholded_focus(threshold):
    return focus_mask(threshold=threshold, weighting=focus_above_threshold)


CASES = [
    TransformCase("and_mask", lambda: and_mask(), extra_args=_retain_grads),
    TransformCase(
        "prob_mask_agreement",
        lambda: prob_mask(0.45),
        extra_args=_stats_args,
        inject=(prob_mask, {"threshold": 0.45}),
    ),
    TransformCase(
        "prob_mask_joint_ling",
        lambda: _joint_prob(0.3),
        extra_args=_stats_args,
        inject=(_joint_prob, {"threshold": 0.3}),
    ),
    TransformCase(
        "focus_mask",
        lambda: _thresholded_focus(0.6),
        extra_args=_stats_args,
        inject=(_thresholded_focus, {"threshold": 0.6}),
    ),
    TransformCase(
        "static_mask",
        lambda: static_mask(saliency_mask(example_updates(jax.random.key(3)), 0.5)),
    ),
]
