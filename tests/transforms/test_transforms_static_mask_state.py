"""``static_mask`` keeps its mask in the Optax state: one update program serves every mask, so two
models' states, stacked, ``jax.vmap`` through a single transform (``unlearn_many``'s use)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.transforms import saliency_mask, static_mask
from jaxunlearn.transforms.saliency import StaticMaskState


def _masks():
    grads = [{"w": jax.random.normal(jax.random.key(seed), (4, 3)),
              "b": jax.random.normal(jax.random.key(seed + 10), (3,))} for seed in (0, 1)]
    return [saliency_mask(g, 0.5) for g in grads]


def test_init_stores_the_mask_and_update_reads_it_from_the_state():
    mask = _masks()[0]
    tx = static_mask(mask)
    state = tx.init(None)
    assert isinstance(state, StaticMaskState)
    assert jax.tree.structure(state.mask) == jax.tree.structure(mask)
    for got, want in zip(jax.tree.leaves(state.mask), jax.tree.leaves(mask)):
        np.testing.assert_array_equal(got, want)
    # the update follows the state, not the mask the transform was built with
    other = _masks()[1]
    updates = {"w": jnp.ones((4, 3)), "b": jnp.ones(3)}
    out, _ = tx.update(updates, StaticMaskState(other))
    for got, keep in zip(jax.tree.leaves(out), jax.tree.leaves(other)):
        np.testing.assert_array_equal(got, np.where(keep, 1.0, -0.0))
        np.testing.assert_array_equal(np.signbit(got), ~np.asarray(keep))


def test_one_update_vmapped_over_stacked_states_matches_each_models_own_chain():
    masks = _masks()
    assert any(not np.array_equal(a, b)
               for a, b in zip(jax.tree.leaves(masks[0]), jax.tree.leaves(masks[1])))
    params = [{"w": jnp.full((4, 3), 0.1 * m), "b": jnp.full((3,), -0.2 * m)} for m in (1, 2)]
    grads = [jax.tree.map(lambda leaf, m=m: jnp.sin(leaf + m), p) for m, p in enumerate(params)]
    chains = [optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.01, momentum=0.9),
                          static_mask(mask)) for mask in masks]
    states = [chain.init(p) for chain, p in zip(chains, params)]
    stack = lambda trees: jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)
    batched, batched_state = jax.jit(jax.vmap(chains[0].update))(
        stack(grads), stack(states), stack(params))
    for m, (chain, state) in enumerate(zip(chains, states)):
        own, own_state = jax.jit(chain.update)(grads[m], state, params[m])
        for got, want in zip(jax.tree.leaves(batched), jax.tree.leaves(own)):
            np.testing.assert_array_equal(np.asarray(got)[m], want)
        for got, want in zip(jax.tree.leaves(batched_state), jax.tree.leaves(own_state)):
            np.testing.assert_array_equal(np.asarray(got)[m], want)


def test_uniform_leaves_are_constants_and_an_all_ones_mask_is_the_identity():
    # a uniform leaf is applied as the constant it is (the state's copy is not read), so an
    # all-ones mask returns the updates bit for bit, inside a jitted chain too
    params = {"w": jnp.linspace(-1.0, 1.0, 12).reshape(4, 3), "b": jnp.array([0.3, -0.2, 0.1])}
    grads = jax.tree.map(jnp.cos, params)
    for ones in (jax.tree.map(jnp.ones_like, params),
                 jax.tree.map(lambda leaf: jnp.ones(leaf.shape, bool), params)):
        tx = optax.chain(optax.sgd(0.1, momentum=0.9), static_mask(ones))
        plain = optax.sgd(0.1, momentum=0.9)
        step = lambda tx, state: optax.apply_updates(params, tx.update(grads, state, params)[0])
        got = jax.jit(lambda: step(tx, tx.init(params)))()
        want = jax.jit(lambda: step(plain, plain.init(params)))()
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
            np.testing.assert_array_equal(a, b)
    tx = static_mask({"a": jnp.zeros(2, bool), "b": jnp.array([True, False])})
    state = StaticMaskState({"a": jnp.ones(2, bool), "b": jnp.array([False, True])})
    out, _ = tx.update({"a": jnp.ones(2), "b": jnp.ones(2)}, state)
    np.testing.assert_array_equal(out["a"], [-0.0, -0.0])  # the constant, not the state
    np.testing.assert_array_equal(out["b"], [-0.0, 1.0])  # the state


def test_bad_masks_raise_naming_the_mask():
    with pytest.raises(ValueError, match="mask has no leaves"):
        static_mask({})
    with pytest.raises(ValueError, match="mask must be finite"):
        static_mask({"a": jnp.array([1.0, jnp.nan])})
    tx = static_mask({"a": jnp.ones(2, bool)})
    with pytest.raises(ValueError, match="mask leaf of shape"):
        tx.update({"a": jnp.ones(3)}, tx.init(None))
    with pytest.raises(ValueError, match="updates have"):
        tx.update({"b": jnp.ones(2)}, tx.init(None))
    with pytest.raises(ValueError, match="state: its mask has structure"):
        tx.update({"a": jnp.ones(2)}, StaticMaskState({"b": jnp.ones(2, bool)}))
