"""Issue 18: the step's gradient statistics at the cost of their gradients.

Without mutable model state, the step takes a term's gradient as the weighted mean of its K
micro-batch gradients, computed together; with batch norm it keeps the batch gradient. Both are
checked against the sequential path that computes the batch gradient and the statistics
separately (and whose statistics tests/transforms check against float64 NumPy), on batches with
padding (weights 0)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.data import load_digits, make_splits
from jaxunlearn.methods import get_method
from jaxunlearn.methods.step import build_unlearn_step
from jaxunlearn.models import create_model_fns
from jaxunlearn.train.sharding import make_mesh
from jaxunlearn.train.steps import create_train_state, epoch_order


def _recorder() -> optax.GradientTransformationExtraArgs:
    """Keeps the gradient and the statistics the step hands the chain."""
    def init(params):
        return {"grads": params, **{f"{s}_{m}": params for s in ("forget", "retain")
                                    for m in ("mean", "m2")}}

    def update(updates, state, params=None, **extra):
        record = {"grads": updates}
        for stream in ("forget", "retain"):
            record[f"{stream}_mean"] = extra[f"{stream}_stats"].mean
            record[f"{stream}_m2"] = extra[f"{stream}_stats"].m2
        return updates, record

    return optax.GradientTransformationExtraArgs(init, update)


@pytest.mark.parametrize("model, method", [("mlp", "neggrad_plus"), ("mlp", "scrub"),
                                           ("small_cnn", "neggrad_plus")])
def test_fused_statistics_and_gradient_match_the_separate_computation(model, method):
    train_set, test_set = load_digits()
    train_set = train_set.subset(np.arange(150))
    splits = make_splits(train_set, test_set, forget_fraction=0.14, seed=0)  # 21 forget rows
    options = {"hidden_sizes": (16,)} if model == "mlp" else {}
    fns = create_model_fns(model, 10, **options)
    variables = fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    spec = get_method(method)
    hyper = spec.hyperparameters({"batch_size": 32, "forget_batch_size": 8})
    tx = optax.chain(_recorder(), optax.sgd(0.1))
    forget, retain = splits.forget_set, splits.retain_set
    key = jax.random.key_data(jax.random.key(1))
    # the last forget batch of the epoch is padded (21 = 2 × 8 + 5)
    orders = (epoch_order(key, 0, len(forget), 8)[None], epoch_order(key, 0, len(retain), 32)[None])
    arrays = (jnp.asarray(forget.inputs), jnp.asarray(forget.labels), jnp.asarray(retain.inputs),
              jnp.asarray(retain.labels), {})
    if method == "scrub":
        prepared = spec.prepare(fns, variables, splits, hyper, 0)
        arrays = arrays[:4] + (prepared.aux,)
    records = {}
    for parallel in (True, False):
        step = jax.jit(build_unlearn_step(
            spec, fns.apply, tx, hyper=hyper, num_forget=len(forget), num_retain=len(retain),
            num_classes=10, mesh=make_mesh(), stats_microbatches=4, stats_parallel=parallel))
        state = create_train_state(variables, tx, 0)
        for position in range(3):  # the third forget batch is the padded one
            state = state._replace(step=jnp.int32(position))
            new_state, _ = step(state, orders[0][0], orders[1][0], *arrays)
            records[parallel, position] = new_state.opt_state[0]
    for position in range(3):
        fused, separate = records[True, position], records[False, position]
        for name in fused:
            jax.tree_util.tree_map(
                lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6),
                fused[name], separate[name])
