"""Signals against float64 NumPy formulas written out, plus every docstring example of the
attack modules."""


import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.evaluate.signals import (cross_entropy_loss, entropy, logit_confidence, margin,
                                         modified_entropy, true_label_prob)


def _reference_probs(logits):
    logits = np.asarray(logits, np.float64)
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def _reference_mentr(probs, labels):
    # Song & Mittal (2021), eq. 5, one row at a time.
    out = np.empty(len(labels))
    for row, (p, y) in enumerate(zip(probs, labels)):
        others = [p[i] * np.log(1 - p[i]) for i in range(len(p)) if i != y]
        out[row] = -(1 - p[y]) * np.log(p[y]) - np.sum(others)
    return out


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.normal(0, 3, (64, 7)), rng.integers(0, 7, 64)


def test_signals_match_float64_formulas(batch):
    logits, labels = batch
    probs = _reference_probs(logits)
    rows = np.arange(len(labels))
    p_y = probs[rows, labels]
    np.testing.assert_allclose(true_label_prob(logits, labels), p_y, rtol=1e-12)
    np.testing.assert_allclose(logit_confidence(logits, labels), np.log(p_y / (1 - p_y)), rtol=1e-9,
                               atol=1e-10)
    np.testing.assert_allclose(cross_entropy_loss(logits, labels), -np.log(p_y), rtol=1e-10)
    np.testing.assert_allclose(entropy(logits, labels), -np.sum(probs * np.log(probs), -1), rtol=1e-10)
    np.testing.assert_allclose(modified_entropy(logits, labels), _reference_mentr(probs, labels),
                               rtol=1e-9)
    others = np.where(np.arange(7) == labels[:, None], -np.inf, logits)
    np.testing.assert_allclose(margin(logits, labels), logits[rows, labels] - others.max(-1))


def test_float32_and_jax_inputs_with_leading_axes(batch):
    logits, labels = batch
    stacked = jnp.asarray(logits.reshape(4, 16, 7), jnp.float32)
    phi = logit_confidence(stacked, jnp.asarray(labels.reshape(4, 16)))
    assert isinstance(phi, np.ndarray) and phi.shape == (4, 16) and phi.dtype == np.float32
    np.testing.assert_allclose(phi.ravel(), logit_confidence(logits, labels), rtol=1e-4, atol=1e-4)
    bf16 = logit_confidence(jnp.asarray(logits, jnp.bfloat16), labels)
    assert bf16.dtype == np.float32


def test_stable_at_large_logits():
    logits = np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, 0.0], [1000.0, 999.0, 0.0]])
    labels = np.array([0, 0, 0])
    for dtype in (np.float32, np.float64):
        phi = logit_confidence(logits.astype(dtype), labels)
        assert np.all(np.isfinite(phi))
        # log(p/(1-p)) with 1 - p = e^-100 (1 + e^-100): φ = 100 - log(e^-100 + 1) ≈ 100.
        np.testing.assert_allclose(phi, [100.0, -200.0, 1.0 - np.log1p(np.exp(-999.0))], rtol=1e-6)
        for fn in (cross_entropy_loss, entropy, modified_entropy, margin):
            assert np.all(np.isfinite(fn(logits.astype(dtype), labels))), fn.__name__
    # Mentr of a confident correct prediction: every term is O(e^-200).
    assert 0 <= modified_entropy(logits[:1], labels[:1])[0] < 1e-80
    # A confident wrong one: -(1 - p_y) log p_y = 200 and -p_1 log(1 - p_1) = 100, with
    # log(1 - p_1) = log(e^-200 + e^-100) - 100 ≈ -100, which log1p(-p_1) would round to -inf.
    np.testing.assert_allclose(modified_entropy(logits[1:2], labels[1:2]), [300.0], rtol=1e-6)


@pytest.mark.parametrize("fn", [logit_confidence, true_label_prob, modified_entropy, margin])
def test_bad_inputs(fn):
    with pytest.raises(ValueError, match="labels"):
        fn(np.zeros((3, 4)), np.zeros(4, int))
    with pytest.raises(ValueError, match="labels"):
        fn(np.zeros((3, 4)), np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="labels"):
        fn(np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="logits"):
        fn(np.full((3, 4), np.nan), np.zeros(3, int))


