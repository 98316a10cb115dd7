"""Per-coordinate gradient statistics (mean and standard error) for the probabilistic masks.

The PROB and focus masks of Dine, Furon & Faure, "Improving Unlearning with Model Updates Probably
Aligned with Gradients" (arXiv 2511.02435, AISec 2025) model the noise of a batch gradient: for a
batch of n per-example gradients x_1 … x_n of one coordinate,

    ĝ = (1/n) Σ_j x_j,    S² = (1/(n−1)) Σ_j (x_j − ĝ)²,    s = S / √n   (standard error),

and, by the central limit theorem with a flat prior, the true gradient is g | data ~ N(ĝ, s²).
(The paper's own equation numbers could not be checked; this is §2.3 of the project's note on
the paper.) The statistics here are those of the loss the unlearning method *minimises*: for
gradient ascent on the forget set that is −CE, so ``loss_fn`` must return −CE there.

Two estimators:

- :func:`per_example_grad_stats`: ``jax.vmap(jax.grad(loss_fn))`` over the examples of a batch,
  accumulated over micro-batches (peak memory: ``microbatch_size`` × |θ|);
- :func:`microbatch_mean_stats`: the K mean gradients of K micro-batches (cheaper, and valid with
  train-mode BatchNorm, whose per-example gradients are not independent samples). By default the
  K gradients are computed together (``jax.vmap`` over the micro-batches), at about 1.4× the cost
  of one batch gradient on CPU instead of ~4× one after another (issue 18);
  ``parallel=False`` keeps the bounded-memory sequential fold for models where K gradients do
  not fit. :func:`microbatch_gradients` returns the K gradients themselves, from which the
  unlearning step also takes the batch gradient (their weighted mean), so that the statistics
  cost no gradient beyond the micro-batches'.

Micro-batches are merged with Chan, Golub & LeVeque's parallel update (1979),

    n = n_A + n_B,  δ = μ_B − μ_A,  μ = μ_A + δ n_B / n,  M2 = M2_A + M2_B + δ² n_A n_B / n,

which, unlike Σx² − nμ², does not cancel catastrophically in float32.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax


class GradStats(NamedTuple):
    """Running per-coordinate moments of a set of gradient samples.

    Attributes:
      mean: pytree like params, the sample mean ĝ.
      m2: pytree like params, the sum of squared deviations Σ_j (x_j − ĝ)².
      count: int32 scalar, the number of samples n.

    The derived values treat one sample (or none) as carrying no variance information: the
    variance is then 0, so the probabilistic masks reduce to the AND mask.
    """

    mean: Any
    m2: Any
    count: jax.Array

    @property
    def var(self) -> Any:
        """Unbiased sample variance S² = M2 / (n − 1), per coordinate."""
        denominator = jnp.maximum(self.count - 1, 1)
        return jax.tree_util.tree_map(lambda m2: m2 / denominator.astype(m2.dtype), self.m2)

    @property
    def sem2(self) -> Any:
        """Squared standard error of the mean, s² = S² / n."""
        n = jnp.maximum(self.count, 1)
        return jax.tree_util.tree_map(lambda var: var / n.astype(var.dtype), self.var)

    @property
    def sem(self) -> Any:
        """Standard error of the mean, s = S / √n."""
        return jax.tree_util.tree_map(jnp.sqrt, self.sem2)

    @property
    def t(self) -> Any:
        """t = ĝ / s; ±inf where s = 0 and ĝ ≠ 0, and 0 where both are 0 (sign unknown)."""
        return jax.tree_util.tree_map(_t_statistic, self.mean, self.sem)


def _t_statistic(mean: jax.Array, sem: jax.Array) -> jax.Array:
    positive = sem > 0
    ratio = mean / jnp.where(positive, sem, 1)
    infinite = jnp.where(mean > 0, jnp.inf, -jnp.inf)
    return jnp.where(positive, ratio, jnp.where(mean == 0, 0, infinite)).astype(mean.dtype)


def grad_stats_from_samples(samples: Any) -> GradStats:
    """Two-pass statistics of gradient samples stacked along a leading axis.

    Args:
      samples: pytree whose leaves have shape ``(n, *param_shape)``.

    Returns:
      :class:`GradStats` with ``count = n``.

    Example:
      >>> import jax.numpy as jnp
      >>> stats = grad_stats_from_samples({"w": jnp.array([[1.0], [3.0]])})
      >>> float(stats.mean["w"][0]), float(stats.var["w"][0]), int(stats.count)
      (2.0, 2.0, 2)
    """
    n = _leading_size(samples, "samples")
    mean = jax.tree_util.tree_map(lambda x: weighted_sum(jnp.full((n,), 1 / n), x), samples)
    m2 = jax.tree_util.tree_map(
        lambda x, mu: weighted_sum(jnp.ones((n,)), jnp.square(x - mu)), samples, mean
    )
    return GradStats(mean, m2, jnp.asarray(n, jnp.int32))


def weighted_sum(weights: jax.Array, samples: jax.Array) -> jax.Array:
    """Σ_k weights[k] · samples[k] over the leading axis, as a contraction at full float32
    precision.

    XLA:CPU reduces over a leading (major) axis about 10× slower than it contracts it: for the
    four 550k-parameter micro-batch gradients of the small CNN, ``jnp.mean(x, axis=0)`` took
    7.5 ms against 0.65 ms for this (``experiments/benchmarks/transform_overhead.py``; issue
    18). ``Precision.HIGHEST`` keeps GPUs from rounding the operands to TF32.
    """
    weights = jnp.asarray(weights, samples.dtype)
    return jnp.tensordot(weights, samples, axes=1, precision=jax.lax.Precision.HIGHEST)


def combine_stats(a: GradStats, b: GradStats) -> GradStats:
    """Merge the statistics of two disjoint sets of samples (Chan et al.'s parallel update).

    Either side may be empty (``count == 0``, zero mean and m2).

    Example:
      >>> import jax.numpy as jnp
      >>> a = grad_stats_from_samples(jnp.array([[1.0], [2.0]]))
      >>> b = grad_stats_from_samples(jnp.array([[6.0]]))
      >>> both = combine_stats(a, b)
      >>> float(both.mean[0]), float(both.m2[0]), int(both.count)
      (3.0, 14.0, 3)
    """
    n = a.count + b.count

    def merge(mean_a, m2_a, mean_b, m2_b):
        dtype = mean_a.dtype
        count_a, count_b = a.count.astype(dtype), b.count.astype(dtype)
        total = jnp.maximum(n, 1).astype(dtype)
        delta = mean_b - mean_a
        mean = mean_a + delta * (count_b / total)
        m2 = m2_a + m2_b + jnp.square(delta) * (count_a * count_b / total)
        return mean, m2

    merged = jax.tree_util.tree_map(merge, a.mean, a.m2, b.mean, b.m2)
    outer = jax.tree_util.tree_structure(a.mean)
    mean, m2 = jax.tree_util.tree_transpose(
        outer, jax.tree_util.tree_structure((0, 0)), merged
    )
    return GradStats(mean, m2, n.astype(jnp.int32))


def _empty_like(stats_shape: GradStats) -> GradStats:
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), stats_shape.mean)
    return GradStats(zeros, zeros, jnp.zeros((), jnp.int32))


def _pool(stacked: GradStats) -> GradStats:
    """Merge statistics stacked along a leading axis in one pass (exact, like repeated Chan)."""
    def pool(means, m2s):
        counts = stacked.count.astype(means.dtype)
        mean = weighted_sum(counts, means) / jnp.maximum(jnp.sum(counts), 1)
        spread = weighted_sum(counts, jnp.square(means - mean))
        return mean, weighted_sum(jnp.ones_like(counts), m2s) + spread

    merged = jax.tree_util.tree_map(pool, stacked.mean, stacked.m2)
    outer = jax.tree_util.tree_structure(stacked.mean)
    mean, m2 = jax.tree_util.tree_transpose(
        outer, jax.tree_util.tree_structure((0, 0)), merged
    )
    return GradStats(mean, m2, jnp.sum(stacked.count).astype(jnp.int32))


# Chan's update as an optax.microbatching accumulator: the micro-batches are folded in one at a
# time, so only one micro-batch of per-example gradients is alive at once.
_CHAN_ACCUMULATOR = optax.microbatching.Accumulator(
    init=_empty_like,
    update=lambda carry, value, index: combine_stats(carry, value),
    finalize=lambda carry: carry,
    aggregate=_pool,
)


def _leading_size(tree: Any, name: str) -> int:
    sizes = {leaf.shape[0] if leaf.ndim else None for leaf in jax.tree_util.tree_leaves(tree)}
    if None in sizes or len(sizes) != 1:
        raise ValueError(
            f"{name} must be a pytree whose leaves share one leading (example) axis, "
            f"got leading sizes {sorted(s for s in sizes if s is not None)}"
        )
    return sizes.pop()


def _check_divides(size: int, n: int, name: str) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{name} must be a positive int, got {size!r}")
    if n % size:
        raise ValueError(f"{name}={size} must divide the batch size {n}")


def per_example_grad_stats(
    loss_fn: Callable[[Any, Any], jax.Array],
    params: Any,
    batch: Any,
    *,
    microbatch_size: int | None = None,
) -> GradStats:
    """Mean and spread of the per-example gradients of ``loss_fn`` over ``batch``.

    Per-example gradients come from ``jax.vmap(jax.grad(loss_fn), in_axes=(None, 0))``, one
    micro-batch at a time (``optax.microbatching.microbatch``), and the micro-batch moments are
    merged with Chan's update, so the result does not depend on ``microbatch_size`` (up to
    rounding) and peak memory is ``microbatch_size`` × |θ|.

    Args:
      loss_fn: ``loss_fn(params, example) -> scalar``, the loss *being minimised* on one example
        (−CE for gradient ascent); ``example`` is ``batch`` with the leading axis indexed away.
        Close over anything else it needs (model state, a teacher, labels drawn elsewhere).
        With BatchNorm, evaluate it in inference mode (running averages), or use
        :func:`microbatch_mean_stats`.
      params: the pytree to differentiate.
      batch: pytree whose leaves share a leading axis of size n ≥ 1.
      microbatch_size: examples per micro-batch; must divide n. ``None`` processes the whole
        batch at once.

    Returns:
      :class:`GradStats` with leaves like ``params`` and ``count = n``.

    Example:
      >>> import jax.numpy as jnp
      >>> loss_fn = lambda w, x: jnp.dot(w, x)        # per-example gradient = x
      >>> batch = jnp.array([[1.0, 0.0], [3.0, 2.0], [2.0, 4.0], [2.0, 2.0]])
      >>> stats = per_example_grad_stats(loss_fn, jnp.zeros(2), batch, microbatch_size=2)
      >>> stats.mean.tolist(), stats.m2.tolist(), int(stats.count)
      ([2.0, 2.0], [2.0, 8.0], 4)
    """
    n = _leading_size(batch, "batch")
    if microbatch_size is not None:
        _check_divides(microbatch_size, n, "microbatch_size")
    per_example_grads = jax.vmap(jax.grad(loss_fn), in_axes=(None, 0))

    def stats_of(params, examples):
        return grad_stats_from_samples(per_example_grads(params, examples))

    if microbatch_size is None or microbatch_size == n:
        return stats_of(params, batch)
    accumulate = optax.microbatching.microbatch(
        stats_of, argnums=1, microbatch_size=microbatch_size, accumulator=_CHAN_ACCUMULATOR
    )
    return accumulate(params, batch)


def split_microbatches(batch: Any, num_microbatches: int) -> Any:
    """``batch`` (leaves with a leading axis n) as K micro-batches on a new leading axis: micro-
    batch k holds examples k, k + K, k + 2K, … (``optax.microbatching``'s strided split).

    >>> import jax.numpy as jnp
    >>> split_microbatches(jnp.arange(6), 2).tolist()
    [[0, 2, 4], [1, 3, 5]]
    """
    n = _leading_size(batch, "batch")
    _check_divides(num_microbatches, n, "num_microbatches")
    return jax.tree_util.tree_map(
        lambda leaf: jnp.swapaxes(
            leaf.reshape((n // num_microbatches, num_microbatches) + leaf.shape[1:]), 0, 1),
        batch)


def microbatch_gradients(
    loss_fn: Callable[..., Any],
    params: Any,
    batch: Any,
    num_microbatches: int,
    *,
    has_aux: bool = False,
) -> tuple[Any, Any]:
    """Value and gradient of ``loss_fn`` on each of K micro-batches, computed together.

    ``jax.vmap(jax.value_and_grad(loss_fn))`` over :func:`split_microbatches`: one program whose
    work XLA batches (a convolution's weight gradient becomes one grouped convolution) instead of
    K passes one after another.

    Args:
      loss_fn: ``loss_fn(params, microbatch) -> scalar`` (or ``(scalar, aux)`` with ``has_aux``).
      params: the pytree to differentiate.
      batch: pytree whose leaves share a leading axis of size n, divisible by K.
      num_microbatches: K ≥ 1.
      has_aux: as in ``jax.value_and_grad``.

    Returns:
      ``(values, grads)``: the K values (``(loss, aux)`` pairs stacked, with ``has_aux``) and the
      K gradients, each leaf with a leading axis K.
    """
    microbatches = split_microbatches(batch, num_microbatches)
    value_and_grad = jax.value_and_grad(loss_fn, has_aux=has_aux)
    return jax.vmap(value_and_grad, in_axes=(None, 0))(params, microbatches)


def microbatch_mean_stats(
    loss_fn: Callable[[Any, Any], jax.Array],
    params: Any,
    batch: Any,
    num_microbatches: int,
    *,
    parallel: bool = True,
) -> GradStats:
    """Statistics of the K mean gradients of K equal micro-batches of ``batch``.

    With ĝ^(k) = ∇ loss_fn(params, micro-batch k), the returned mean is (1/K) Σ_k ĝ^(k) (the
    full-batch gradient when ``loss_fn`` is a mean) and ``count = K``, so ``sem2`` is
    Var_k(ĝ^(k)) / K, the variance of that mean. Its expectation equals the per-example
    estimator's s² (for independent examples); it is noisier, with K − 1 degrees of freedom.

    Args:
      loss_fn: ``loss_fn(params, microbatch) -> scalar``, the *mean* loss being minimised over a
        micro-batch (a pytree with a leading axis of n / K examples). Train-mode BatchNorm is
        fine here: each micro-batch is a genuine batch.
      params: the pytree to differentiate.
      batch: pytree whose leaves share a leading axis of size n.
      num_microbatches: K ≥ 2, must divide n. Micro-batch k holds examples k, k + K, k + 2K, …
        (the strided split of ``optax.microbatching``).
      parallel: compute the K gradients together (``jax.vmap``; memory K × |θ|, the default) or
        one after another, folded in with Chan's update (memory 1 × |θ|). The two agree up to
        float rounding.

    Returns:
      :class:`GradStats` with leaves like ``params`` and ``count = K``.

    Example:
      >>> import jax.numpy as jnp
      >>> loss_fn = lambda w, xs: jnp.mean(xs @ w)    # micro-batch gradient = mean of its rows
      >>> batch = jnp.array([[1.0], [5.0], [3.0], [7.0]])
      >>> stats = microbatch_mean_stats(loss_fn, jnp.zeros(1), batch, num_microbatches=2)
      >>> stats.mean.tolist(), stats.m2.tolist(), int(stats.count)   # micro-means 2 and 6
      ([4.0], [8.0], 2)
    """
    n = _leading_size(batch, "batch")
    _check_divides(num_microbatches, n, "num_microbatches")
    if num_microbatches < 2:
        raise ValueError(
            f"num_microbatches must be >= 2 to estimate a variance, got {num_microbatches}"
        )
    if parallel:
        _, grads = microbatch_gradients(loss_fn, params, batch, num_microbatches)
        return grad_stats_from_samples(grads)
    grad_fn = jax.grad(loss_fn)

    def stats_of(params, microbatch):
        grads = grad_fn(params, microbatch)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, grads)
        return GradStats(grads, zeros, jnp.ones((), jnp.int32))

    accumulate = optax.microbatching.microbatch(
        stats_of, argnums=1, microbatch_size=n // num_microbatches,
        accumulator=_CHAN_ACCUMULATOR,
    )
    return accumulate(params, batch)
