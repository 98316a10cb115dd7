"""Tilted weights and aggregation against float64 NumPy and autodiff of the TERM objective."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.methods.trw_targets import class_similarity, pca_class_similarity, trw_target
from jaxunlearn.transforms import tilted_aggregate, tilted_loss, tilted_weights


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


def _pca_similarity_reference(logits, labels, c, components, temperature, exclude=()):
    """PCA by np.linalg.svd of the centred float64 logits, class means of the projection,
    cosine to class c, softmax(cos / T) over the classes neither c nor excluded."""
    centred = logits - logits.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ vt[:components].T
    means = np.stack([projected[labels == k].mean(axis=0) for k in range(logits.shape[1])])
    cosine = means @ means[c] / (np.linalg.norm(means, axis=1) * np.linalg.norm(means[c]))
    weights = np.exp(cosine / temperature)
    weights[[c, *exclude]] = 0.0
    return weights / weights.sum()


def _clustered_logits(seed, num_classes=6, per_class=40):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, (num_classes, num_classes))
    labels = np.repeat(np.arange(num_classes), per_class)
    logits = centres[labels] + rng.normal(0.0, 1.0, (len(labels), num_classes))
    return logits, labels


@pytest.mark.parametrize("components, temperature", [(1, 0.1), (3, 0.1), (3, 1.0), (6, 0.05)])
def test_pca_class_similarity_matches_an_svd_reference(components, temperature):
    logits, labels = _clustered_logits(0)
    for c in (0, 4):
        got = pca_class_similarity(logits.astype(np.float32), labels, c,
                                   num_components=components, temperature=temperature)
        expected = _pca_similarity_reference(logits.astype(np.float32).astype(np.float64),
                                             labels, c, components, temperature)
        np.testing.assert_allclose(got, expected, atol=1e-9, rtol=1e-6)
        assert got[c] == 0.0 and got.sum() == pytest.approx(1.0)
    # the default: ceil(6 / 2) = 3 components, temperature 0.1; other forgotten classes excluded
    np.testing.assert_allclose(pca_class_similarity(logits, labels, 2, exclude=[5]),
                               _pca_similarity_reference(logits, labels, 2, 3, 0.1, exclude=[5]),
                               atol=1e-9, rtol=1e-6)


def test_pca_class_similarity_finds_the_class_whose_logits_point_the_same_way():
    # classes 0 and 1 share a logit pattern (both fire on logits 0 and 1), class 2 and 3 do not:
    # with a sharp temperature nearly all similarity of class 0 goes to class 1
    rng = np.random.default_rng(1)
    patterns = np.array([[6.0, 4.0, 0.0, 0.0], [4.0, 6.0, 0.0, 0.0], [0.0, 0.0, 6.0, 0.0],
                         [0.0, 0.0, 0.0, 6.0]])
    labels = np.repeat(np.arange(4), 50)
    logits = patterns[labels] + rng.normal(0.0, 0.5, (200, 4))
    similarity = pca_class_similarity(logits, labels, 0, num_components=3, temperature=0.1)
    assert similarity[1] > 0.99 and similarity[0] == 0.0
    # a softer temperature spreads it: still ordered the same way, but less peaked
    soft = pca_class_similarity(logits, labels, 0, num_components=3, temperature=1.0)
    assert 0.4 < soft[1] < 0.99 and soft[1] > soft[2] and soft[1] > soft[3]


def test_trw_target_with_the_papers_tilt_by_hand():
    # p = (0.7, 0.2, 0.06, 0.04) for class 0 forgotten, s = (0, 0.1, 0.8, 0.1), beta = 10:
    # q ∝ (0, 0.2 e^1, 0.06 e^8, 0.04 e^1)
    p = np.array([0.7, 0.2, 0.06, 0.04])
    s = np.array([0.0, 0.1, 0.8, 0.1])
    unnormalised = np.array([0.0, 0.2 * np.e, 0.06 * np.exp(8.0), 0.04 * np.e])
    expected = unnormalised / unnormalised.sum()  # ≈ (0, 0.0030, 0.9964, 0.0006)
    got = np.asarray(trw_target(jnp.log(jnp.asarray([p])), 0, jnp.asarray(s), tilt=10.0))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[2] > 0.99  # the similar class takes nearly all the mass although p_2 is small


@pytest.mark.parametrize("kwargs, pattern", [
    ({"temperature": 0.0}, "temperature must be > 0"),
    ({"temperature": -0.5}, "temperature must be > 0"),
    ({"temperature": float("nan")}, "temperature must be finite"),
    ({"num_components": 0}, "num_components"),
    ({"num_components": 7}, "num_components"),
    ({"num_components": 2.0}, "num_components"),
    ({"exclude": [9]}, "exclude"),
])
def test_pca_class_similarity_bad_inputs(kwargs, pattern):
    logits, labels = _clustered_logits(2)
    with pytest.raises(ValueError, match=pattern):
        pca_class_similarity(logits, labels, 0, **kwargs)
    with pytest.raises(ValueError, match="forget_class"):
        pca_class_similarity(logits, labels, 6)
    with pytest.raises(ValueError, match="labels"):
        pca_class_similarity(logits, labels[:-1], 0)
    with pytest.raises(ValueError, match=r"labels: classes \[3\]"):
        pca_class_similarity(logits[labels != 3], labels[labels != 3], 0)
