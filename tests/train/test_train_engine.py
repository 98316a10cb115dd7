"""The engine's pieces: named keys, the one loop, the one step's terms (jaxunlearn.train)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.train import keys
from jaxunlearn.train.core import Batch, Term, TermContext, apply_terms, gather_batch, update
from jaxunlearn.train.loop import EpochOrders, run_loop
from jaxunlearn.train.steps import TrainState


def test_named_keys_are_the_documented_derivations():
    run = jax.random.key_data(jax.random.key(5))
    raw = jax.random.wrap_key_data(run)
    same = lambda a, b: np.testing.assert_array_equal(jax.random.key_data(a),  # noqa: E731
                                                      jax.random.key_data(b))
    same(keys.order_key(run, 3), jax.random.fold_in(jax.random.fold_in(raw, 0x0DA7A), 3))
    step = keys.step_key(run, 11)
    same(step, jax.random.fold_in(raw, 11))
    augment_key, dropout_key = keys.train_batch_keys(step)
    same(augment_key, jax.random.split(jax.random.fold_in(raw, 11))[0])
    same(dropout_key, jax.random.split(jax.random.fold_in(raw, 11))[1])
    augment_key, term_key = keys.term_keys(step, 1)
    same(term_key, jax.random.fold_in(step, 1))
    same(augment_key, jax.random.fold_in(jax.random.fold_in(step, 1), 7))
    np.testing.assert_array_equal(keys.stream_key(run, keys.RETAIN_STREAM),
                                  jax.random.key_data(jax.random.fold_in(raw, 2)))
    init_key, run_key = keys.pool_model_keys(run)
    same(init_key, jax.random.fold_in(raw, 0))
    np.testing.assert_array_equal(run_key, jax.random.key_data(jax.random.fold_in(raw, 1)))
    # a typed key and its raw data give the same derivations
    same(keys.step_key(raw, 4), keys.step_key(run, 4))


class _Bar:
    disable = True

    def __init__(self):
        self.n = 0

    def update(self, count):
        self.n += count

    def set_postfix(self, *args, **kwargs):
        raise AssertionError("a disabled bar shows nothing")


def test_run_loop_sums_each_epoch_and_makes_each_stream_order_once_per_its_epoch():
    made = []

    def maker(name):
        def make(epoch):
            made.append((name, epoch))
            return f"{name}{epoch}"
        return make

    seen = []

    def step_fn(state, first, second, scale):
        seen.append((first, second))
        return state + 1, {"loss": jnp.float32(scale * (state + 1))}

    epochs, after = [], []
    bar = _Bar()
    final = run_loop(step_fn, 0, (2.0,), start=0, total_steps=7, per_epoch=3, bar=bar,
                     orders=EpochOrders([(maker("a"), 3), (maker("b"), 2)]),
                     on_epoch=lambda done, state, sums, count: epochs.append(
                         (done, state, float(sums["loss"]), count)),
                     after_step=lambda done, state, metrics, sums, count, end: after.append(
                         (done, end, count)))
    assert final == 7 and bar.n == 7
    # stream a: epochs of 3 steps; stream b: epochs of 2 steps (cycling independently)
    assert seen == [("a0", "b0"), ("a0", "b0"), ("a0", "b1"), ("a1", "b1"), ("a1", "b2"),
                    ("a1", "b2"), ("a2", "b3")]
    assert made == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("b", 2), ("a", 2), ("b", 3)]
    # sums of 2 * step over each epoch: steps 1-3, 4-6, and the last partial epoch 7
    assert epochs == [(3, 3, 12.0, 3), (6, 6, 30.0, 3), (7, 7, 14.0, 1)]
    assert [a[1] for a in after] == [False, False, True, False, False, True, True]
    assert [a[2] for a in after] == [1, 2, 0, 1, 2, 0, 0]


def test_run_loop_resumes_an_unfinished_epoch_from_its_sums():
    epochs = []
    run_loop(lambda state, order: (state + 1, {"loss": jnp.float32(1.0)}), 4, (), start=4,
             total_steps=6, per_epoch=3, bar=_Bar(), orders=EpochOrders([(lambda e: e, 3)]),
             on_epoch=lambda done, state, sums, count: epochs.append((done, float(sums["loss"]),
                                                                     count)),
             sums={"loss": jnp.float32(10.0)}, count=1)
    assert epochs == [(6, 12.0, 3)]


def _quadratic_term(target):
    def term(params, model_state, batch, context):
        residual = params["w"] - target * batch.inputs.sum()
        return 0.5 * jnp.sum(residual ** 2), model_state
    return term


def test_apply_terms_sums_the_active_terms_gradients_and_zeroes_an_inactive_nan():
    params = {"w": jnp.asarray([1.0, -2.0, 0.5])}
    batch = Batch(jnp.ones((2, 1)), jnp.zeros(2, jnp.int32), jnp.ones(2), jnp.arange(2))
    context = TermContext(None, {}, {}, jax.random.key(0), jnp.int32(0), 1, 2)
    terms = [Term("forget", _quadratic_term(1.0)), Term("retain", _quadratic_term(-3.0))]
    grads, _, extra, metrics = apply_terms(terms, [batch, batch], [context, context], params, {},
                                           active=[jnp.float32(1), jnp.float32(1)])
    w = np.asarray([1.0, -2.0, 0.5])
    # closed form: d/dw ½|w − 2a|² = w − 2a with a = 1 and −3
    np.testing.assert_allclose(np.asarray(extra["forget_grads"]["w"]), w - 2.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(grads["w"]), (w - 2.0) + (w + 6.0), rtol=1e-6)
    np.testing.assert_allclose(float(metrics["retain_loss"]), 0.5 * np.sum((w + 6.0) ** 2),
                               rtol=1e-6)

    def nan_term(params, model_state, batch, context):
        return jnp.sum(jnp.sqrt(params["w"] - 10.0)), model_state  # NaN value and gradient

    grads, _, extra, _ = apply_terms([Term("forget", nan_term), terms[1]], [batch, batch],
                                     [context, context], params, {},
                                     active=[jnp.float32(0), jnp.float32(1)])
    np.testing.assert_array_equal(np.asarray(extra["forget_grads"]["w"]), 0.0)
    np.testing.assert_allclose(np.asarray(grads["w"]), w + 6.0, rtol=1e-6)


def test_gather_weighs_padding_zero_and_update_is_the_optax_step():
    order = jnp.asarray([3, 1, 0, 2, 3, 1])
    inputs = jnp.arange(8.0).reshape(4, 2)
    batch = gather_batch(order, 1, 3, 4, inputs, jnp.arange(4), jax.random.key(0), None)
    np.testing.assert_array_equal(np.asarray(batch.indices), [2, 3, 1])
    np.testing.assert_array_equal(np.asarray(batch.weights), [1.0, 0.0, 0.0])  # positions 3-5 ≥ 4
    np.testing.assert_array_equal(np.asarray(batch.inputs), [[4.0, 5.0], [6.0, 7.0], [2.0, 3.0]])

    tx = optax.sgd(0.5, momentum=0.9)
    params = {"w": jnp.asarray([1.0, 2.0])}
    state = TrainState(jnp.int32(4), params, {}, tx.init(params), jnp.zeros(2, jnp.uint32))
    new = update(tx, state, {"w": jnp.asarray([0.2, -0.4])}, {})
    assert int(new.step) == 5
    np.testing.assert_allclose(np.asarray(new.params["w"]), [1.0 - 0.1, 2.0 + 0.2], rtol=1e-6)


def test_epoch_orders_reuses_an_order_within_its_epoch():
    calls = []
    orders = EpochOrders([(lambda epoch: calls.append(epoch) or epoch, 4)])
    assert [orders(step)[0] for step in range(9)] == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert calls == [0, 1, 2]
