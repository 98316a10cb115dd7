"""Gradient statistics against independent references: a float64 NumPy backprop loop, two-pass
variances, and simulation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.transforms.grad_stats import (
    GradStats,
    combine_stats,
    grad_stats_from_samples,
    microbatch_gradients,
    microbatch_mean_stats,
    per_example_grad_stats,
    split_microbatches,
)

N_EXAMPLES, N_IN, N_HIDDEN, N_CLASSES = 12, 3, 5, 4


def _tiny_mlp(seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "Dense_0": {"kernel": rng.normal(size=(N_IN, N_HIDDEN)),
                    "bias": 0.1 * rng.normal(size=N_HIDDEN)},
        "Dense_1": {"kernel": rng.normal(size=(N_HIDDEN, N_CLASSES)),
                    "bias": 0.1 * rng.normal(size=N_CLASSES)},
    }
    batch = {"x": rng.normal(size=(N_EXAMPLES, N_IN)),
             "y": rng.integers(0, N_CLASSES, size=N_EXAMPLES)}
    return params, batch


def _mlp_loss(params, example):
    hidden = jnp.tanh(example["x"] @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"])
    logits = hidden @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"]
    return -jax.nn.log_softmax(logits)[example["y"]]


def _numpy_per_example_grads(params, batch):
    """Backpropagation by hand, in float64, one example at a time."""
    grads = []
    for x, y in zip(batch["x"], batch["y"]):
        hidden = np.tanh(x @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"])
        logits = hidden @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        d_logits = probabilities - np.eye(N_CLASSES)[y]
        d_pre = (params["Dense_1"]["kernel"] @ d_logits) * (1 - hidden**2)
        grads.append({"Dense_0": {"kernel": np.outer(x, d_pre), "bias": d_pre},
                      "Dense_1": {"kernel": np.outer(hidden, d_logits), "bias": d_logits}})
    return grads


def _as_float32(tree):
    """Floats to float32 (what the model runs in), integer labels to int32."""
    def convert(a):
        return jnp.asarray(a, jnp.int32 if np.asarray(a).dtype.kind == "i" else jnp.float32)
    return jax.tree_util.tree_map(convert, tree)


@pytest.mark.parametrize("microbatch_size", [1, 4, None])
def test_per_example_stats_match_a_float64_loop(microbatch_size):
    params, batch = _tiny_mlp()
    grads = _numpy_per_example_grads(params, batch)
    stacked = jax.tree_util.tree_map(lambda *g: np.stack(g), *grads)
    expected_mean = jax.tree_util.tree_map(lambda g: g.mean(axis=0), stacked)
    expected_m2 = jax.tree_util.tree_map(lambda g: ((g - g.mean(axis=0)) ** 2).sum(axis=0), stacked)
    stats = jax.jit(lambda p, b: per_example_grad_stats(_mlp_loss, p, b,
                                                        microbatch_size=microbatch_size))(
        _as_float32(params), _as_float32(batch))
    assert int(stats.count) == N_EXAMPLES
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6),
                           stats.mean, expected_mean)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6),
                           stats.m2, expected_m2)
    expected_var = jax.tree_util.tree_map(lambda g: g.var(axis=0, ddof=1), stacked)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6),
                           stats.var, expected_var)


def test_per_example_stats_do_not_depend_on_the_microbatch_size():
    params, batch = _as_float32(_tiny_mlp(1)[0]), _as_float32(_tiny_mlp(1)[1])
    stats_fn = jax.jit(per_example_grad_stats, static_argnums=0, static_argnames="microbatch_size")
    results = [stats_fn(_mlp_loss, params, batch, microbatch_size=size)
               for size in (1, 4, N_EXAMPLES)]
    for other in results[1:]:
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-6),
                               results[0], other)


def test_derived_values():
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(9, 4))
    stats = grad_stats_from_samples(jnp.asarray(samples, jnp.float32))
    np.testing.assert_allclose(stats.var, samples.var(axis=0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(stats.sem2, samples.var(axis=0, ddof=1) / 9, rtol=1e-5)
    np.testing.assert_allclose(stats.sem, samples.std(axis=0, ddof=1) / 3, rtol=1e-5)
    np.testing.assert_allclose(stats.t, samples.mean(axis=0) / (samples.std(axis=0, ddof=1) / 3),
                               rtol=1e-4)
    # no spread: ±inf, or 0 when the mean is 0 too
    flat = GradStats(jnp.array([2.0, -1.0, 0.0]), jnp.zeros(3), jnp.asarray(5))
    assert flat.t.tolist() == [np.inf, -np.inf, 0.0]
    single = grad_stats_from_samples(jnp.array([[3.0]]))
    assert float(single.var[0]) == 0.0 and float(single.t[0]) == np.inf


def test_chan_combine_equals_two_pass():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 2.0, size=(7, 5)), rng.normal(-0.5, 0.3, size=(13, 5))
    both = combine_stats(grad_stats_from_samples(jnp.asarray(a, jnp.float32)),
                         grad_stats_from_samples(jnp.asarray(b, jnp.float32)))
    pooled = np.concatenate([a, b])
    assert int(both.count) == 20
    np.testing.assert_allclose(both.mean, pooled.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both.m2, pooled.var(axis=0) * 20, rtol=1e-5)
    # an empty side changes nothing
    empty = GradStats(jnp.zeros(5), jnp.zeros(5), jnp.asarray(0, jnp.int32))
    alone = grad_stats_from_samples(jnp.asarray(a, jnp.float32))
    for merged in (combine_stats(empty, alone), combine_stats(alone, empty)):
        np.testing.assert_allclose(merged.mean, alone.mean, rtol=1e-7)
        np.testing.assert_allclose(merged.m2, alone.m2, rtol=1e-7)


def test_chan_combine_is_accurate_in_float32_with_a_large_offset():
    # gradients 1e3 ± 1e-2 in float32: Σx² − nμ² loses every digit of the variance, Chan does not
    rng = np.random.default_rng(4)
    chunks = [np.float32(1e3 + 1e-2 * rng.normal(size=(8, 3))) for _ in range(6)]
    stats = grad_stats_from_samples(jnp.asarray(chunks[0]))
    for chunk in chunks[1:]:
        stats = combine_stats(stats, grad_stats_from_samples(jnp.asarray(chunk)))
    pooled = np.concatenate(chunks)
    expected = pooled.astype(np.float64).var(axis=0) * pooled.shape[0]
    np.testing.assert_allclose(stats.m2, expected, rtol=3e-3)
    naive = (pooled**2).sum(axis=0) - np.float32(pooled.shape[0]) * pooled.mean(axis=0) ** 2
    assert np.all(np.abs(naive / expected - 1) > 0.5)


def test_microbatch_mean_stats_match_numpy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 3))
    w = jnp.asarray(rng.normal(size=3), jnp.float32)
    loss_fn = lambda w, xs: jnp.mean(jnp.sin(xs @ w))         # a mean loss over a micro-batch
    stats = microbatch_mean_stats(loss_fn, w, jnp.asarray(x, jnp.float32), num_microbatches=3)
    # micro-batch k holds examples k, k + 3, k + 6, k + 9
    w64 = np.asarray(w, np.float64)
    micro_grads = np.stack([
        np.mean(np.cos(x[k::3] @ w64)[:, None] * x[k::3], axis=0) for k in range(3)])
    assert int(stats.count) == 3
    np.testing.assert_allclose(stats.mean, micro_grads.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats.m2, micro_grads.var(axis=0) * 3, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("num_microbatches", [2, 4, 6])
def test_parallel_microbatch_stats_equal_the_sequential_fold_and_float64(num_microbatches):
    """Issue 18: the vmapped micro-batches give today's (sequential, Chan-merged) statistics up
    to float rounding, and both match a float64 hand backprop of each micro-batch's mean loss."""
    params, batch = _tiny_mlp(3)
    params32, batch32 = _as_float32(params), _as_float32(batch)

    def mean_loss(p, microbatch):
        return jnp.mean(jax.vmap(_mlp_loss, (None, 0))(p, microbatch))

    parallel = microbatch_mean_stats(mean_loss, params32, batch32, num_microbatches)
    sequential = microbatch_mean_stats(mean_loss, params32, batch32, num_microbatches,
                                       parallel=False)
    per_example = _numpy_per_example_grads(params, batch)
    micro = []  # micro-batch k: examples k, k + K, ...
    for k in range(num_microbatches):
        members = [per_example[i] for i in range(k, N_EXAMPLES, num_microbatches)]
        micro.append(jax.tree_util.tree_map(lambda *g: np.mean(g, axis=0), *members))
    mean64 = jax.tree_util.tree_map(lambda *g: np.mean(g, axis=0), *micro)
    m2_64 = jax.tree_util.tree_map(lambda *g: np.var(g, axis=0) * len(g), *micro)
    assert int(parallel.count) == int(sequential.count) == num_microbatches
    for got, reference in ((parallel, sequential),):
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5,
                                                                       atol=1e-6),
                               got.mean, reference.mean)
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                                       atol=1e-6),
                               got.m2, reference.m2)
    for stats in (parallel, sequential):
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                                       atol=1e-5),
                               stats.mean, mean64)
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-3,
                                                                       atol=1e-5),
                               stats.m2, m2_64)


def test_split_and_microbatch_gradients_follow_the_strided_split():
    batch = {"x": jnp.arange(12.0).reshape(6, 2)}
    split = split_microbatches(batch, 3)
    np.testing.assert_array_equal(split["x"][1], np.array([[2.0, 3.0], [8.0, 9.0]]))
    values, grads = microbatch_gradients(lambda w, b: jnp.sum(b["x"] @ w), jnp.ones(2), batch, 3)
    np.testing.assert_allclose(values, [0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11])
    np.testing.assert_allclose(grads[2], [4.0 + 10.0, 5.0 + 11.0])


def test_microbatch_and_per_example_standard_errors_agree_in_expectation():
    # per-example gradient of w·x is x: 4000 independent coordinates, x ~ N(μ, σ²)
    rng = np.random.default_rng(6)
    n, coordinates, sigma = 32, 4000, 1.5
    x = jnp.asarray(rng.normal(0.3, sigma, size=(n, coordinates)), jnp.float32)
    w = jnp.zeros(coordinates)
    per_example = per_example_grad_stats(lambda w, xi: jnp.dot(w, xi), w, x, microbatch_size=8)
    micro = microbatch_mean_stats(lambda w, xs: jnp.mean(xs @ w), w, x, num_microbatches=4)
    expected = sigma**2 / n
    np.testing.assert_allclose(np.mean(per_example.sem2), expected, rtol=0.03)
    np.testing.assert_allclose(np.mean(micro.sem2), expected, rtol=0.06)
    np.testing.assert_allclose(micro.mean, per_example.mean, rtol=1e-5, atol=1e-6)


def test_bad_arguments_raise():
    params, batch = _as_float32(_tiny_mlp()[0]), _as_float32(_tiny_mlp()[1])
    with pytest.raises(ValueError, match="microbatch_size"):
        per_example_grad_stats(_mlp_loss, params, batch, microbatch_size=5)
    with pytest.raises(ValueError, match="microbatch_size"):
        per_example_grad_stats(_mlp_loss, params, batch, microbatch_size=0)
    with pytest.raises(ValueError, match="num_microbatches"):
        microbatch_mean_stats(_mlp_loss, params, batch, num_microbatches=1)
    with pytest.raises(ValueError, match="num_microbatches"):
        microbatch_mean_stats(_mlp_loss, params, batch, num_microbatches=5)
    with pytest.raises(ValueError, match="batch"):
        per_example_grad_stats(_mlp_loss, params, {"x": batch["x"], "y": batch["y"][:5]})



def test_weighted_sum_and_two_pass_stats_match_float64_with_a_large_offset():
    """The contraction that replaced ``jnp.mean(x, axis=0)`` (issue 18: 10× faster on XLA:CPU)
    keeps the two-pass statistics accurate in float32 where Σx² − nμ² would cancel."""
    from jaxunlearn.transforms.grad_stats import weighted_sum

    rng = np.random.default_rng(11)
    samples = 1e3 + rng.normal(scale=1e-2, size=(8, 5, 3))
    weights = rng.uniform(size=8)
    np.testing.assert_allclose(
        weighted_sum(jnp.asarray(weights, jnp.float32), jnp.asarray(samples, jnp.float32)),
        np.tensordot(weights, samples, axes=1), rtol=1e-6)
    stats = grad_stats_from_samples({"w": jnp.asarray(samples, jnp.float32)})
    np.testing.assert_allclose(stats.mean["w"], samples.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(stats.m2["w"], samples.var(axis=0) * 8, rtol=2e-2)
