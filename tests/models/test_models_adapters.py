"""ModelFns adapters: Linen and NNX modules as pure, jittable, differentiable functions."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxunlearn.models import (
    ModelFns,
    count_params,
    create_model_fns,
    from_linen,
    from_nnx,
)

INPUTS = jax.random.normal(jax.random.key(42), (2, 4), jnp.float32)


def _tree_allclose(left, right, **tolerances) -> None:
    assert jax.tree.structure(left) == jax.tree.structure(right)
    for a, b in zip(jax.tree.leaves(left), jax.tree.leaves(right)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **tolerances)


def _raw(leaf: jax.Array) -> jax.Array:
    """The bits of a typed PRNG key, or ``leaf`` itself, for comparisons with NumPy."""
    if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(leaf)
    return leaf


def _all_finite_and_some_nonzero(tree) -> bool:
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]
    return all(np.all(np.isfinite(leaf)) for leaf in leaves) and any(
        np.any(leaf != 0) for leaf in leaves
    )


# --- Linen ---------------------------------------------------------------------------------


class LinenNormDropoutNet(nn.Module):
    """Dense -> BatchNorm -> ReLU -> Dropout -> Dense, called as ``module(x, train)``."""

    num_classes: int = 3

    @nn.compact
    def __call__(self, x, train: bool = False):
        hidden = nn.Dense(8, name="dense_in")(x)
        hidden = nn.BatchNorm(use_running_average=not train, momentum=0.9, name="norm")(hidden)
        hidden = nn.Dropout(0.5, deterministic=not train)(nn.relu(hidden))
        return nn.Dense(self.num_classes, name="dense_out")(hidden)


@pytest.fixture(scope="module")
def linen_model() -> tuple[ModelFns, dict]:
    model = from_linen(LinenNormDropoutNet())
    return model, model.init(jax.random.key(0), INPUTS)


def test_from_linen_init_returns_plain_dict_of_collections(linen_model):
    _, variables = linen_model
    assert type(variables) is dict
    assert set(variables) == {"params", "batch_stats"}
    # 4*8+8 and 8*3+3 dense weights and biases, BatchNorm scale and bias of 8.
    assert count_params(variables) == (4 * 8 + 8) + (8 * 3 + 3) + 2 * 8


def test_from_linen_matches_the_module_called_directly(linen_model):
    model, variables = linen_model
    module = LinenNormDropoutNet()
    logits, new_mutable = model.apply(variables, INPUTS, train=False)
    np.testing.assert_allclose(logits, module.apply(variables, INPUTS, train=False))
    _tree_allclose(new_mutable, {"batch_stats": variables["batch_stats"]}, rtol=0, atol=0)

    rng = jax.random.key(3)
    logits, new_mutable = model.apply(variables, INPUTS, train=True, rng=rng)
    expected, expected_state = module.apply(
        variables, INPUTS, train=True, rngs={"dropout": rng}, mutable=["batch_stats"]
    )
    np.testing.assert_allclose(logits, expected)
    _tree_allclose(new_mutable, dict(expected_state))


def test_from_linen_train_mode_updates_batch_stats_by_momentum(linen_model):
    model, variables = linen_model
    _, new_mutable = model.apply(variables, INPUTS, train=True, rng=jax.random.key(1))
    dense = variables["params"]["dense_in"]
    kernel, bias = np.asarray(dense["kernel"], np.float64), np.asarray(dense["bias"], np.float64)
    features = np.asarray(INPUTS, np.float64) @ kernel + bias
    stats = new_mutable["batch_stats"]["norm"]
    np.testing.assert_allclose(stats["mean"], 0.1 * features.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["var"], 0.9 + 0.1 * features.var(0), rtol=1e-5, atol=1e-6)


def test_from_linen_dropout_is_driven_by_rng(linen_model):
    model, variables = linen_model
    apply = jax.jit(model.apply, static_argnames="train")
    first, _ = apply(variables, INPUTS, True, jax.random.key(1))
    again, _ = apply(variables, INPUTS, True, jax.random.key(1))
    other, _ = apply(variables, INPUTS, True, jax.random.key(2))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_from_linen_is_jittable_and_differentiable(linen_model):
    model, variables = linen_model
    apply = jax.jit(model.apply, static_argnums=2)
    eager_logits, _ = model.apply(variables, INPUTS, False)
    jit_logits, _ = apply(variables, INPUTS, False)
    np.testing.assert_allclose(jit_logits, eager_logits, rtol=1e-6, atol=1e-6)

    def loss(params):
        logits, new_mutable = model.apply(
            {**variables, "params": params}, INPUTS, train=True, rng=jax.random.key(5)
        )
        return jnp.sum(logits**2), new_mutable

    grads, new_mutable = jax.jit(jax.grad(loss, has_aux=True))(variables["params"])
    assert jax.tree.structure(grads) == jax.tree.structure(variables["params"])
    assert _all_finite_and_some_nonzero(grads)
    assert set(new_mutable) == {"batch_stats"}


def test_stateless_linen_model_has_empty_new_mutable(model_cache):
    variables = model_cache.variables("logistic_regression")
    model = model_cache.fns("logistic_regression")
    for train in (False, True):
        _, new_mutable = model.apply(variables, model_cache.images, train)
        assert new_mutable == {}


def test_apply_rejects_a_traced_train_flag(linen_model):
    model, variables = linen_model
    with pytest.raises(TypeError, match="`train`"):
        jax.jit(model.apply)(variables, INPUTS, True)


def test_apply_rejects_variables_without_params(linen_model):
    model, variables = linen_model
    with pytest.raises(ValueError, match="`variables`"):
        model.apply({"batch_stats": variables["batch_stats"]}, INPUTS, False)


def test_create_model_fns_wraps_the_registered_module():
    model = create_model_fns("logistic_regression", 3)
    images = jnp.ones((2, 2, 2, 1))
    variables = jax.eval_shape(model.init, jax.random.key(0), images)
    assert set(variables) == {"params"}
    assert count_params(variables) == 4 * 3 + 3


def test_from_linen_rejects_non_modules():
    with pytest.raises(TypeError, match="`module`"):
        from_linen(lambda x: x)


# --- NNX -----------------------------------------------------------------------------------


class NNXNormNet(nnx.Module):
    """Linear -> BatchNorm -> ReLU -> Linear."""

    def __init__(self, rngs: nnx.Rngs):
        self.linear_in = nnx.Linear(4, 8, rngs=rngs)
        self.norm = nnx.BatchNorm(8, momentum=0.9, epsilon=1e-5, rngs=rngs)
        self.linear_out = nnx.Linear(8, 3, rngs=rngs)

    def __call__(self, x):
        return self.linear_out(nnx.relu(self.norm(self.linear_in(x))))


class NNXDropoutNet(nnx.Module):
    """Two Linear layers in an ``nnx.List`` with dropout between them."""

    def __init__(self, rngs: nnx.Rngs):
        self.layers = nnx.List([nnx.Linear(4, 16, rngs=rngs), nnx.Linear(16, 3, rngs=rngs)])
        self.dropout = nnx.Dropout(0.5, rngs=rngs)

    def __call__(self, x):
        return self.layers[1](self.dropout(nnx.relu(self.layers[0](x))))


def _nnx_params(module: nnx.Module) -> dict:
    return nnx.to_pure_dict(nnx.state(module, nnx.Param))


def test_from_nnx_factory_builds_with_the_given_key():
    model = from_nnx(NNXNormNet)
    variables = model.init(jax.random.key(0), INPUTS)
    assert set(variables) == {"params", "batch_stats"}
    _tree_allclose(variables["params"], _nnx_params(NNXNormNet(nnx.Rngs(jax.random.key(0)))))
    other = model.init(jax.random.key(1), INPUTS)
    assert not np.allclose(
        other["params"]["linear_in"]["kernel"], variables["params"]["linear_in"]["kernel"]
    )
    np.testing.assert_array_equal(variables["batch_stats"]["norm"]["var"], np.ones(8))
    assert count_params(variables) == (4 * 8 + 8) + (8 * 3 + 3) + 2 * 8


def test_from_nnx_built_module_init_returns_its_state_and_ignores_the_key():
    module = NNXNormNet(nnx.Rngs(3))
    model = from_nnx(module)
    first = model.init(jax.random.key(0), INPUTS)
    second = model.init(jax.random.key(1), INPUTS)
    _tree_allclose(first, second, rtol=0, atol=0)
    _tree_allclose(first["params"], _nnx_params(module), rtol=0, atol=0)


@pytest.mark.parametrize("wrap", ["factory", "module"])
def test_from_nnx_matches_the_module_called_directly(wrap):
    module = NNXNormNet(nnx.Rngs(0))
    model = from_nnx(NNXNormNet if wrap == "factory" else module)
    variables = model.init(jax.random.key(0), INPUTS)
    apply = jax.jit(model.apply, static_argnames="train")

    logits, new_mutable = apply(variables, INPUTS, train=False)
    module.eval()
    np.testing.assert_allclose(logits, module(INPUTS), rtol=1e-6, atol=1e-6)
    _tree_allclose(new_mutable, {"batch_stats": variables["batch_stats"]}, rtol=0, atol=0)

    logits, new_mutable = apply(variables, INPUTS, train=True)
    # The wrapped module itself is not touched by apply.
    np.testing.assert_array_equal(module.norm.mean[...], np.zeros(8))
    module.train()
    np.testing.assert_allclose(logits, module(INPUTS), rtol=1e-6, atol=1e-6)
    _tree_allclose(
        new_mutable,
        {"batch_stats": nnx.to_pure_dict(nnx.state(module, nnx.BatchStat))},
        rtol=1e-6,
        atol=1e-6,
    )


def test_from_nnx_train_mode_updates_batch_stats_by_momentum():
    model = from_nnx(NNXNormNet)
    variables = model.init(jax.random.key(0), INPUTS)
    _, new_mutable = model.apply(variables, INPUTS, train=True)
    linear = variables["params"]["linear_in"]
    kernel, bias = np.asarray(linear["kernel"], np.float64), np.asarray(linear["bias"], np.float64)
    features = np.asarray(INPUTS, np.float64) @ kernel + bias
    stats = new_mutable["batch_stats"]["norm"]
    np.testing.assert_allclose(stats["mean"], 0.1 * features.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["var"], 0.9 + 0.1 * features.var(0), rtol=1e-5, atol=1e-6)


def test_from_nnx_is_differentiable_with_respect_to_params():
    model = from_nnx(NNXNormNet)
    variables = model.init(jax.random.key(0), INPUTS)

    def loss(params):
        logits, new_mutable = model.apply({**variables, "params": params}, INPUTS, train=True)
        return jnp.sum(logits**2), new_mutable

    grads, new_mutable = jax.jit(jax.grad(loss, has_aux=True))(variables["params"])
    assert jax.tree.structure(grads) == jax.tree.structure(variables["params"])
    assert _all_finite_and_some_nonzero(grads)
    assert not np.allclose(new_mutable["batch_stats"]["norm"]["mean"], 0.0)


def test_from_nnx_dropout_state_advances_and_rng_reseeds():
    model = from_nnx(NNXDropoutNet)
    variables = model.init(jax.random.key(0), INPUTS)
    assert set(variables) == {"params", "rng_state"}
    apply = jax.jit(model.apply, static_argnames="train")

    first, new_mutable = apply(variables, INPUTS, train=True)
    assert set(new_mutable) == {"rng_state"}
    second, _ = apply({**variables, **new_mutable}, INPUTS, train=True)
    assert not np.allclose(first, second), "dropout mask repeated after threading rng_state"

    seeded, _ = apply(variables, INPUTS, True, jax.random.key(7))
    seeded_again, _ = apply({**variables, **new_mutable}, INPUTS, True, jax.random.key(7))
    other_seed, _ = apply(variables, INPUTS, True, jax.random.key(8))
    np.testing.assert_array_equal(seeded, seeded_again)
    assert not np.allclose(seeded, other_seed)

    eval_logits, eval_mutable = apply(variables, INPUTS, train=False)
    module = NNXDropoutNet(nnx.Rngs(jax.random.key(0)))
    module.eval()
    np.testing.assert_allclose(eval_logits, module(INPUTS), rtol=1e-6, atol=1e-6)
    assert set(eval_mutable) == {"rng_state"}
    _tree_allclose(
        jax.tree.map(_raw, eval_mutable["rng_state"]),
        jax.tree.map(_raw, variables["rng_state"]),
        rtol=0,
        atol=0,
    )


def test_from_nnx_accepts_string_list_indices_from_checkpoints():
    model = from_nnx(NNXDropoutNet)
    variables = model.init(jax.random.key(0), INPUTS)
    assert 0 in variables["params"]["layers"]
    restored = {
        **variables,
        "params": {"layers": {str(k): v for k, v in variables["params"]["layers"].items()}},
    }
    expected, _ = model.apply(variables, INPUTS, train=False)
    logits, _ = model.apply(restored, INPUTS, train=False)
    np.testing.assert_array_equal(logits, expected)


def test_from_nnx_reports_missing_variables():
    model = from_nnx(NNXNormNet)
    variables = model.init(jax.random.key(0), INPUTS)
    params = {**variables["params"]}
    del params["linear_out"]
    with pytest.raises(ValueError, match="linear_out"):
        model.apply({**variables, "params": params}, INPUTS, train=False)


def test_from_nnx_rejects_other_objects():
    with pytest.raises(TypeError, match="`module_or_factory`"):
        from_nnx(42)
    with pytest.raises(TypeError, match="`module_or_factory`"):
        from_nnx(lambda rngs: "not a module")
