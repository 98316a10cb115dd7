"""Boundary Expanding (Chen et al., CVPR 2023): one step of the widened network against a float64
NumPy backpropagation, the shadow row's initialisation by Monte Carlo, pruning, the vmapped pool
and the errors."""

import math

import jax
import numpy as np
import pytest

from jaxunlearn.data import load_digits, make_splits
from jaxunlearn.methods import get_method, unlearn, unlearn_many
from jaxunlearn.methods.boundary_expanding import SHADOW
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import stack_models

from method_helpers import trained_digits_mlp


@pytest.fixture(scope="module")
def problem():
    fns, variables, train_set, test_set = trained_digits_mlp((16,), epochs=3)
    splits = make_splits(train_set, test_set, forget_fraction=0.05, seed=1)
    return fns, variables, splits


def _widened_sgd_step_float64(params, shadow, inputs, learning_rate):
    """One SGD step on mean CE(softmax([h W2 + b2, h k + c]), C) over ``inputs``, h = relu(x W1 +
    b1): explicit backpropagation in float64. Returns the new (W1, b1, W2, b2)."""
    f64 = lambda a: np.asarray(a, np.float64)  # noqa: E731
    w1, b1 = f64(params["hidden_0"]["kernel"]), f64(params["hidden_0"]["bias"])
    w2, b2 = f64(params["head"]["kernel"]), f64(params["head"]["bias"])
    k, c = f64(shadow["kernel"]), f64(shadow["bias"])
    x = f64(inputs).reshape(len(inputs), -1)
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0.0)
    logits = np.concatenate([h @ w2 + b2, h @ k + c], axis=1)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    target = np.zeros_like(p)
    target[:, -1] = 1.0  # every forget sample labelled as the shadow class C
    d_logits = (p - target) / len(x)
    d_h = d_logits[:, :-1] @ w2.T + d_logits[:, -1:] @ k.T
    d_z1 = d_h * (z1 > 0)
    return (w1 - learning_rate * x.T @ d_z1, b1 - learning_rate * d_z1.sum(0),
            w2 - learning_rate * h.T @ d_logits[:, :-1], b2 - learning_rate * d_logits[:, :-1].sum(0))


def test_one_step_trains_the_widened_network_and_returns_it_pruned(problem):
    fns, variables, splits = problem
    size = len(splits.forget_indices)
    result = unlearn(fns, variables, splits, "boundary_expanding", steps=1, key=4, progress=False,
                     hyperparams={"learning_rate": 0.5, "momentum": 0.0,
                                  "forget_batch_size": size})
    # pruned: the original's structure, no shadow row
    assert jax.tree.structure(result.variables) == jax.tree.structure(variables)
    assert result.log["shadow_input_width"] == 16
    # the shadow row the run started from (its prepare draws it from the run's key)
    prepared = get_method("boundary_expanding").prepare(
        fns, variables, splits, get_method("boundary_expanding").hyperparameters(), 4)
    shadow = prepared.variables["params"][SHADOW]
    expected = _widened_sgd_step_float64(variables["params"], shadow,
                                         splits.forget_set.inputs, 0.5)
    got = result.variables["params"]
    for value, want in zip((got["hidden_0"]["kernel"], got["hidden_0"]["bias"],
                            got["head"]["kernel"], got["head"]["bias"]), expected):
        np.testing.assert_allclose(np.asarray(value, np.float64), want, rtol=2e-4, atol=2e-6)


def test_shadow_row_is_xavier_normal_with_zero_bias():
    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    fns = create_model_fns("mlp", 10, hidden_sizes=(4000,))
    variables = fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    method = get_method("boundary_expanding")
    shadow = method.prepare(fns, variables, splits, method.hyperparameters(), 0).variables[
        "params"][SHADOW]
    kernel = np.asarray(shadow["kernel"], np.float64)
    assert kernel.shape == (4000, 1) and np.all(np.asarray(shadow["bias"]) == 0.0)
    # std √(2 / (d + C + 1)); the sample std of 4000 draws is within 3 standard errors
    std = math.sqrt(2.0 / (4000 + 10 + 1))
    assert abs(kernel.std() - std) < 3 * std / math.sqrt(2 * 4000)
    assert abs(kernel.mean()) < 3 * std / math.sqrt(4000)


def test_pushes_the_forget_set_off_its_labels_and_a_pool_vmaps(problem):
    fns, variables, splits = problem
    hyper = {"learning_rate": 0.05, "epochs": 5, "forget_batch_size": 32}
    result = unlearn(fns, variables, splits, "boundary_expanding", key=0, progress=False,
                     hyperparams=hyper)
    logits = fns.apply(result.variables, splits.forget_set.inputs, False)[0]
    before = fns.apply(variables, splits.forget_set.inputs, False)[0]
    accuracy = lambda out: float(np.mean(np.argmax(out, -1) == splits.forget_set.labels))  # noqa
    assert accuracy(before) > 0.9 and accuracy(logits) < accuracy(before) - 0.2
    many = unlearn_many(fns, stack_models([variables, variables]), splits, "boundary_expanding",
                        keys=[0, 1], hyperparams=hyper, progress=False)
    assert many[0].log["vmapped"] is True
    assert SHADOW not in many.variables["params"]
    for a, b in zip(jax.tree.leaves(jax.tree.map(lambda leaf: leaf[0], many.variables)),
                    jax.tree.leaves(result.variables)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_bad_head_names_fail_before_anything_compiles(problem):
    fns, variables, splits = problem
    with pytest.raises(ValueError, match="head_name 'output'.*no Linen submodule"):
        unlearn(fns, variables, splits, "boundary_expanding", progress=False,
                hyperparams={"head_name": "output"})
    with pytest.raises(ValueError, match="head_name must be"):
        unlearn(fns, variables, splits, "boundary_expanding", progress=False,
                hyperparams={"head_name": ""})
    # logistic regression calls its output layer 'linear'
    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_fraction=0.05, seed=0)
    linear = create_model_fns("logistic_regression", 10)
    start = linear.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    result = unlearn(linear, start, splits, "boundary_expanding", steps=2, progress=False,
                     hyperparams={"head_name": "linear"})
    assert jax.tree.structure(result.variables) == jax.tree.structure(start)
