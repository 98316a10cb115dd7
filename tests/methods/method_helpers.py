"""Helpers shared by the methods tests (imported by the test modules beside this file)."""

import jax
import numpy as np

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import load_digits, make_splits
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import train


def leaves(tree) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(tree)]


def identical(first, second) -> bool:
    """Bit-for-bit equality of two pytrees of arrays."""
    return all(np.array_equal(a, b) for a, b in zip(leaves(first), leaves(second)))


def assert_trees_close(first, second, *, rtol: float, atol: float) -> None:
    """Leaf-by-leaf ``assert_allclose`` of two pytrees of arrays (a pool model against its run
    alone, up to the batched computation's reassociation)."""
    for a, b in zip(leaves(first), leaves(second)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def mlp_logits_float64(params, inputs) -> np.ndarray:
    """The MLP's logits in NumPy float64 from its parameters (flatten, Dense-ReLU..., head)."""
    hidden = np.asarray(inputs, np.float64).reshape(len(inputs), -1)
    layers = sorted(name for name in params if name.startswith("hidden_"))
    for name in layers + ["head"]:
        hidden = hidden @ np.asarray(params[name]["kernel"], np.float64)
        hidden = hidden + np.asarray(params[name]["bias"], np.float64)
        if name != "head":
            hidden = np.maximum(hidden, 0.0)
    return hidden


def trained_digits_mlp(hidden_sizes, epochs):
    """An MLP trained on the whole digits training set: ``(fns, variables, train_set, test_set)``."""
    train_set, test_set = load_digits()
    fns = create_model_fns("mlp", 10, hidden_sizes=hidden_sizes)
    variables = fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    config = TrainConfig(epochs=epochs, batch_size=64, learning_rate=0.05)
    variables = train(fns.apply, variables, train_set, config, progress=False).variables
    return fns, variables, train_set, test_set


def class_three_logistic():
    """``(fns, variables, splits)``: softmax regression at a random start, and the first 240
    digits with class 3 forgotten (UAM's and ℓ2-UL's float64 replays)."""
    train_set, test_set = load_digits()
    splits = make_splits(train_set.subset(np.arange(240)), test_set, forget_classes=[3], seed=0)
    fns = create_model_fns("logistic_regression", 10)
    variables = fns.init(jax.random.key(1), np.asarray(train_set.inputs[:1]))
    return fns, variables, splits
