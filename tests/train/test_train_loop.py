"""The training loop against float64 NumPy gradient descent, and its bookkeeping."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import from_arrays
from jaxunlearn.losses import gradient_ascent_loss
from jaxunlearn.models import create_model_fns, from_linen
from jaxunlearn.train import epoch_order, predict_logits, train


def _problem(n=48, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((n, 2, 2, 1)).astype(np.float32)
    labels = rng.integers(0, classes, n).astype(np.int32)
    return from_arrays(inputs, labels, num_classes=classes)


def _kernel_and_bias(variables):
    leaves = jax.tree_util.tree_leaves(variables["params"])
    kernel = next(leaf for leaf in leaves if leaf.ndim == 2)
    bias = next(leaf for leaf in leaves if leaf.ndim == 1)
    return np.asarray(kernel, np.float64), np.asarray(bias, np.float64)


def _numpy_gradient_step(kernel, bias, x, y, lr, sign=1.0):
    logits = x @ kernel + bias
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    delta = probs.copy()
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    return kernel - sign * lr * x.T @ delta, bias - sign * lr * delta.sum(0)


@pytest.mark.parametrize("batch_size, ascent", [(48, False), (20, False), (48, True)])
def test_sgd_on_logistic_regression_matches_numpy_float64(batch_size, ascent):
    """Plain SGD steps equal NumPy GD on each batch's real examples (padding has weight 0)."""
    dataset = _problem()
    fns = create_model_fns("logistic_regression", 3)
    variables = fns.init(jax.random.key(3), jnp.asarray(dataset.inputs[:1]))
    config = TrainConfig(
        epochs=3, batch_size=batch_size, learning_rate=0.5, momentum=0.0, weight_decay=0.0,
        schedule="constant", augment=False, seed=7,
    )
    kwargs = {"loss_fn": gradient_ascent_loss} if ascent else {}
    result = train(fns.apply, variables, dataset, config, progress=False, **kwargs)

    kernel, bias = _kernel_and_bias(variables)
    x = dataset.inputs.reshape(len(dataset), -1).astype(np.float64)
    y = dataset.labels
    per_epoch = -(-len(dataset) // batch_size)
    key = result.state.key
    for epoch in range(3):
        order = np.asarray(epoch_order(key, epoch, len(dataset), batch_size))
        for position in range(per_epoch):
            start = position * batch_size
            batch = order[start : min(start + batch_size, len(dataset))]  # real examples only
            kernel, bias = _numpy_gradient_step(
                kernel, bias, x[batch], y[batch], 0.5, sign=-1.0 if ascent else 1.0
            )
    trained_kernel, trained_bias = _kernel_and_bias(result.variables)
    np.testing.assert_allclose(trained_kernel, kernel, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(trained_bias, bias, rtol=2e-4, atol=2e-5)
    assert int(result.state.step) == 3 * per_epoch
    assert len(result.history) == 3


def test_epoch_order_is_a_permutation_padded_by_wrapping():
    key = jax.random.key_data(jax.random.key(0))
    order = np.asarray(epoch_order(key, 0, 10, 4))
    assert order.shape == (12,)
    assert sorted(order[:10]) == list(range(10))
    np.testing.assert_array_equal(order[10:], order[:2])
    again = np.asarray(epoch_order(key, 0, 10, 4))
    other_epoch = np.asarray(epoch_order(key, 1, 10, 4))
    np.testing.assert_array_equal(order, again)
    assert not np.array_equal(order, other_epoch)


def test_training_learns_and_is_reproducible_and_keeps_caller_variables():
    rng = np.random.default_rng(1)
    inputs = rng.standard_normal((256, 4, 4, 1)).astype(np.float32)
    labels = (inputs.mean(axis=(1, 2, 3)) > 0).astype(np.int32)
    dataset = from_arrays(inputs, labels, num_classes=2)
    fns = create_model_fns("mlp", 2, hidden_sizes=(32,))
    variables = fns.init(jax.random.key(0), jnp.asarray(inputs[:1]))
    before = jax.tree_util.tree_map(np.asarray, variables)
    config = TrainConfig(epochs=15, batch_size=32, learning_rate=0.1, schedule="constant")
    first = train(fns.apply, variables, dataset, config, progress=False)
    second = train(fns.apply, variables, dataset, config, progress=False)
    # the step donates its state, but the caller's variables must survive
    jax.tree_util.tree_map(np.testing.assert_array_equal, before, variables)
    jax.tree_util.tree_map(np.testing.assert_array_equal, first.variables, second.variables)
    assert first.history[-1]["loss"] < first.history[0]["loss"]
    logits = predict_logits(fns.apply, first.variables, inputs)
    assert (logits.argmax(1) == labels).mean() > 0.9
    third = train(fns.apply, variables, dataset, TrainConfig(
        epochs=15, batch_size=32, learning_rate=0.1, schedule="constant", seed=1), progress=False)
    assert not np.array_equal(
        np.asarray(jax.tree_util.tree_leaves(third.variables)[0]),
        np.asarray(jax.tree_util.tree_leaves(first.variables)[0]),
    )


def test_steps_override_epochs_and_batch_norm_state_updates():
    class WithNorm(nn.Module):
        @nn.compact
        def __call__(self, x, train=False):
            x = nn.BatchNorm(use_running_average=not train)(x.reshape(x.shape[0], -1))
            return nn.Dense(2)(x)

    dataset = _problem(n=40, classes=2)
    fns = from_linen(WithNorm())
    variables = fns.init(jax.random.key(0), jnp.asarray(dataset.inputs[:2]))
    result = train(fns.apply, variables, dataset, TrainConfig(steps=5, batch_size=8), progress=False)
    assert int(result.state.step) == 5
    mean_before = jax.tree_util.tree_leaves(variables["batch_stats"])[0]
    mean_after = jax.tree_util.tree_leaves(result.variables["batch_stats"])[0]
    assert not np.allclose(mean_before, mean_after)


def test_bad_inputs_fail_before_training():
    dataset = _problem()
    fns = create_model_fns("logistic_regression", 3)
    variables = fns.init(jax.random.key(0), jnp.asarray(dataset.inputs[:1]))
    with pytest.raises(ValueError, match="dataset"):
        train(fns.apply, variables, dataset.subset(np.array([], dtype=np.int64)), TrainConfig(),
              progress=False)
    with pytest.raises(ValueError, match="variables"):
        train(fns.apply, {"weights": 1}, dataset, TrainConfig(batch_size=8), progress=False)
