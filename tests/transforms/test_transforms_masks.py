"""The feasible-update masks (AND, PROB, focus) and SalUn's saliency mask against independent
references: hand-computed vectors, closed forms in SciPy, Monte Carlo, NumPy argsort."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats as scipy_stats

from jaxunlearn.transforms.grad_stats import GradStats, per_example_grad_stats
from jaxunlearn.transforms.mask_probability import (
    agreement_probability,
    centered_sign_probability,
    joint_feasibility_probability,
    sign_agreement,
)
from jaxunlearn.transforms.masks import (
    aggregate_identity,
    aggregate_ling,
    aggregate_ming,
    and_mask,
    feasible_mask,
    focus_centered,
    focus_mask,
    prob_mask,
)
from jaxunlearn.transforms.saliency import saliency_mask, static_mask

G_FORGET = jnp.array([1.0, -2.0, 3.0, 0.0])
G_RETAIN = jnp.array([2.0, -1.0, -3.0, 5.0])


def stats_with(mean, sem, count=32):
    """GradStats whose mean and standard error are the given arrays (float32)."""
    mean = jnp.asarray(mean, jnp.float32)
    sem = jnp.broadcast_to(jnp.asarray(sem, jnp.float32), mean.shape)
    return GradStats(mean, sem**2 * count * (count - 1), jnp.asarray(count, jnp.int32))


def np_stats(samples):
    """float64 two-pass statistics of samples (rows = examples), as float32 GradStats."""
    samples = np.asarray(samples, np.float64)
    mean = samples.mean(axis=0)
    m2 = ((samples - mean) ** 2).sum(axis=0)
    return GradStats(jnp.asarray(mean, jnp.float32), jnp.asarray(m2, jnp.float32),
                     jnp.asarray(samples.shape[0], jnp.int32))


def run(tx, updates, **extra):
    return tx.update(updates, tx.init(updates), None, **extra)


# ---------------------------------------------------------------- 1. analytic AND


def test_sign_agreement_of_the_analytic_vectors():
    assert sign_agreement(G_FORGET, G_RETAIN).tolist() == [True, True, False, False]


@pytest.mark.parametrize("aggregate, expected", [
    (aggregate_ling(0.8, 0.5), [1.8, -2.1, 0.0, 0.0]),
    (aggregate_ming, [1.0, -1.0, 0.0, 0.0]),
    (None, [1.0, -2.0, 0.0, 0.0]),
    (aggregate_identity, [1.0, -2.0, 0.0, 0.0]),
], ids=["ling", "ming", "none", "identity"])
def test_and_mask_analytic(aggregate, expected):
    tx = and_mask(aggregate=aggregate, apply_to="gradient")
    out, state = run(tx, G_FORGET, retain_grads=G_RETAIN)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert float(state.kept_fraction) == 0.5 and int(state.count) == 1
    # the same from GradStats means
    out_stats, _ = run(tx, G_FORGET, retain_stats=stats_with(G_RETAIN, 0.0))
    np.testing.assert_array_equal(out_stats, out)


def test_and_mask_takes_g_u_from_forget_grads_and_masks_updates_in_place():
    momentum_update = jnp.array([-0.3, 0.4, -0.5, 0.6])     # some optimizer's update, θ ← θ + u
    out, _ = run(and_mask(), momentum_update, forget_grads=G_FORGET, retain_grads=G_RETAIN)
    np.testing.assert_array_equal(out, np.float32([-0.3, 0.4, 0.0, 0.0]))
    # without forget_grads the update's own descent direction −u serves as g_U
    out, _ = run(and_mask(), -0.1 * G_FORGET, retain_grads=G_RETAIN)
    np.testing.assert_allclose(out, [-0.1, 0.2, 0.0, 0.0], rtol=1e-6)


def test_and_mask_joint_also_requires_the_direction_to_agree():
    # direction d (gradient convention) agrees with g_U on coordinate 0 only
    direction = jnp.array([1.0, 2.0, 3.0, 4.0])
    out, state = run(feasible_mask("and", criterion="joint", apply_to="gradient"), direction,
                     forget_grads=G_FORGET, retain_grads=G_RETAIN)
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0, 0.0])
    assert float(state.kept_fraction) == 0.25


# ---------------------------------------------------------------- 2-4. feasibility, descent, KKT


def _random_tree(rng):
    return {"a": jnp.asarray(rng.normal(size=(7, 3)), jnp.float32),
            "b": jnp.asarray(rng.normal(size=(5,)), jnp.float32)}


def _inner(x, y):
    return sum(float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))
               for a, b in zip(jax.tree_util.tree_leaves(x), jax.tree_util.tree_leaves(y)))


@pytest.mark.parametrize("aggregate", [aggregate_ming, aggregate_ling(0.8, 0.5),
                                       aggregate_ling(0.1, 3.0), None],
                         ids=["ming", "ling_0.8_0.5", "ling_0.1_3", "identity_on_g_u"])
def test_masked_direction_is_feasible(aggregate):
    rng = np.random.default_rng(0)
    tx = and_mask(aggregate=aggregate, apply_to="gradient")
    for trial in range(20):
        g_forget, g_retain = _random_tree(rng), _random_tree(rng)
        if trial == 0:   # a case with an empty mask
            g_retain = jax.tree_util.tree_map(lambda g: -2.0 * g, g_forget)
        d, state = run(tx, g_forget, forget_grads=g_forget, retain_grads=g_retain)
        along_forget, along_retain = _inner(g_forget, d), _inner(g_retain, d)
        assert along_forget >= 0 and along_retain >= 0
        empty = float(state.kept_fraction) == 0.0
        assert empty == (trial == 0)
        assert (along_forget == 0 and along_retain == 0) == empty


def test_one_masked_step_descends_both_quadratics():
    # L_U = ½‖θ − a‖², L_C = ½‖θ − b‖²; g_U = θ − a, g_C = θ − b
    a, b = np.array([1.0, 1.0, -1.0]), np.array([1.0, -1.0, 2.0])
    theta = jnp.zeros(3)
    loss_u = lambda t: 0.5 * np.sum((np.asarray(t, np.float64) - a) ** 2)
    loss_c = lambda t: 0.5 * np.sum((np.asarray(t, np.float64) - b) ** 2)
    g_u, g_c = theta - a, theta - b
    plain = theta - 0.1 * g_u
    assert loss_u(plain) < loss_u(theta) and loss_c(plain) > loss_c(theta)
    for aggregate in (None, aggregate_ming, aggregate_ling(0.8, 0.5)):
        tx = optax.chain(and_mask(aggregate=aggregate, apply_to="gradient"), optax.sgd(0.1))
        updates, _ = tx.update(g_u, tx.init(theta), theta, retain_grads=g_c)
        stepped = optax.apply_updates(theta, updates)
        assert loss_u(stepped) < loss_u(theta) and loss_c(stepped) < loss_c(theta)


@pytest.mark.parametrize("make, first", [
    (lambda: and_mask(), False),
    (lambda: and_mask(aggregate=aggregate_ling(0.8, 0.5), apply_to="gradient"), True),
    (lambda: prob_mask(0.45), False),
    (lambda: prob_mask(0.45, criterion="joint"), False),
], ids=["and", "and_ling_first", "prob", "prob_joint"])
def test_kkt_point_stalls_exactly(make, first):
    # g_U = −λ g_C with λ > 0: no coordinate-wise feasible direction, the update is exactly 0
    rng = np.random.default_rng(1)
    params = _random_tree(rng)
    g_retain = _random_tree(rng)
    g_forget = jax.tree_util.tree_map(lambda g: -0.7 * g, g_retain)
    noiseless = lambda g: GradStats(g, jax.tree_util.tree_map(jnp.zeros_like, g), jnp.asarray(8))
    if first:   # a gradient-side mask sits before the optimizer (no weight decay after it)
        tx = optax.chain(make(), optax.sgd(0.1, momentum=0.9))
    else:
        tx = optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.1, momentum=0.9), make())
    updates, _ = tx.update(g_forget, tx.init(params), params, retain_grads=g_retain,
                           forget_stats=noiseless(g_forget), retain_stats=noiseless(g_retain))
    for leaf in jax.tree_util.tree_leaves(updates):
        assert not np.any(np.asarray(leaf))
    new_params = optax.apply_updates(params, updates)
    jax.tree_util.tree_map(lambda x, y: np.testing.assert_array_equal(x, y), new_params, params)


def test_gradient_ascent_sign_convention_end_to_end():
    """Stats of the loss being minimised (−CE for GA; here −squared error): the masked GA step
    raises the forget loss and does not raise the retain loss."""
    rng = np.random.default_rng(2)
    w_true = rng.normal(size=6)
    x_forget, x_retain = rng.normal(size=(32, 6)), rng.normal(size=(64, 6))
    y_forget = x_forget @ w_true + rng.normal(size=32)
    y_retain = x_retain @ w_true
    w = jnp.asarray(w_true + 0.3 * rng.normal(size=6), jnp.float32)
    sq = lambda w, ex: 0.5 * (jnp.dot(w, ex["x"]) - ex["y"]) ** 2
    as_batch = lambda x, y: {"x": jnp.asarray(x, jnp.float32), "y": jnp.asarray(y, jnp.float32)}
    forget_batch, retain_batch = as_batch(x_forget, y_forget), as_batch(x_retain, y_retain)
    forget_stats = per_example_grad_stats(lambda w, ex: -sq(w, ex), w, forget_batch)   # GA
    retain_stats = per_example_grad_stats(sq, w, retain_batch)
    mean_loss = lambda w, x, y: 0.5 * np.mean((x @ np.asarray(w, np.float64) - y) ** 2)
    tx = optax.chain(optax.sgd(1e-3), prob_mask(0.45))

    def step(stats_of_forget):
        updates, state = tx.update(forget_stats.mean, tx.init(w), w,
                                   forget_stats=stats_of_forget, retain_stats=retain_stats)
        return optax.apply_updates(w, updates), float(state[1].kept_fraction)

    stepped, kept = step(forget_stats)
    assert 0 < kept < 1
    assert mean_loss(stepped, x_forget, y_forget) > mean_loss(w, x_forget, y_forget)
    assert mean_loss(stepped, x_retain, y_retain) <= mean_loss(w, x_retain, y_retain)
    # statistics of +CE (the loss being maximised) invert the mask: the step hurts the retain set
    stepped, _ = step(per_example_grad_stats(sq, w, forget_batch))
    assert mean_loss(stepped, x_retain, y_retain) > mean_loss(w, x_retain, y_retain)


# ---------------------------------------------------------------- 5. closed forms vs Monte Carlo

MEANS_U = np.array([0.3, -0.2, 0.05, 1.0, -0.5, 0.0, 0.2, -0.1])
SEMS_U = np.array([0.2, 0.3, 0.1, 0.5, 0.25, 0.4, 0.05, 0.2])
MEANS_C = np.array([0.1, 0.4, -0.05, 0.8, -0.3, 0.3, -0.1, -0.15])
SEMS_C = np.array([0.3, 0.2, 0.1, 0.2, 0.5, 0.3, 0.2, 0.1])
DIRECTIONS = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0])


def test_probabilities_match_monte_carlo():
    samples = 400_000
    rng = np.random.default_rng(3)
    g_u = MEANS_U + SEMS_U * rng.standard_normal((samples, 8))
    g_c = MEANS_C + SEMS_C * rng.standard_normal((samples, 8))
    forget, retain = stats_with(MEANS_U, SEMS_U), stats_with(MEANS_C, SEMS_C)
    closed = {
        "agreement": np.asarray(agreement_probability(forget, retain), np.float64),
        "joint": np.asarray(joint_feasibility_probability(forget, retain, jnp.asarray(DIRECTIONS)),
                            np.float64),
    }
    monte_carlo = {
        "agreement": np.mean(g_u * g_c > 0, axis=0),
        "joint": np.mean((DIRECTIONS * g_u > 0) & (DIRECTIONS * g_c > 0), axis=0),
    }
    for name in closed:
        p = closed[name]
        standard_error = np.sqrt(p * (1 - p) / samples)
        assert np.all(np.abs(monte_carlo[name] - p) <= 3 * standard_error + 1e-6), name


def test_closed_forms_match_scipy():
    t_u, t_c = MEANS_U / SEMS_U, MEANS_C / SEMS_C
    phi_u, phi_c = scipy_stats.norm.cdf(t_u), scipy_stats.norm.cdf(t_c)
    forget, retain = stats_with(MEANS_U, SEMS_U), stats_with(MEANS_C, SEMS_C)
    np.testing.assert_allclose(agreement_probability(forget, retain),
                               phi_u * phi_c + (1 - phi_u) * (1 - phi_c), atol=2e-6)
    expected_joint = scipy_stats.norm.cdf(DIRECTIONS * t_u) * scipy_stats.norm.cdf(DIRECTIONS * t_c)
    np.testing.assert_allclose(
        joint_feasibility_probability(forget, retain, jnp.asarray(DIRECTIONS)), expected_joint,
        atol=2e-6)


@pytest.mark.parametrize("count", [3, 8, 33])
def test_student_t_sign_probability_matches_scipy(count):
    t = np.array([-np.inf, -6.0, -1.5, -0.2, 0.0, 0.3, 2.0, 9.0, np.inf])
    sem = np.where(np.isfinite(t), 1.0, 0.0)
    mean = np.where(np.isfinite(t), t, np.sign(t))
    c = centered_sign_probability(stats_with(mean, sem, count), "student_t")
    np.testing.assert_allclose(c, 2 * scipy_stats.t.cdf(t, count - 1) - 1, atol=2e-6)


def test_symmetry_half_and_joint_bound():
    grid = np.array([-4.0, -1.3, -0.4, 0.0, 0.2, 0.9, 2.5, 6.0])
    t_u, t_c = np.meshgrid(grid, grid)
    t_u, t_c = t_u.ravel(), t_c.ravel()
    p = lambda a, b: np.asarray(agreement_probability(stats_with(a, 1.0), stats_with(b, 1.0)))
    np.testing.assert_allclose(p(t_u, t_c), p(-t_u, -t_c), atol=1e-7)
    np.testing.assert_allclose(p(np.zeros_like(t_c), t_c), 0.5, atol=1e-7)
    for direction in (1.0, -1.0):
        q = joint_feasibility_probability(stats_with(t_u, 1.0), stats_with(t_c, 1.0),
                                          jnp.full(t_u.shape, direction))
        bound = np.minimum(scipy_stats.norm.cdf(np.abs(t_u)), scipy_stats.norm.cdf(np.abs(t_c)))
        assert np.all(np.asarray(q) <= bound + 1e-6)


# ---------------------------------------------------------------- 6. noise limits


def _limit_inputs(sem):
    rng = np.random.default_rng(4)
    g_u, g_c = rng.normal(size=200), rng.normal(size=200)
    return g_u, g_c, stats_with(g_u, sem * np.abs(g_u)), stats_with(g_c, sem * np.abs(g_c))


@pytest.mark.parametrize("criterion", ["agreement", "joint"])
@pytest.mark.parametrize("threshold", [0.1, 0.45, 0.9])
@pytest.mark.parametrize("relative_sem", [0.0, 1e-6])
def test_without_noise_prob_equals_and(criterion, threshold, relative_sem):
    g_u, g_c, forget, retain = _limit_inputs(relative_sem)
    reference = np.where(g_u * g_c > 0, g_u, 0.0)      # the AND mask on the GA direction g_U
    tx = prob_mask(threshold, criterion=criterion, apply_to="gradient")
    out, _ = run(tx, jnp.asarray(g_u, jnp.float32), forget_stats=forget, retain_stats=retain)
    np.testing.assert_allclose(out, reference, rtol=1e-6)
    and_out, _ = run(feasible_mask("and", criterion=criterion, apply_to="gradient"),
                     jnp.asarray(g_u, jnp.float32), forget_stats=forget, retain_stats=retain)
    np.testing.assert_array_equal(out, and_out)


@pytest.mark.parametrize("criterion, threshold, kept", [
    ("agreement", 0.45, 1.0), ("agreement", 0.55, 0.0), ("joint", 0.45, 0.0), ("joint", 0.2, 1.0),
])
def test_infinite_noise_limits(criterion, threshold, kept):
    g_u, _, forget, retain = _limit_inputs(1e9)
    probability = (agreement_probability(forget, retain) if criterion == "agreement" else
                   joint_feasibility_probability(forget, retain, jnp.asarray(g_u)))
    np.testing.assert_allclose(probability, 0.5 if criterion == "agreement" else 0.25, atol=1e-6)
    _, state = run(prob_mask(threshold, criterion=criterion), jnp.asarray(-g_u, jnp.float32),
                   forget_stats=forget, retain_stats=retain)
    assert float(state.kept_fraction) == kept


def test_injected_threshold_can_be_changed_in_the_state():
    g_u, _, forget, retain = _limit_inputs(1e9)      # P = ½ everywhere
    tx = optax.inject_hyperparams(prob_mask)(threshold=0.45)
    state = tx.init(jnp.asarray(g_u))
    step = jax.jit(lambda s: tx.update(jnp.asarray(g_u), s, None, forget_stats=forget,
                                       retain_stats=retain))
    _, state = step(state)
    assert float(state.inner_state.kept_fraction) == 1.0
    state.hyperparams["threshold"] = jnp.asarray(0.55)
    _, state = step(state)
    assert float(state.inner_state.kept_fraction) == 0.0
    # callables pass through static_args (Optax would take them for schedules)
    tx = optax.inject_hyperparams(feasible_mask, static_args=("aggregate",))(
        "prob", threshold=0.3, aggregate=aggregate_ming, apply_to="gradient")
    out, state = tx.update(jnp.asarray(g_u), tx.init(jnp.asarray(g_u)), None,
                           forget_stats=forget, retain_stats=retain)
    g_c = np.asarray(retain.mean)
    np.testing.assert_allclose(out, np.sign(g_u) * np.minimum(np.abs(g_u), np.abs(g_c)), rtol=1e-6)
    assert "threshold" in state.hyperparams


# ---------------------------------------------------------------- 7. calibration


def _simulate(rng, coordinates=20_000, n=32):
    mu_u, mu_c = rng.uniform(-1, 1, coordinates), rng.uniform(-1, 1, coordinates)
    sigma_u, sigma_c = rng.uniform(0.5, 2, coordinates), rng.uniform(0.5, 2, coordinates)
    x_u = mu_u + sigma_u * rng.standard_normal((n, coordinates))
    x_c = mu_c + sigma_c * rng.standard_normal((n, coordinates))
    return mu_u, mu_c, np_stats(x_u), np_stats(x_c)


def _assert_calibrated(predicted, truth, thresholds):
    edges = np.linspace(0, 1, 11)
    bins = np.clip(np.digitize(predicted, edges) - 1, 0, 9)
    checked = 0
    for b in range(10):
        inside = bins == b
        if inside.sum() < 300:
            continue
        mean_predicted = predicted[inside].mean()
        frequency = truth[inside].mean()
        standard_error = np.sqrt(mean_predicted * (1 - mean_predicted) / inside.sum())
        assert abs(frequency - mean_predicted) <= 3 * standard_error + 0.02, (b, frequency,
                                                                            mean_predicted)
        checked += 1
    assert checked >= 4
    for p in thresholds:
        kept = predicted >= p
        assert truth[kept].mean() >= p - 0.02


def test_agreement_probability_is_calibrated():
    mu_u, mu_c, forget, retain = _simulate(np.random.default_rng(5))
    predicted = np.asarray(agreement_probability(forget, retain), np.float64)
    _assert_calibrated(predicted, mu_u * mu_c > 0, thresholds=(0.45, 0.7, 0.9))


def test_joint_feasibility_probability_is_calibrated():
    mu_u, mu_c, forget, retain = _simulate(np.random.default_rng(6))
    direction = np.sign(np.asarray(forget.mean))          # the step along the forget gradient
    predicted = np.asarray(joint_feasibility_probability(forget, retain, jnp.asarray(direction)),
                           np.float64)
    truth = (direction * mu_u > 0) & (direction * mu_c > 0)
    _assert_calibrated(predicted, truth, thresholds=(0.45, 0.7, 0.9))


# ---------------------------------------------------------------- focus vector


def test_focus_vector_is_the_probability_and_tends_to_and():
    forget, retain = stats_with(MEANS_U, SEMS_U), stats_with(MEANS_C, SEMS_C)
    t_u, t_c = MEANS_U / SEMS_U, MEANS_C / SEMS_C
    phi_u, phi_c = scipy_stats.norm.cdf(t_u), scipy_stats.norm.cdf(t_c)
    expected_p = phi_u * phi_c + (1 - phi_u) * (1 - phi_c)
    out, state = run(focus_mask(apply_to="gradient"), jnp.ones(8),
                     forget_stats=forget, retain_stats=retain)
    np.testing.assert_allclose(out, expected_p, atol=2e-6)
    np.testing.assert_allclose(float(state.kept_fraction), expected_p.mean(), rtol=1e-5)
    out, _ = run(focus_mask(weighting=focus_centered, apply_to="gradient"), jnp.ones(8),
                 forget_stats=forget, retain_stats=retain)
    np.testing.assert_allclose(out, np.clip(2 * expected_p - 1, 0, None), atol=4e-6)
    # no noise: the AND indicator
    out, _ = run(focus_mask(apply_to="gradient"), jnp.ones(8), forget_stats=stats_with(MEANS_U, 0),
                 retain_stats=stats_with(MEANS_C, 0))
    np.testing.assert_array_equal(out, (MEANS_U * MEANS_C > 0).astype(np.float32))


def test_focus_weight_grows_with_confidence():
    sems = np.array([10.0, 1.0, 0.5, 0.2, 0.1, 0.01])     # |t_U| increasing, same sign as g_C
    for sign_c in (1.0, -1.0):
        out, _ = run(focus_mask(apply_to="gradient"), jnp.ones(6),
                     forget_stats=stats_with(np.full(6, 0.3), sems),
                     retain_stats=stats_with(np.full(6, 0.3 * sign_c), 0.2))
        steps = np.diff(np.asarray(out))
        assert np.all(steps > 0) if sign_c > 0 else np.all(steps < 0)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs, name", [
    ({"threshold": -0.1}, "threshold"), ({"threshold": 1.1}, "threshold"),
    ({"threshold": float("nan")}, "threshold"), ({"threshold": float("inf")}, "threshold"),
    ({"mode": "or"}, "mode"), ({"criterion": "cosine"}, "criterion"),
    ({"apply_to": "both"}, "apply_to"), ({"distribution": "cauchy"}, "distribution"),
    ({"aggregate": aggregate_ming}, "aggregate"),                  # with apply_to="update"
    ({"weighting": focus_centered}, "weighting"),                  # with mode="and"
])
def test_bad_hyperparameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        feasible_mask(**kwargs)


@pytest.mark.parametrize("alpha, beta, name", [
    (0.0, 0.5, "alpha"), (-1.0, 0.5, "alpha"), (float("nan"), 0.5, "alpha"),
    (0.8, 0.0, "beta"), (0.8, float("inf"), "beta"),
])
def test_bad_ling_weights_raise(alpha, beta, name):
    with pytest.raises(ValueError, match=name):
        aggregate_ling(alpha, beta)


def test_missing_extra_args_raise():
    with pytest.raises(TypeError, match="retain_grads"):
        run(and_mask(), G_FORGET)
    with pytest.raises(TypeError, match="retain_stats"):
        run(prob_mask(), G_FORGET, retain_grads=G_RETAIN)
    with pytest.raises(TypeError, match="forget_stats"):
        run(prob_mask(), G_FORGET, forget_stats=G_FORGET, retain_stats=stats_with(G_RETAIN, 1.0))


# ---------------------------------------------------------------- 9. SalUn


def _numpy_saliency(leaves, keep_fraction):
    flat = np.concatenate([np.abs(np.asarray(leaf, np.float64)).ravel() for leaf in leaves])
    order = np.argsort(-flat, kind="stable")
    mask = np.zeros(flat.size, bool)
    mask[order[:int(flat.size * keep_fraction)]] = True
    return mask


@pytest.mark.parametrize("keep_fraction", [0.1, 0.5, 0.37, 1.0])
def test_saliency_mask_matches_numpy_argsort(keep_fraction):
    rng = np.random.default_rng(7)
    grads = {"conv": jnp.asarray(rng.normal(size=(3, 3, 2, 4)), jnp.float32),
             "dense": {"bias": jnp.asarray(rng.normal(size=(5,)), jnp.float32),
                       "kernel": jnp.asarray(rng.normal(size=(9, 5)), jnp.float32)}}
    # ties, broken by position
    grads["dense"]["bias"] = grads["dense"]["bias"].at[:3].set(0.5)
    grads["dense"]["kernel"] = grads["dense"]["kernel"].at[0, :4].set(-0.5)
    leaves = jax.tree_util.tree_leaves(grads)
    mask = saliency_mask(grads, keep_fraction)
    flat = np.concatenate([np.asarray(m).ravel() for m in jax.tree_util.tree_leaves(mask)])
    np.testing.assert_array_equal(flat, _numpy_saliency(leaves, keep_fraction))
    assert flat.sum() == int(flat.size * keep_fraction)
    assert jax.tree_util.tree_structure(mask) == jax.tree_util.tree_structure(grads)


def test_saliency_ranking_is_global_not_per_layer():
    rng = np.random.default_rng(8)
    grads = {"loud": jnp.asarray(100 + rng.random(30), jnp.float32),
             "quiet": jnp.asarray(rng.random(31), jnp.float32)}
    mask = saliency_mask(grads, 0.4)       # ⌊0.4 · 61⌋ = 24 ones, all in the loud leaf
    assert int(mask["loud"].sum()) == 24 and int(mask["quiet"].sum()) == 0


@pytest.mark.parametrize("keep_fraction", [0.0, -0.5, 1.5, float("nan")])
def test_saliency_bad_fraction_raises(keep_fraction):
    with pytest.raises(ValueError, match="keep_fraction"):
        saliency_mask({"w": jnp.ones(4)}, keep_fraction)


def _bits(tree):
    return [np.asarray(leaf).view(np.uint32) for leaf in jax.tree_util.tree_leaves(tree)]


def test_masked_weights_stay_bit_identical_under_weight_decay_and_momentum():
    """SalUn issue #32: with the mask last, weight decay and momentum never move masked weights."""
    rng = np.random.default_rng(9)
    params = {"kernel": jnp.asarray(rng.normal(size=(6, 4)), jnp.float32),
              "bias": jnp.zeros(4).at[1].set(-0.0)}
    saliency = jax.tree_util.tree_map(lambda p: jnp.asarray(rng.normal(size=p.shape)), params)
    saliency["bias"] = saliency["bias"].at[1].set(0.0)     # the −0.0 weight is frozen
    mask = saliency_mask(saliency, 0.5)

    def train(tx, steps=15):
        state, current = tx.init(params), params
        for i in range(steps):
            grads = jax.tree_util.tree_map(
                lambda p: jnp.asarray(rng.normal(size=p.shape), jnp.float32), params)
            updates, state = tx.update(grads, state, current)
            current = optax.apply_updates(current, updates)
        return current

    masked_last = train(optax.chain(optax.add_decayed_weights(5e-4),
                                    optax.sgd(0.01, momentum=0.9), static_mask(mask)))
    for start, end, keep in zip(_bits(params), _bits(masked_last), jax.tree_util.tree_leaves(mask)):
        keep = np.asarray(keep)
        np.testing.assert_array_equal(end[~keep], start[~keep])
        assert np.all(end[keep] != start[keep])
    # masking the gradient only: weight decay moves the frozen weights
    masked_first = train(optax.chain(static_mask(mask), optax.add_decayed_weights(5e-4),
                                     optax.sgd(0.01, momentum=0.9)))
    kernel_frozen = ~np.asarray(mask["kernel"])
    assert np.any(np.asarray(masked_first["kernel"])[kernel_frozen]
                  != np.asarray(params["kernel"])[kernel_frozen])


def test_static_mask_weights_and_structure_errors():
    out, _ = run(static_mask(jnp.array([1.0, 0.5, 0.0])), jnp.array([2.0, 2.0, jnp.nan]))
    np.testing.assert_array_equal(out, [2.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="mask"):
        run(static_mask({"a": jnp.ones(2)}), {"b": jnp.ones(2)})
    with pytest.raises(ValueError, match="mask"):
        static_mask(jnp.array([1.0, jnp.inf]))

