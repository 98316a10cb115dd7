"""The closed-form clipped logistic gradient equals the per-example vmap(grad) + clip path
(float64 NumPy reference, written here from the definitions), with clips that bind."""

import numpy as np
import pytest

from jaxunlearn.alu.logistic import logistic_clipped_value_and_grad


def _reference(w, x, y, clip, m, regularizer, a):
    """Σ a_i clip_M(∇f_i [+ m w]) [+ m w] and Σ a_i f_i in float64, one example at a time."""
    a = a / a.sum()
    grad, loss = np.zeros_like(w), 0.0
    for xi, yi, ai in zip(x, y, a):
        u = -yi * xi @ w
        loss += ai * np.logaddexp(0.0, u)
        g = -yi / (1 + np.exp(-u)) * xi
        if regularizer == "inside":
            g = g + m * w
        norm = np.linalg.norm(g)
        g = g * min(1.0, clip / norm) if norm > 0 else g
        grad += ai * g
    if regularizer == "after":
        grad += m * w
    return loss, grad


@pytest.mark.parametrize("regularizer", ["inside", "after"])
@pytest.mark.parametrize("clip", [0.3, 1.0, 10.0])
def test_closed_form_matches_the_per_example_reference(regularizer, clip):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)) * rng.uniform(0.2, 3.0, size=(40, 1))  # norms above and below M
    y = rng.choice([-1, 1], 40)
    w = rng.normal(size=5) * 2.0
    a = rng.uniform(0.0, 1.0, 40)
    a[:5] = 0.0  # removed rows
    m = 0.3
    loss, grad = logistic_clipped_value_and_grad(
        {"w": np.asarray(w, np.float32)}, (np.asarray(x, np.float32), np.asarray(y, np.int32)),
        clip, m, regularizer, np.asarray(a, np.float32))
    ref_loss, ref_grad = _reference(w, x, y, clip, m, regularizer, a)
    assert float(loss) == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(np.asarray(grad["w"], np.float64), ref_grad, rtol=2e-5,
                               atol=2e-6)


def test_uniform_weights_by_default_and_bad_regularizer_named():
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(7, 3)), rng.choice([-1, 1], 7), rng.normal(size=3)
    loss, grad = logistic_clipped_value_and_grad(
        {"w": np.asarray(w, np.float32)}, (np.asarray(x, np.float32), np.asarray(y, np.int32)),
        1.0, 0.1, "after")
    ref_loss, ref_grad = _reference(w, x, y, 1.0, 0.1, "after", np.ones(7))
    assert float(loss) == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(np.asarray(grad["w"]), ref_grad, rtol=2e-5, atol=2e-6)
    with pytest.raises(ValueError, match="regularizer"):
        logistic_clipped_value_and_grad({"w": np.zeros(3, np.float32)},
                                        (np.zeros((2, 3), np.float32), np.ones(2, np.int32)),
                                        1.0, 0.1, "before")
