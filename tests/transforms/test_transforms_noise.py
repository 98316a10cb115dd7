"""The one Gaussian pytree noise (:func:`jaxunlearn.transforms.gaussian_noise_like`) against an
independent reference: its moments by Monte Carlo, and its layout against a flat
``jax.random.normal`` draw cut into the leaves by hand in NumPy. Langevin noise, ALU's chains and
the I2I output perturbation are checked to draw exactly that layout."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.alu import step_noise
from jaxunlearn.transforms import add_langevin_noise, gaussian_noise_like, output_perturbation

TREE = {"b": jnp.zeros((2, 3, 4)), "a": jnp.zeros(5), "c": [jnp.zeros((7, 1)), jnp.zeros(())]}


def _reference(key, tree, std=1.0):
    """The previous layout, rebuilt by hand: one float32 N(0, 1) vector over every entry, scaled
    by ``std``, cut in ``tree_flatten`` order and reshaped row-major, in NumPy."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    size = sum(np.size(leaf) for leaf in leaves)
    flat = np.asarray(jax.random.normal(key, (size,), jnp.float32))
    if std != 1.0:
        flat = (np.float32(std) * flat).astype(np.float32)
    pieces, start = [], 0
    for leaf in leaves:
        pieces.append(flat[start:start + np.size(leaf)].reshape(np.shape(leaf)))
        start += np.size(leaf)
    assert start == flat.size
    return jax.tree_util.tree_unflatten(treedef, pieces)


def _assert_trees_equal(actual, expected, scaled=False):
    """Bit-identical; a scaled draw up to its last bits (XLA fuses the product into the sampler,
    whose rounding then depends on the surrounding program: eager, jitted, inside a transform)."""
    assert jax.tree_util.tree_structure(actual) == jax.tree_util.tree_structure(expected)
    for a, e in zip(jax.tree_util.tree_leaves(actual), jax.tree_util.tree_leaves(expected)):
        assert a.shape == e.shape and a.dtype == e.dtype
        if scaled:
            np.testing.assert_allclose(np.asarray(a), e, rtol=3e-7, atol=0)
        else:
            np.testing.assert_array_equal(np.asarray(a), e)


@pytest.mark.parametrize("std", [1.0, 0.3])
def test_layout_is_one_flat_draw_cut_in_flatten_order(std):
    key = jax.random.key(11)
    _assert_trees_equal(gaussian_noise_like(key, TREE, std), _reference(key, TREE, std),
                        scaled=std != 1.0)
    # the same under jit, with a traced std
    jitted = jax.jit(gaussian_noise_like)(key, TREE, jnp.float32(std))
    _assert_trees_equal(jitted, _reference(key, TREE, std), scaled=std != 1.0)


def test_moments_by_monte_carlo():
    std = 0.7
    tree = {"w": jnp.zeros((300, 200)), "v": jnp.zeros(20_000)}
    draws = np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(
        gaussian_noise_like(jax.random.key(0), tree, std))]).astype(np.float64)
    n = draws.size
    assert abs(draws.mean()) < 4 * std / np.sqrt(n)
    assert abs(draws.var() - std**2) < 4 * std**2 * np.sqrt(2 / n)
    # Gaussian, not merely the right variance: 68.27 % within one standard deviation
    assert abs(np.mean(np.abs(draws) < std) - 0.6827) < 4 * np.sqrt(0.6827 * 0.3173 / n)
    # the leaves are different pieces of the draw, not one slice repeated
    w, v = np.ravel(np.asarray(gaussian_noise_like(jax.random.key(0), tree)["w"]))[:20_000], \
        np.asarray(gaussian_noise_like(jax.random.key(0), tree)["v"])
    assert abs(np.corrcoef(w, v)[0, 1]) < 4 / np.sqrt(v.size)


def test_leaf_dtypes_are_kept_and_std_zero_is_silent():
    tree = {"h": jnp.zeros(4, jnp.bfloat16), "f": jnp.zeros(3)}
    noise = gaussian_noise_like(jax.random.key(2), tree, 2.0)
    assert noise["h"].dtype == jnp.bfloat16 and noise["f"].dtype == jnp.float32
    reference = _reference(jax.random.key(2), tree, 2.0)
    np.testing.assert_array_equal(np.asarray(noise["h"], np.float32),
                                  reference["h"].astype(jnp.bfloat16).astype(np.float32))
    zero = gaussian_noise_like(jax.random.key(2), tree, 0.0)
    assert all(not np.any(np.asarray(leaf, np.float32)) for leaf in jax.tree_util.tree_leaves(zero))


@pytest.mark.parametrize("std", [-1.0, float("nan"), float("inf")])
def test_invalid_std_is_a_value_error_naming_it(std):
    with pytest.raises(ValueError, match="std"):
        gaussian_noise_like(jax.random.key(0), TREE, std)


def test_alu_step_noise_draws_the_layout_from_fold_in_key_step():
    key = jax.random.key(5)
    for step in (0, 3):
        _assert_trees_equal(step_noise(key, step, TREE),
                            _reference(jax.random.fold_in(key, step), TREE))


def test_langevin_noise_draws_the_layout_from_fold_in_key_count():
    step_size, sigma = 0.1, 0.5
    tx = add_langevin_noise(step_size, sigma, key=3)
    state = tx.init(TREE)
    scale = np.float32(np.sqrt(np.float32(2.0 * step_size))) * np.float32(sigma)
    for count in range(2):
        noise, state = tx.update(TREE, state)  # the updates are zeros: the update is the noise
        _assert_trees_equal(noise, _reference(jax.random.fold_in(jax.random.key(3), count),
                                              TREE, scale), scaled=True)


def test_output_perturbation_draws_the_layout_from_its_seed_once():
    """Bit-identical to the unit draw scaled by σ in float32 (the program it compiled before the
    noise was unified)."""
    tx = output_perturbation(0.3, at_step=1, seed=3)
    state = tx.init(TREE)
    for step in range(3):
        noise, state = jax.jit(tx.update)(TREE, state)
        if step == 1:
            _assert_trees_equal(noise, _reference(jax.random.key(3), TREE, 0.3))
        else:
            _assert_trees_equal(noise, jax.tree_util.tree_map(np.asarray, TREE))


def test_projection_norm_is_optax_tree_norm_in_float32():
    from jaxunlearn.alu.clipping import tree_norm
    from jaxunlearn.transforms.langevin import global_norm

    tree = {"a": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(4, jnp.bfloat16)}
    expected = np.sqrt(sum(np.sum(np.square(np.asarray(leaf, np.float64)))
                           for leaf in jax.tree_util.tree_leaves(tree)))
    assert float(global_norm(tree)) == pytest.approx(expected, rel=1e-6)
    assert float(tree_norm({"a": tree["a"]})) == pytest.approx(np.sqrt(55.0), rel=1e-6)
    assert float(global_norm(tree)) == float(optax.tree.norm(
        jax.tree_util.tree_map(lambda leaf: leaf.astype(jnp.float32), tree)))
