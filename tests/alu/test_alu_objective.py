"""The private/public data, the weights of the ALU objective, deletions, and the sensitivity the
certificates assume (the clipped gradients of D and D′ never differ by more than Δ)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.alu import (
    alu_data,
    alu_objective,
    delete_private,
    linear_params,
    logistic_loss,
)
from jaxunlearn.alu.clipping import clipped_value_and_grad
from jaxunlearn.alu.objective import example_weights
from jaxunlearn.certify import gradient_sensitivity


def _rows(n, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)) * rng.uniform(0.3, 3.0, (n, 1))
    return x.astype(np.float32), rng.choice([-1, 1], n).astype(np.int32)


def test_uniform_and_weighted_weights():
    public, active = np.array([0, 0, 0, 0, 1, 1], bool), np.ones(6, bool)
    np.testing.assert_allclose(example_weights(public, active), np.full(6, 1 / 6), rtol=1e-6)
    np.testing.assert_allclose(example_weights(public, active, 0.25),
                               [0.1875] * 4 + [0.125] * 2, rtol=1e-6)
    active[1] = False
    np.testing.assert_allclose(example_weights(public, active), [0.2, 0, .2, .2, .2, .2],
                               rtol=1e-6)
    np.testing.assert_allclose(example_weights(public, active, 0.25),
                               [0.25, 0, 0.25, 0.25, 0.125, 0.125], rtol=1e-6)


@pytest.mark.parametrize("weighting", ["uniform", 0.4])
def test_objective_is_the_weighted_sum_plus_the_regulariser(weighting):
    xp, yp = _rows(5)
    xq, yq = _rows(3, seed=1)
    data = alu_data(xp, yp, xq, yq, weighting)
    w = np.array([0.5, -1.0, 2.0])
    losses = np.logaddexp(0.0, -np.concatenate([yp, yq]) * (np.concatenate([xp, xq]) @ w))
    a = np.full(8, 1 / 8) if weighting == "uniform" else np.array([0.12] * 5 + [0.4 / 3] * 3)
    expected = a @ losses + 0.5 * 0.2 * w @ w
    got = alu_objective(logistic_loss, linear_params(3, w), data, 0.2)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_replacement_keeps_the_size_and_changes_only_the_requested_rows():
    xp, yp = _rows(6)
    data = alu_data(xp, yp, *_rows(4, seed=1))
    unit = alu_data(xp / np.linalg.norm(xp, axis=1, keepdims=True), yp)
    updated = delete_private(unit, [1, 4], seed=0)
    changed = np.any(np.asarray(updated.inputs) != np.asarray(unit.inputs), axis=1)
    assert changed.tolist() == [False, True, False, False, True, False]
    np.testing.assert_allclose(np.linalg.norm(np.asarray(updated.inputs), axis=1), 1.0,
                               rtol=1e-5)  # replacement rows have the mean norm, 1 here
    assert set(np.asarray(updated.labels).tolist()) <= {-1, 1}
    np.testing.assert_array_equal(updated.weights, unit.weights)
    given = delete_private(data, [0], replacement=(np.zeros((1, 3)), np.array([1])))
    assert np.all(np.asarray(given.inputs)[0] == 0) and int(given.labels[0]) == 1
    assert given.weighting == data.weighting and len(given) == len(data)


def test_removal_zeroes_the_weights_and_renormalises():
    data = alu_data(*_rows(4), *_rows(2, seed=1), weighting=0.5)
    updated = delete_private(data, [2], adjacency="remove")
    np.testing.assert_allclose(updated.weights, [1 / 6, 1 / 6, 0, 1 / 6, 0.25, 0.25], rtol=1e-6)
    assert updated.num_private == 3 and updated.num_public == 2
    with pytest.raises(ValueError, match="already removed"):
        delete_private(updated, [2], adjacency="remove")


@pytest.mark.parametrize("kwargs, pattern", [
    ({"indices": [4]}, "public rows"),
    ({"indices": [0, 0]}, "distinct"),
    ({"indices": [9]}, r"lie in \[0, 6\)"),
    ({"indices": []}, "at least one row"),
    ({"indices": [0], "adjacency": "forget"}, "adjacency must be one of"),
])
def test_bad_deletions(kwargs, pattern):
    data = alu_data(*_rows(4), *_rows(2, seed=1))
    indices = kwargs.pop("indices")
    with pytest.raises(ValueError, match=pattern):
        delete_private(data, indices, **kwargs)


@pytest.mark.parametrize("weighting, pattern", [
    ("equal", "weighting must be 'uniform' or a public weight"),
    (1.0, "weighting must be 'uniform' or a public weight"),
    (True, "weighting must be 'uniform' or a public weight"),
])
def test_bad_weighting(weighting, pattern):
    with pytest.raises(ValueError, match=pattern):
        alu_data(*_rows(4), weighting=weighting)


def test_public_weight_without_public_rows():
    with pytest.raises(ValueError, match="no public row"):
        alu_data(*_rows(4), weighting=0.3)
    assert alu_data(*_rows(4), weighting=0.0).num_public == 0


@pytest.mark.parametrize("weighting", ["uniform", 0.6])
@pytest.mark.parametrize("adjacency", ["replace", "remove"])
@pytest.mark.parametrize("regularizer", ["inside", "after"])
def test_clipped_gradients_of_neighbours_differ_by_at_most_the_sensitivity(
        weighting, adjacency, regularizer):
    xp, yp = _rows(10)
    xq, yq = _rows(30, seed=1)
    data = alu_data(xp, yp, xq, yq, weighting)
    updated = delete_private(data, [0, 3, 7], adjacency=adjacency, seed=1)
    bound = gradient_sensitivity(3, 0.5, 10, 30, None if weighting == "uniform" else weighting,
                                 adjacency)
    gradient = jax.jit(clipped_value_and_grad, static_argnums=(0, 5))
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(20):
        params = linear_params(3, rng.normal(size=3) * 3)
        grads = [gradient(logistic_loss, params, (d.inputs, d.labels), 0.5, 0.05, regularizer,
                          d.weights)[1]["w"] for d in (data, updated)]
        worst = max(worst, float(jnp.linalg.norm(grads[0] - grads[1])))
    assert 0.2 * bound < worst <= bound * (1 + 1e-5)
