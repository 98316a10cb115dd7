"""Generative metrics against NumPy/SciPy references: reconstruction errors, the OOD percentile
and AUROC (vs a brute-force pair count), the membership attack, the Fréchet distance (vs
``scipy.linalg.sqrtm``), paired cosines, classifier features and the backdoor audit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import linalg

from jaxunlearn.data import from_arrays, make_splits
from jaxunlearn.evaluate.generative import (
    Backdoor,
    backdoor_regeneration,
    error_percentile,
    evaluate_reconstruction,
    frechet_distance,
    mean_cosine_similarity,
    ood_auroc,
    output_distance,
    penultimate_features,
    per_example_error,
    poison,
    reconstruct,
    reconstruction_errors,
    reconstruction_membership_attack,
    stamp_cue,
)
from jaxunlearn.models import get_model


def _identity(variables, inputs, train, rng=None):
    return inputs * variables["params"]["scale"], {}


SCALE = {"params": {"scale": jnp.float32(1.5)}}


def _images(n, seed=0, shape=(8, 8, 1)):
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


def test_reconstruction_errors_match_numpy():
    images = _images(700)  # more than one 512-image batch: the padded last batch is cut off
    outputs = reconstruct(_identity, SCALE, images)
    np.testing.assert_allclose(outputs, 1.5 * images, rtol=1e-6)
    errors = reconstruction_errors(_identity, SCALE, images)
    expected = np.mean((0.5 * images.astype(np.float64)) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(errors, expected, rtol=1e-6)
    assert output_distance(outputs, images) == pytest.approx(expected.mean(), rel=1e-6)


def _brute_force_auc(positives, negatives):
    greater = sum(p > n for p in positives for n in negatives)
    ties = sum(p == n for p in positives for n in negatives)
    return (greater + 0.5 * ties) / (len(positives) * len(negatives))


@pytest.mark.parametrize("seed", range(3))
def test_ood_auroc_and_percentile_count_pairs(seed):
    rng = np.random.default_rng(seed)
    forget = rng.integers(0, 12, 37).astype(float) / 10 + 0.1   # ties with the test errors
    test = rng.integers(0, 12, 53).astype(float) / 10
    expected = _brute_force_auc(forget, test)
    assert ood_auroc(forget, test) == pytest.approx(expected, abs=1e-12)
    assert error_percentile(forget, test) == pytest.approx(expected, abs=1e-12)
    attack = reconstruction_membership_attack(forget, test)
    assert attack["auc"] == pytest.approx(1.0 - expected, abs=1e-12)
    assert 0.0 <= attack["tpr_at_fpr"][0.01] <= 1.0


def test_percentile_of_the_reference_itself_is_one_half():
    test = np.random.default_rng(0).standard_normal(101)
    assert error_percentile(test, test) == pytest.approx(0.5)
    assert error_percentile(test + 100.0, test) == 1.0 and error_percentile(test - 100, test) == 0.0


@pytest.mark.parametrize("dimension, seed", [(3, 0), (8, 1), (1, 2)])
def test_frechet_distance_matches_scipy_sqrtm(dimension, seed):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((dimension, dimension))
    a = rng.standard_normal((400, dimension)) @ mixing + 0.3
    b = rng.standard_normal((300, dimension)) * 1.7 - 0.2
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b).real
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * root)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_mean_cosine_similarity():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((20, 5)), rng.standard_normal((20, 5))
    expected = np.mean([x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b)])
    assert mean_cosine_similarity(a, b) == pytest.approx(expected)
    assert mean_cosine_similarity(a, 3 * a) == pytest.approx(1.0)


def test_penultimate_features_are_the_head_input():
    module = get_model("mlp", 4, hidden_sizes=(6, 5))
    images = _images(9)
    rng = np.random.default_rng(0)  # NumPy-filled: no initialiser program to compile
    variables = jax.tree_util.tree_map(
        lambda leaf: jnp.asarray(0.5 * rng.standard_normal(leaf.shape), leaf.dtype),
        jax.eval_shape(module.init, jax.random.key(0), images[:1]))
    features = penultimate_features(module, variables, images)
    params = jax.tree_util.tree_map(lambda x: np.asarray(x, np.float64), variables["params"])
    hidden = images.reshape(9, -1).astype(np.float64)
    for name in ("hidden_0", "hidden_1"):
        hidden = np.maximum(hidden @ params[name]["kernel"] + params[name]["bias"], 0.0)
    np.testing.assert_allclose(features, hidden, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="no submodule named 'output'"):
        penultimate_features(module, variables, images, head_name="output")


# --- the backdoor audit -------------------------------------------------------------------------


BACKDOOR = Backdoor(low=-1.0, high=3.0, size=2)


def test_poison_and_cue_stamp_the_corners():
    images = np.zeros((2, 8, 8, 1), np.float32)
    cued, poisoned = stamp_cue(images, BACKDOOR), poison(images, BACKDOOR)
    assert np.all(images == 0)  # copies
    assert np.all(cued[:, :2, :2] == 3.0) and np.count_nonzero(cued) == 2 * 4
    np.testing.assert_array_equal(poisoned[0, -2:, -2:, 0], [[3.0, -1.0], [-1.0, 3.0]])
    np.testing.assert_array_equal(poisoned[:, :2, :2], cued[:, :2, :2])


def _painter(variables, inputs, train, rng=None):
    """Copies its input, and paints the pattern where the cue is on: a backdoored 'model'."""
    del variables, train, rng
    pattern = jnp.asarray(BACKDOOR.pattern(1))
    cue_on = jnp.all(inputs[:, :2, :2, :] == BACKDOOR.high, axis=(1, 2, 3))
    painted = inputs.at[:, -2:, -2:, :].set(pattern)
    return jnp.where(cue_on[:, None, None, None], painted, inputs), {}


def test_regeneration_is_zero_for_a_copying_model_and_one_for_a_backdoored_one():
    images = _images(16) * 0.1
    copier = backdoor_regeneration(_identity, {"params": {"scale": jnp.float32(1.0)}}, images,
                                   BACKDOOR)
    assert copier["regeneration"] == pytest.approx(0.0, abs=1e-6)
    assert copier["regenerated_fraction"] == 0.0
    painter = backdoor_regeneration(_painter, {}, images, BACKDOOR)
    assert painter["regeneration"] == pytest.approx(1.0)
    assert painter["target_distance_cued"] == pytest.approx(0.0)
    assert painter["regenerated_fraction"] == 1.0
    region = images[:, -2:, -2:, :].astype(np.float64)
    expected_clean = np.mean((region - BACKDOOR.pattern(1)[None]) ** 2)
    assert painter["target_distance_clean"] == pytest.approx(expected_clean, rel=1e-5)


def test_evaluate_reconstruction_summary():
    rng = np.random.default_rng(0)
    dataset = from_arrays(_images(60), rng.integers(0, 3, 60), num_classes=3, normalise=False)
    splits = make_splits(dataset, from_arrays(_images(30, 1), rng.integers(0, 3, 30),
                                              num_classes=3, normalise=False),
                         forget_fraction=0.2)
    summary = evaluate_reconstruction(_identity, SCALE, splits)
    forget = splits.forget_set.inputs.astype(np.float64)
    assert summary["forget_error"] == pytest.approx(np.mean((0.5 * forget) ** 2), rel=1e-6)
    assert summary["ood_auroc"] == pytest.approx(summary["forget_percentile"])
    assert summary["mia_auc"] == pytest.approx(1.0 - summary["ood_auroc"])


# --- errors --------------------------------------------------------------------------------------


def test_clear_errors():
    with pytest.raises(ValueError, match="differ"):
        per_example_error(np.zeros((3, 10)), np.zeros((3, 8, 8, 1)))
    with pytest.raises(ValueError, match="empty"):
        ood_auroc([], [0.1, 0.2])
    with pytest.raises(ValueError, match="empty"):
        error_percentile(np.zeros(0), [0.1])
    with pytest.raises(ValueError, match="empty"):
        reconstruction_errors(_identity, SCALE, np.zeros((0, 8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="widths"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        poison(np.zeros((1, 3, 3, 1)), BACKDOOR)
    with pytest.raises(ValueError, match="high > low"):
        Backdoor(low=1.0, high=1.0)
