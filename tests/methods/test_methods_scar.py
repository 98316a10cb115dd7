"""SCAR (Bonato et al., ECCV 2024) against closed forms and float64 NumPy: the twice-shrunk
correlation statistics, the Mahalanobis forget term with its nearest-other-class targets, the
surrogate distillation with the forgotten classes masked, and the method's checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.data import make_splits
from jaxunlearn.methods import METHODS, unlearn, unlearn_many
from jaxunlearn.methods.base import Batch, TermContext
from jaxunlearn.methods.scar import class_statistics
from jaxunlearn.train import stack_models
from tests.methods.method_helpers import assert_trees_close, trained_digits_mlp


@pytest.fixture(scope="module")
def digits():
    fns, variables, train_set, test_set = trained_digits_mlp((32,), epochs=5)
    splits = make_splits(train_set, test_set, forget_classes=[3], public_size=120, seed=0)
    return fns, variables, splits


def _features(variables, inputs):
    p = variables["params"]["hidden_0"]
    x = np.asarray(inputs, np.float64).reshape(len(inputs), -1)
    return np.maximum(x @ np.asarray(p["kernel"], np.float64) + np.asarray(p["bias"]), 0.0)


def _reference_statistics(features, labels, classes):
    """Two shrinkages with γ = 3 compound to Σ + 15 V1 I + 15 V2 (11ᵀ − I) when no covariance
    entry is 0 (the second pass sees 4 V1 and 4 V2); then correlation and pseudo-inverse."""
    means, inverses = [], []
    for c in classes:
        t = np.sqrt(features[labels == c])
        cov = np.cov(t, rowvar=False)
        d = len(cov)
        v1, v2 = np.mean(np.diag(cov)), cov[~np.eye(d, dtype=bool)].mean()
        shrunk = cov + 15 * v1 * np.eye(d) + 15 * v2 * (np.ones((d, d)) - np.eye(d))
        sigma = np.sqrt(np.diag(shrunk))
        inverses.append(np.linalg.pinv(shrunk / np.outer(sigma, sigma)))
        means.append(t.mean(0) / np.linalg.norm(t.mean(0)))
    return np.stack(means), np.stack(inverses)


def test_class_statistics_are_the_twice_shrunk_correlation_inverse():
    rng = np.random.default_rng(0)
    features = rng.gamma(2.0, 1.0, size=(300, 6))  # positive: every covariance entry non-zero
    labels = rng.integers(0, 3, size=300)
    means, inverses = class_statistics(features, labels, [0, 2], 0.5, 3.0, 3.0)
    ref_means, ref_inverses = _reference_statistics(features, labels, [0, 2])
    np.testing.assert_allclose(means, ref_means, rtol=1e-10)
    np.testing.assert_allclose(inverses, ref_inverses, rtol=1e-8, atol=1e-10)


def test_the_forget_term_pulls_each_example_to_its_nearest_other_class(digits):
    """The targets are the argmin of the float64 Mahalanobis distances over the 9 remaining
    classes (eval mode, no augmentation on digits), and the term is λ1 × their mean."""
    fns, variables, splits = digits
    method = METHODS["scar"]
    hyper = method.hyperparameters()
    prepared = method.prepare(fns, variables, splits, hyper, 0)
    classes = [c for c in range(10) if c != 3]
    retain = splits.retain_set
    means, inverses = _reference_statistics(
        _features(variables, retain.inputs), np.asarray(retain.labels), classes)
    z = np.sqrt(_features(variables, splits.forget_set.inputs))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    diff = z[:, None, :] - means[None]
    distances = np.einsum("bkd,kde,bke->bk", diff, inverses, diff)
    np.testing.assert_array_equal(np.asarray(prepared.aux["targets"]), distances.argmin(1))
    rows = np.arange(20)
    batch = Batch(jnp.asarray(splits.forget_set.inputs[rows]),
                  jnp.asarray(splits.forget_set.labels[rows]), jnp.ones(20, jnp.float32),
                  jnp.asarray(rows, jnp.int32))
    context = TermContext(fns.apply, prepared.aux, {**hyper, "lambda_forget": 2.0},
                          jax.random.key(0), jnp.int32(0), 1, 10)
    loss, _ = method.forget_term(variables["params"], {}, batch, context)
    expected = 2.0 * distances[rows, distances[rows].argmin(1)].mean()
    np.testing.assert_allclose(float(loss), expected, rtol=2e-4)


def test_the_surrogate_term_drops_forgotten_class_rows_and_floors_their_logit(digits):
    fns, variables, splits = digits
    method = METHODS["scar"]
    hyper = method.hyperparameters({"temperature": 2.0})
    prepared = method.prepare(fns, variables, splits, hyper, 0)
    student = jax.tree_util.tree_map(lambda a: a * 0.9, variables)
    inputs = np.concatenate([splits.public.inputs[:30], splits.forget_set.inputs[:5]])
    batch = Batch(jnp.asarray(inputs), jnp.zeros(35, jnp.int32), jnp.ones(35, jnp.float32),
                  jnp.arange(35, dtype=jnp.int32))
    context = TermContext(fns.apply, prepared.aux, hyper, jax.random.key(0), jnp.int32(0), 1, 10)
    loss, _ = method.retain_term(student["params"], {}, batch, context)

    def logits(v):
        return np.asarray(fns.apply(v, jnp.asarray(inputs), False)[0], np.float64)

    teacher, s = logits(variables), logits(student)
    keep = teacher.argmax(1) != 3
    assert 0 < keep.sum() < 35  # the forget digits are dropped, the others kept
    t = teacher[keep].copy()
    t[:, 3] = t.min()
    t /= 2.0
    log_p = t - np.log(np.exp(t - t.max(1, keepdims=True)).sum(1, keepdims=True)) - t.max(
        1, keepdims=True)
    log_q = s[keep] - np.log(np.exp(s[keep]).sum(1, keepdims=True))
    expected = 5.0 * np.mean(np.sum(np.exp(log_p) * (log_p - log_q), axis=1))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-4)


def test_scar_forgets_the_class_and_pools_match_one_run_each(digits):
    fns, variables, splits = digits
    hyper = {"learning_rate": 2e-3}
    single = unlearn(fns, variables, splits, "scar", epochs=20, key=0, hyperparams=hyper,
                     progress=False)
    from jaxunlearn.evaluate import evaluate_splits

    before = evaluate_splits(fns.apply, variables, splits)
    after = evaluate_splits(fns.apply, single.variables, splits)
    assert before["UA"] < 10 and after["UA"] > 80 and after["RA"] > 90
    pool = unlearn_many(fns, stack_models([variables, variables]), splits, "scar", keys=[0, 0],
                        steps=3, hyperparams=hyper, progress=False, sequential_fallback=False)
    short = unlearn(fns, variables, splits, "scar", steps=3, key=0, hyperparams=hyper,
                    progress=False)
    assert_trees_close(pool[1].variables, short.variables, rtol=1e-5, atol=1e-6)


def test_scar_needs_surrogate_data_and_a_head(digits):
    fns, variables, splits = digits
    from jaxunlearn.data import load_digits

    train_set, test_set = load_digits()
    no_public = make_splits(train_set, test_set, forget_classes=[3], seed=0)
    with pytest.raises(ValueError, match="splits.public"):
        unlearn(fns, variables, no_public, "scar", steps=1, progress=False)
    with pytest.raises(ValueError, match="head_name 'classifier'"):
        unlearn(fns, variables, splits, "scar", steps=1, progress=False,
                hyperparams={"head_name": "classifier"})
    with pytest.raises(ValueError, match="delta must be > 0"):
        unlearn(fns, variables, splits, "scar", steps=1, progress=False,
                hyperparams={"delta": 0.0})


def test_scar_caps_its_batches_at_its_streams_and_composes_with_the_masks(digits):
    """A batch of 1,024 over 120 surrogate images and a class of ~30 is the whole stream: the
    run records the capped sizes (multiples of 8 at or just above each stream). Its Mahalanobis
    term is a forget term and its distillation a retain term, so the feasible-update masks
    apply: a masked run moves fewer parameters than the plain one."""
    fns, variables, splits = digits
    plain = unlearn(fns, variables, splits, "scar", steps=2, key=0, progress=False)
    sizes = plain.log["hyperparams"]
    for name, count in (("batch_size", len(splits.public)),
                        ("forget_batch_size", len(splits.forget_set))):
        assert count <= sizes[name] < count + 8 and sizes[name] % 8 == 0, name
    masked = unlearn(fns, variables, splits, "scar", steps=2, key=0, addons=("and_mask",),
                     progress=False)

    def moved(result):
        return sum(int(np.sum(np.asarray(a) != np.asarray(b))) for a, b in zip(
            jax.tree.leaves(result.variables["params"]), jax.tree.leaves(variables["params"])))

    assert 0 < moved(masked) < moved(plain)
