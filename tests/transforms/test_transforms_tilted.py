"""Tilted weights and aggregation against float64 NumPy and autodiff of the TERM objective."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.transforms import (
    class_similarity,
    tilted_aggregate,
    tilted_loss,
    tilted_weights,
    trw_target,
)


@pytest.mark.parametrize("tilt", [-2.0, 0.0, 0.5, 5.0])
def test_tilted_weights_match_float64_softmax(tilt):
    losses = np.random.default_rng(0).uniform(0, 4, 16)
    expected = np.exp(tilt * losses - np.max(tilt * losses))
    expected /= expected.sum()
    np.testing.assert_allclose(tilted_weights(jnp.asarray(losses), tilt), expected, rtol=1e-5)


def test_mask_excludes_padding():
    losses = jnp.array([1.0, 2.0, 100.0])
    weights = tilted_weights(losses, 1.0, mask=jnp.array([1.0, 1.0, 0.0]))
    expected = np.exp([1.0, 2.0]) / np.exp([1.0, 2.0]).sum()
    np.testing.assert_allclose(weights, [*expected, 0.0], rtol=1e-6)


def test_aggregate_equals_the_gradient_of_the_tilted_objective():
    """TERM Lemma 1: ∇ (1/t) log mean exp(t ℓ_i(θ)) = Σ softmax(tℓ)_i ∇ℓ_i, checked by autodiff."""
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((8, 3)))
    y = jnp.asarray(rng.standard_normal(8))
    params = {"w": jnp.asarray(rng.standard_normal(3)), "b": jnp.asarray(0.3)}

    def per_example_loss(p, xi, yi):
        return 0.5 * (xi @ p["w"] + p["b"] - yi) ** 2

    losses = jax.vmap(per_example_loss, (None, 0, 0))(params, x, y)
    grads = jax.vmap(jax.grad(per_example_loss), (None, 0, 0))(params, x, y)
    for tilt in (0.0, 0.8, -1.5):
        tx = tilted_aggregate(tilt)
        combined, state = tx.update(params, tx.init(params), per_example_grads=grads,
                                    per_example_losses=losses)
        expected = jax.grad(
            lambda p: tilted_loss(jax.vmap(per_example_loss, (None, 0, 0))(p, x, y), tilt)
        )(params)
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                               combined, expected)
        if tilt == 0.0:  # tilt → 0 is the plain mean, with effective sample size n
            mean = jax.tree_util.tree_map(lambda g: g.mean(0), grads)
            jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6),
                                   combined, mean)
            assert float(state.effective_sample_size) == pytest.approx(8.0)


def test_tilted_loss_limits():
    losses = jnp.array([0.5, 1.0, 4.0])
    assert float(tilted_loss(losses, 0.0)) == pytest.approx(float(losses.mean()))
    assert float(tilted_loss(losses, 1e-4)) == pytest.approx(float(losses.mean()), rel=1e-3)
    values = np.array([0.5, 1.0, 4.0])
    for tilt in (-200.0, -3.0, 0.7, 200.0):
        expected = np.log(np.mean(np.exp(tilt * values - tilt * values.max()))) / tilt + values.max()
        assert float(tilted_loss(losses, tilt)) == pytest.approx(expected, rel=1e-5)
    # t → ±∞ tends to the max / min loss, within log(n)/|t|
    assert abs(float(tilted_loss(losses, 2000.0)) - 4.0) <= np.log(3) / 2000 + 1e-5
    assert abs(float(tilted_loss(losses, -2000.0)) - 0.5) <= np.log(3) / 2000 + 1e-5


def test_aggregate_requires_its_extra_args_and_a_finite_tilt():
    tx = tilted_aggregate(1.0)
    with pytest.raises(ValueError, match="per_example_grads"):
        tx.update({"w": jnp.ones(2)}, tx.init(None))
    with pytest.raises(ValueError, match="tilt"):
        tilted_aggregate(float("nan"))


def test_trw_target_renormalises_and_tilts_towards_similar_classes():
    logits = jnp.log(jnp.array([[0.5, 0.3, 0.15, 0.05]]))
    untilted = np.asarray(trw_target(logits, 0, jnp.zeros(4), tilt=0.0))
    np.testing.assert_allclose(untilted, [[0.0, 0.6, 0.3, 0.1]], rtol=1e-5)
    similarity = jnp.array([0.0, 0.0, 0.0, 1.0])
    tilted = np.asarray(trw_target(logits, 0, similarity, tilt=2.0))
    expected = np.array([0.0, 0.3, 0.15, 0.05 * np.exp(2.0)])
    np.testing.assert_allclose(tilted, [expected / expected.sum()], rtol=1e-5)
    with pytest.raises(ValueError, match="forget_class"):
        trw_target(logits, 4, similarity, 1.0)


def test_class_similarity_is_the_mean_renormalised_distribution():
    logits = jnp.log(jnp.array([[0.4, 0.4, 0.2], [0.8, 0.1, 0.1]]))
    similarity = np.asarray(class_similarity(logits, 0))
    np.testing.assert_allclose(similarity, [0.0, (2 / 3 + 0.5) / 2, (1 / 3 + 0.5) / 2], rtol=1e-5)
