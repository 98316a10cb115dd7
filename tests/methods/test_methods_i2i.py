"""Image-to-image unlearning: ``i2i_decouple`` (decoupling + knowledge retention, with its (ε, δ)
certificate) and the ``i2i_noise_target`` baseline, on a convolutional autoencoder trained on
digits with digit 0 forgotten.

Stated effects, on this problem: the decoupling phase raises the forget reconstruction error at
least 2x above the original model's; the retention phase brings the retain error back within
25% of the original's. The certificate is checked against the Gaussian mechanism computed
independently in NumPy, including its exact hockey-stick divergence.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

from jaxunlearn.certify.i2i import DecouplingGuarantee, gaussian_mechanism_delta, gaussian_noise_std
from jaxunlearn.config import TrainConfig
from jaxunlearn.data import load_digits, make_splits
from jaxunlearn.losses import reconstruction_mse
from jaxunlearn.methods import METHODS, Batch, TermContext, unlearn
from jaxunlearn.evaluate.generative import mean_reconstruction_error
from jaxunlearn.methods.i2i import IMAGE_TO_IMAGE_METHODS
from jaxunlearn.transforms import output_perturbation, phase_switch
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import train
from variable_fill import numpy_variables

DECOUPLE_STEPS = 20
DECOUPLE = {"decouple_steps": DECOUPLE_STEPS, "decouple_learning_rate": 0.05, "lipschitz": 1.0}
RETENTION_STEPS = 60


def _norm(tree) -> float:
    return math.sqrt(sum(float(np.sum(np.square(np.asarray(leaf, np.float64))))
                         for leaf in jax.tree_util.tree_leaves(tree)))


def _difference(first, second):
    return jax.tree_util.tree_map(
        lambda a, b: np.asarray(a, np.float64) - np.asarray(b, np.float64), first, second)


@pytest.fixture(scope="module")
def problem():
    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_classes=[0])
    fns = create_model_fns("conv_autoencoder", 10, channels=(8,), latent_size=16)
    variables = numpy_variables(fns.init, train_set.inputs[:1])
    config = TrainConfig(epochs=15, batch_size=64, optimizer="adam", learning_rate=3e-3,
                         weight_decay=0.0, augment=False)
    original = train(fns.apply, variables, splits.train, config, loss_fn=reconstruction_mse,
                     targets="inputs", progress=False).variables
    return fns, original, splits


@pytest.fixture(scope="module")
def decoupled(problem):
    """The model after the decoupling phase and the (zero) noise step, nothing more."""
    fns, original, splits = problem
    return unlearn(fns, original, splits, "i2i_decouple", steps=DECOUPLE_STEPS + 1,
                   hyperparams=DECOUPLE, key=0, progress=False)


def _error(problem, variables, name):
    fns, _, splits = problem
    dataset = {"forget": splits.forget_set, "retain": splits.retain_set, "test": splits.test}[name]
    return mean_reconstruction_error(fns.apply, variables, dataset.inputs)


def test_registered_methods():
    assert set(IMAGE_TO_IMAGE_METHODS) <= set(METHODS)


def test_decoupling_moves_forget_reconstructions_away_and_retention_restores_retain(
        problem, decoupled):
    _, original, _ = problem
    forget_before = _error(problem, original, "forget")
    retain_before = _error(problem, original, "retain")
    # the stopping level is the original model's mean test error, and the log records it
    assert decoupled.log["stop_level"] == pytest.approx(_error(problem, original, "test"),
                                                        rel=1e-5)
    assert _error(problem, decoupled.variables, "forget") >= 2.0 * forget_before

    fns, _, splits = problem
    full = unlearn(fns, original, splits, "i2i_decouple",
                   steps=DECOUPLE_STEPS + 1 + RETENTION_STEPS, hyperparams=DECOUPLE, key=0,
                   progress=False)
    assert _error(problem, full.variables, "retain") <= 1.25 * retain_before
    assert _error(problem, full.variables, "test") <= 1.25 * _error(problem, original, "test")
    # retention reads D_r only: it starts from the decoupled model (same first 21 steps)
    history = full.log["history"]
    assert all(math.isfinite(entry["retain_loss"]) for entry in history)


def test_ascent_displacement_is_within_its_bound(problem, decoupled):
    _, original, _ = problem
    moved = _norm(_difference(decoupled.variables["params"], original["params"]))
    bound = decoupled.log["guarantee"]["ascent_displacement"]
    assert bound == pytest.approx(0.05 * DECOUPLE_STEPS * 1.0)
    assert 0.0 < moved <= bound * (1 + 1e-5)


def test_output_perturbation_adds_the_calibrated_noise_at_the_phase_change(problem, decoupled):
    fns, original, splits = problem
    hyper = {**DECOUPLE, "epsilon": 0.5, "delta": 1e-5, "strong_convexity": 4000.0}
    noised = unlearn(fns, original, splits, "i2i_decouple", steps=DECOUPLE_STEPS + 1,
                     hyperparams=hyper, key=0, progress=False)
    n, n_f = len(splits.train), len(splits.forget_indices)
    delta_bound = 2 * 1.0 * n_f / (4000.0 * n) + 0.05 * DECOUPLE_STEPS * 1.0
    sigma = delta_bound * np.sqrt(2 * np.log(1.25 / 1e-5)) / 0.5
    guarantee = noised.log["guarantee"]
    assert guarantee["certified"] and guarantee["sensitivity"] == pytest.approx(delta_bound)
    assert guarantee["noise_std"] == pytest.approx(sigma, rel=1e-12)
    # same key, same ascent: the difference is the noise alone
    noise = np.concatenate([leaf.ravel() for leaf in jax.tree_util.tree_leaves(
        _difference(noised.variables["params"], decoupled.variables["params"]))])
    assert noise.size > 4000
    assert np.std(noise) == pytest.approx(sigma, rel=0.05)
    assert abs(np.mean(noise)) < 5 * sigma / np.sqrt(noise.size)
    assert stats.kstest(noise / sigma, "norm").pvalue > 1e-3


def test_noise_target_moves_only_the_encoder(problem):
    fns, original, splits = problem
    result = unlearn(fns, original, splits, "i2i_noise_target", steps=12, key=0, progress=False)
    params, before = result.variables["params"], original["params"]
    for new, old in zip(jax.tree_util.tree_leaves(params["decoder"]),
                        jax.tree_util.tree_leaves(before["decoder"])):
        np.testing.assert_array_equal(np.asarray(new), np.asarray(old))
    assert _norm(_difference(params["encoder"], before["encoder"])) > 0
    assert _error(problem, result.variables, "forget") > _error(problem, original, "forget")
    assert result.log["hyperparams"]["forget_alpha"] == 0.2


# --- the certificate, against NumPy ---------------------------------------------------------------


@pytest.mark.parametrize("sensitivity, epsilon, delta", [(1.0, 0.5, 1e-5), (0.3, 0.9, 1e-6),
                                                         (2.5, 0.1, 1e-3)])
def test_noise_std_is_the_gaussian_mechanism_and_meets_its_delta(sensitivity, epsilon, delta):
    sigma = gaussian_noise_std(sensitivity, epsilon, delta)
    assert sigma == pytest.approx(sensitivity * np.sqrt(2 * np.log(1.25 / delta)) / epsilon,
                                  rel=1e-12)
    # hockey-stick divergence E_{e^ε}(N(0, σ²) ‖ N(Δ, σ²)) = ∫ max(0, p − e^ε q), integrated on a
    # grid: the worst pair at distance Δ (any dimension reduces to this one by rotation)
    grid = np.linspace(-40 * sigma, 40 * sigma + sensitivity, 2_000_001)
    p = stats.norm.pdf(grid, 0.0, sigma)
    q = stats.norm.pdf(grid, sensitivity, sigma)
    hockey_stick = np.trapezoid(np.maximum(p - np.exp(epsilon) * q, 0.0), grid)
    assert hockey_stick <= delta
    assert gaussian_mechanism_delta(sensitivity, sigma, epsilon) == pytest.approx(
        hockey_stick, rel=1e-4, abs=1e-12)
    # less noise, a larger δ
    assert gaussian_mechanism_delta(sensitivity, sigma / 2, epsilon) > hockey_stick


def test_guarantee_parts():
    guarantee = DecouplingGuarantee(lipschitz=2.0, strong_convexity=0.1, num_train=1000,
                                    num_forget=50, ascent_learning_rate=0.01, ascent_steps=30,
                                    epsilon=0.5, delta=1e-5)
    assert guarantee.training_sensitivity == pytest.approx(2 * 2.0 * 50 / (0.1 * 1000))
    assert guarantee.ascent_displacement == pytest.approx(0.01 * 30 * 2.0)
    assert guarantee.sensitivity == pytest.approx(2.0 + 0.6)
    assert guarantee.noise_std == pytest.approx(2.6 * np.sqrt(2 * np.log(1.25e5)) / 0.5)
    uncertified = DecouplingGuarantee(1.0, 0.0, 1000, 50, 0.01, 30)
    assert uncertified.noise_std == 0.0 and uncertified.as_dict()["sensitivity"] is None


@pytest.mark.parametrize("changes, message", [
    ({"num_forget": 0}, "forget set empty"),
    ({"epsilon": 1.5}, "epsilon"),
    ({"epsilon": 0.5, "strong_convexity": 0.0}, "strong_convexity > 0"),
    ({"ascent_steps": 0}, "ascent_steps"),
    ({"delta": 0.0}, "delta"),
])
def test_guarantee_rejects_bad_arguments(changes, message):
    arguments = dict(lipschitz=1.0, strong_convexity=0.1, num_train=100, num_forget=10,
                     ascent_learning_rate=0.1, ascent_steps=5)
    with pytest.raises(ValueError, match=message):
        DecouplingGuarantee(**{**arguments, **changes})


# --- transforms and terms ---------------------------------------------------------------------


def test_phase_switch_and_output_perturbation():
    params = {"w": jnp.zeros(3)}
    chain = optax.chain(phase_switch(optax.scale(-1.0), optax.scale(-10.0), switch_step=2),
                        output_perturbation(0.5, at_step=2, seed=3))
    state = chain.init(params)
    grads = {"w": jnp.ones(3)}
    step = jax.jit(chain.update)
    updates = []
    for _ in range(4):
        update, state = step(grads, state, params)
        updates.append(np.asarray(update["w"]))
    np.testing.assert_array_equal(updates[0], -np.ones(3))
    np.testing.assert_array_equal(updates[1], -np.ones(3))
    expected_noise = 0.5 * np.asarray(jax.random.normal(jax.random.key(3), (3,)))
    np.testing.assert_allclose(updates[2], expected_noise, rtol=1e-6)  # zero update + noise
    np.testing.assert_array_equal(updates[3], -10 * np.ones(3))


def test_bounded_ascent_term_caps_each_example_at_the_stop_level(problem):
    fns, original, splits = problem
    inputs = jnp.asarray(splits.forget_set.inputs[:6])
    weights = jnp.asarray([1, 1, 1, 1, 1, 0], jnp.float32)
    outputs = np.asarray(jax.jit(fns.apply, static_argnums=2)(original, inputs, False)[0],
                         np.float64)
    errors = np.mean(np.square(outputs - np.asarray(inputs, np.float64)).reshape(6, -1), axis=1)
    stop_level = float(np.median(errors[:5]))
    hyper = METHODS["i2i_decouple"].hyperparameters()
    context = TermContext(fns.apply, {"stop_level": jnp.float32(stop_level)}, hyper,
                          jax.random.key(0), jnp.int32(0), 10, 10)
    batch = Batch(inputs, jnp.zeros(6, jnp.int32), weights, jnp.arange(6, dtype=jnp.int32))
    term = METHODS["i2i_decouple"].forget_term
    loss, _ = jax.jit(lambda params: term(params, {}, batch, context))(original["params"])
    expected = -np.sum(np.minimum(errors, stop_level)[:5]) / 5
    assert float(loss) == pytest.approx(expected, rel=1e-5)


# --- errors --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier_problem():
    train_set, test_set = load_digits()
    fns = create_model_fns("mlp", 10, hidden_sizes=(8,))
    variables = numpy_variables(fns.init, train_set.inputs[:1])
    return fns, variables, make_splits(train_set, test_set, forget_fraction=0.1)


@pytest.mark.parametrize("name", IMAGE_TO_IMAGE_METHODS)
def test_classifier_is_rejected(classifier_problem, name):
    fns, variables, splits = classifier_problem
    with pytest.raises(ValueError, match="needs an image-to-image model"):
        unlearn(fns, variables, splits, name, steps=30, progress=False)


def test_too_few_steps_for_both_phases(problem):
    fns, original, splits = problem
    with pytest.raises(ValueError, match="steps must be > 20"):
        unlearn(fns, original, splits, "i2i_decouple", steps=DECOUPLE_STEPS,
                hyperparams=DECOUPLE, progress=False)


def test_certified_run_needs_strong_convexity(problem):
    fns, original, splits = problem
    with pytest.raises(ValueError, match="strong_convexity > 0"):
        unlearn(fns, original, splits, "i2i_decouple", steps=30,
                hyperparams={"epsilon": 0.5}, progress=False)
