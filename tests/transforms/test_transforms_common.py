"""Every add-on through the same checks: jit, chaining with sgd/adam, extra args routed through
``optax.chain`` and ignored by others, ``inject_hyperparams``, vmap over a leading model axis,
jit/no-jit equality, and an Orbax round trip of the state."""

import importlib
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

from transform_harness import example_params, example_updates, stack

_HERE = pathlib.Path(__file__).parent
CASES = [
    case
    for path in sorted(_HERE.glob("cases_*.py"))
    for case in importlib.import_module(path.stem).CASES
]
IDS = [case.name for case in CASES]


def _assert_trees_close(a, b, **tolerance):
    jax.tree_util.tree_map(lambda x, y: np.testing.assert_allclose(x, y, **tolerance), a, b)


def _finite(tree):
    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))


def test_cases_were_collected():
    assert CASES, "no cases_*.py modules found"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_matches_eager(case):
    params = example_params()
    updates = example_updates(jax.random.key(1))
    extra = case.extra_args(params, jax.random.key(2))
    tx = case.make()
    assert isinstance(tx, optax.GradientTransformationExtraArgs)
    state = tx.init(params)
    eager, eager_state = tx.update(updates, state, params, **extra)
    jitted, jitted_state = jax.jit(lambda u, s, p, e: tx.update(u, s, p, **e))(
        updates, jax.jit(tx.init)(params), params, extra
    )
    assert _finite(eager)
    assert jax.tree_util.tree_structure(eager) == jax.tree_util.tree_structure(updates)
    _assert_trees_close(eager, jitted, rtol=1e-5, atol=1e-6)
    assert jax.tree_util.tree_structure(eager_state) == jax.tree_util.tree_structure(jitted_state)


@pytest.mark.parametrize("optimizer", [optax.sgd(0.1), optax.adam(1e-2)], ids=["sgd", "adam"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_chains_with_optimizers_and_routes_extra_args(case, optimizer):
    params = example_params()
    # a transform that takes no extra args sits in the same chain: it must ignore them
    tx = optax.chain(optax.clip_by_global_norm(10.0), case.make(), optimizer)
    state = tx.init(params)

    @jax.jit
    def step(params, state, key):
        updates = example_updates(key)
        extra = case.extra_args(params, jax.random.fold_in(key, 1))
        updates, state = tx.update(updates, state, params, **extra, unrelated_extra_arg=1.0)
        return optax.apply_updates(params, updates), state

    for i in range(3):
        params, state = step(params, state, jax.random.key(10 + i))
    assert _finite(params)


@pytest.mark.parametrize("case", [c for c in CASES if c.inject is not None],
                         ids=[c.name for c in CASES if c.inject is not None])
def test_inject_hyperparams(case):
    factory, hyperparams = case.inject
    params = example_params()
    updates = example_updates(jax.random.key(1))
    extra = case.extra_args(params, jax.random.key(2))
    injected = optax.inject_hyperparams(factory)(**hyperparams)
    plain = factory(**hyperparams)
    out_injected, state = jax.jit(lambda s: injected.update(updates, s, params, **extra))(
        injected.init(params)
    )
    out_plain, _ = plain.update(updates, plain.init(params), params, **extra)
    _assert_trees_close(out_injected, out_plain, rtol=1e-5, atol=1e-6)
    name = next(iter(k for k, v in hyperparams.items() if isinstance(v, (int, float))
                     and not isinstance(v, bool)))
    assert name in state.hyperparams


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vmap_over_a_leading_model_axis(case):
    models = 3
    params = stack([example_params(jax.random.key(i)) for i in range(models)])
    updates = stack([example_updates(jax.random.key(10 + i)) for i in range(models)])
    keys = jax.random.split(jax.random.key(5), models)
    tx = case.make()
    state = jax.vmap(tx.init)(params)

    def one(u, s, p, k):
        return tx.update(u, s, p, **case.extra_args(p, k))

    batched, _ = jax.jit(jax.vmap(one))(updates, state, params, keys)
    for i in range(models):
        take = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[i], tree)
        single, _ = one(take(updates), tx.init(take(params)), take(params), keys[i])
        _assert_trees_close(take(batched), single, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_survives_an_orbax_round_trip(case, tmp_path):
    params = example_params()
    tx = case.make()
    state = tx.init(params)
    for i in range(2):
        extra = case.extra_args(params, jax.random.key(20 + i))
        _, state = tx.update(example_updates(jax.random.key(i)), state, params, **extra)
    if not jax.tree_util.tree_leaves(state):
        # a stateless transform: nothing to save (Orbax refuses empty items); inside a chain
        # its EmptyState sits next to the others' leaves and round-trips with them
        tx = optax.chain(tx, optax.sgd(0.1, momentum=0.9))
        state = tx.init(params)
        _, state = tx.update(example_updates(jax.random.key(3)), state, params, **extra)
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(tmp_path / "state", state)
        checkpointer.wait_until_finished()
        restored = checkpointer.restore(tmp_path / "state", state)
    _assert_trees_close(restored, state, rtol=0, atol=0)
    extra = case.extra_args(params, jax.random.key(99))
    updates = example_updates(jax.random.key(7))
    _assert_trees_close(
        tx.update(updates, restored, params, **extra)[0],
        tx.update(updates, state, params, **extra)[0],
        rtol=0, atol=0,
    )
