"""Per-example clipping against a float64 loop, the two regulariser conventions, and why clipping
the averaged gradient is not the same thing."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.alu.clipping import (
    clipped_value_and_grad,
    per_example_clipped_grad as _per_example_clipped_grad,
    per_example_value_and_clipped_grads,
)

# jitted: one compilation is cheaper than running the vmapped gradient op by op
per_example_clipped_grad = jax.jit(_per_example_clipped_grad, static_argnums=(0, 5))


def _loss(params, x, y):
    """Logistic loss of a linear model with a bias: two parameter leaves."""
    return jax.nn.softplus(-y * (jnp.dot(x, params["w"]) + params["b"]))


def _grad_float64(params, x, y):
    w, b = np.asarray(params["w"], np.float64), float(params["b"])
    s = 1.0 / (1.0 + np.exp(y * (x @ w + b)))  # σ(−y(xᵀw + b))
    return -y * s * x, -y * s


def _clip(vector, norm):
    length = np.linalg.norm(vector)
    return vector * min(1.0, norm / length) if length > 0 else vector


def _reference(params, xs, ys, clip_norm, m, regularizer, weights=None):
    """Σ_i a_i clip(g_i [+ mθ]) [+ mθ] with a loop in float64, θ = (w, b) flattened."""
    theta = np.concatenate([np.asarray(params["w"], np.float64), [float(params["b"])]])
    weights = np.full(len(ys), 1.0 / len(ys)) if weights is None else weights / weights.sum()
    total = np.zeros_like(theta)
    for x, y, a in zip(xs, ys, weights):
        g_w, g_b = _grad_float64(params, x, y)
        g = np.concatenate([g_w, [g_b]])
        if regularizer == "inside":
            g = g + m * theta
        total += a * _clip(g, clip_norm)
    if regularizer == "after":
        total += m * theta
    return total


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    xs = (rng.normal(size=(9, 4)) * rng.uniform(0.1, 4.0, (9, 1))).astype(np.float32)
    ys = rng.choice([-1.0, 1.0], 9).astype(np.float32)
    params = {"w": jnp.asarray(rng.normal(size=4), jnp.float32), "b": jnp.float32(0.3)}
    return params, xs, ys


def _flat(tree):
    return np.concatenate([np.asarray(tree["w"], np.float64), [float(tree["b"])]])


@pytest.mark.parametrize("regularizer", ["inside", "after"])
@pytest.mark.parametrize("weighted", [False, True])
def test_per_example_clipping_equals_a_float64_loop(problem, regularizer, weighted):
    params, xs, ys = problem
    weights = np.linspace(0.0, 2.0, len(ys)) if weighted else None
    got = per_example_clipped_grad(_loss, params, (xs, ys), 0.5, 0.7, regularizer,
                                   None if weights is None else jnp.asarray(weights))
    expected = _reference(params, xs, ys, 0.5, 0.7, regularizer, weights)
    np.testing.assert_allclose(_flat(got), expected, rtol=2e-5, atol=1e-6)
    # the clip is active for some examples but not for all: the test exercises both branches
    norms = [np.linalg.norm(np.concatenate([a, [b]])) for a, b in
             (_grad_float64(params, x, y) for x, y in zip(xs, ys))]
    assert min(norms) < 0.5 < max(norms)


def test_per_example_values_and_grads_have_an_example_axis(problem):
    params, xs, ys = problem
    losses, grads = jax.jit(per_example_value_and_clipped_grads, static_argnums=0)(
        _loss, params, (xs, ys), 0.5)
    assert losses.shape == (9,) and grads["w"].shape == (9, 4) and grads["b"].shape == (9,)
    norms = np.sqrt(np.sum(np.asarray(grads["w"]) ** 2, 1) + np.asarray(grads["b"]) ** 2)
    assert np.all(norms <= 0.5 + 1e-6)
    loss, _ = jax.jit(clipped_value_and_grad, static_argnums=0)(_loss, params, (xs, ys), 0.5)
    np.testing.assert_allclose(float(loss), np.mean(np.asarray(losses)), rtol=1e-6)


def test_regularizer_conventions_differ_only_when_clipping_is_active(problem):
    params, xs, ys = problem
    inside = _flat(per_example_clipped_grad(_loss, params, (xs, ys), 0.5, 0.7, "inside"))
    after = _flat(per_example_clipped_grad(_loss, params, (xs, ys), 0.5, 0.7, "after"))
    assert np.linalg.norm(inside - after) > 1e-2
    # "inside" bounds every term, the regulariser included: ‖g‖ ≤ M; "after" does not
    assert np.linalg.norm(inside) <= 0.5 + 1e-6 < np.linalg.norm(after)
    loose_inside = per_example_clipped_grad(_loss, params, (xs, ys), 1e6, 0.7, "inside")
    loose_after = per_example_clipped_grad(_loss, params, (xs, ys), 1e6, 0.7, "after")
    np.testing.assert_allclose(_flat(loose_inside), _flat(loose_after), rtol=1e-5, atol=1e-6)


def test_batch_level_clipping_is_not_per_example_clipping():
    """Two examples with gradients (3, 0) and (−0.5, 0), M = 1: per example the mean is
    (1 − 0.5)/2 = 0.25; clipping the mean (1.25 → 1) gives 1. Only the first bounds one
    example's influence by M."""
    loss = lambda w, x: jnp.dot(w, x)  # noqa: E731  gradient = x
    xs = jnp.array([[3.0, 0.0], [-0.5, 0.0]])
    per_example = per_example_clipped_grad(loss, jnp.zeros(2), (xs,), 1.0)
    np.testing.assert_allclose(np.asarray(per_example), [0.25, 0.0], atol=1e-7)
    mean = jax.grad(lambda w: jnp.mean(jax.vmap(lambda x: loss(w, x))(xs)))(jnp.zeros(2))
    batch_clipped, _ = optax.clip_by_global_norm(1.0).update(mean, optax.EmptyState())
    np.testing.assert_allclose(np.asarray(batch_clipped), [1.0, 0.0], atol=1e-7)


def test_zero_weights_remove_examples(problem):
    params, xs, ys = problem
    weights = jnp.asarray([1.0] * 5 + [0.0] * 4)
    masked = per_example_clipped_grad(_loss, params, (xs, ys), 0.5, 0.1, "inside", weights)
    subset = per_example_clipped_grad(_loss, params, (xs[:5], ys[:5]), 0.5, 0.1, "inside")
    np.testing.assert_allclose(_flat(masked), _flat(subset), rtol=1e-6, atol=1e-7)


def test_unknown_regularizer_is_a_value_error(problem):
    params, xs, ys = problem
    with pytest.raises(ValueError, match="regularizer must be one of"):
        _per_example_clipped_grad(_loss, params, (xs, ys), 1.0, 0.1, "before")
