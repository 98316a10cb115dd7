"""AMUN's growing-radius search against the closed-form minimal perturbation of a linear model,
and its invariants (ball constraint, labels, batching, jit) on the small CNN."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from attack_problems import l2_norms, predictions

from jaxunlearn.attacks import AdversarialSearchResult, adversarial_examples_growing_radius

GROWTH = 1.1


@pytest.fixture(scope="module")
def linear_search(linear_problem):
    p = linear_problem
    return adversarial_examples_growing_radius(
        p.apply_fn, p.variables, p.inputs, p.labels,
        initial_epsilon=float(p.distances.min()) / 10, growth=GROWTH, max_rounds=80,
        num_steps=20, batch_size=5,
    )


def test_linear_radius_within_growth_of_the_closed_form_distance(linear_problem, linear_search):
    p, found = linear_problem, linear_search
    assert isinstance(found, AdversarialSearchResult)
    assert np.all(np.asarray(found.success))
    np.testing.assert_array_equal(found.adversarial_labels, 1 - np.asarray(p.labels))
    epsilons = np.asarray(found.epsilons, np.float64)
    # Round r fails while ε_r < d and succeeds as soon as ε_r ≥ d: ε ∈ [d, growth · d].
    assert np.all(epsilons >= p.distances * (1 - 1e-5)), (epsilons, p.distances)
    assert np.all(epsilons <= GROWTH * p.distances * (1 + 1e-5)), (epsilons / p.distances)
    norms = l2_norms(found.adversarial_inputs - p.inputs)
    assert np.all(norms >= p.distances * (1 - 1e-5))
    assert np.all(norms <= epsilons * (1 + 1e-5))


def test_per_sample_initial_radius(linear_problem):
    p = linear_problem
    found = adversarial_examples_growing_radius(
        p.apply_fn, p.variables, p.inputs, p.labels,
        initial_epsilon=jnp.asarray(0.9 * p.distances, jnp.float32), growth=2.0, max_rounds=3,
        num_steps=20,
    )
    # 0.9 d fails and 1.8 d succeeds, for every sample.
    np.testing.assert_allclose(found.epsilons, 1.8 * p.distances, rtol=1e-5)
    assert np.all(np.asarray(found.success))


def test_labels_and_failures(linear_problem):
    p = linear_problem
    labels = np.asarray(p.labels).copy()
    labels[0] = 1 - labels[0]  # the model already misclassifies sample 0
    labels_before = labels.copy()
    initial = float(p.distances.min()) / 100
    found = adversarial_examples_growing_radius(
        p.apply_fn, p.variables, p.inputs, jnp.asarray(labels),
        initial_epsilon=initial, growth=2.0, max_rounds=3, num_steps=20,
    )
    np.testing.assert_array_equal(labels, labels_before)
    success = np.asarray(found.success)
    adversarial_labels = np.asarray(found.adversarial_labels)
    # y' is the model's prediction on x'; success means y' differs from y, failure keeps y.
    np.testing.assert_array_equal(
        adversarial_labels, predictions(p.apply_fn, p.variables, found.adversarial_inputs)
    )
    np.testing.assert_array_equal(success, adversarial_labels != labels)
    # Sample 0 is adversarial as it is; the radii tried (≤ 4 · d_min / 100) flip no other sample.
    assert success.tolist() == [True] + [False] * (len(labels) - 1)
    np.testing.assert_array_equal(found.adversarial_inputs[0], p.inputs[0])
    assert float(found.epsilons[0]) == 0.0
    np.testing.assert_allclose(found.epsilons[1:], 4 * initial, rtol=1e-6)
    assert np.all(l2_norms(found.adversarial_inputs - p.inputs)[1:] <= 4 * initial * (1 + 1e-5))


@pytest.fixture(scope="module")
def cnn_search(cnn_problem):
    p = cnn_problem

    @functools.cache
    def search(batch_size):  # cached: several tests compare with the same search
        return adversarial_examples_growing_radius(
            p.apply_fn, p.variables, p.inputs, p.labels, initial_epsilon=0.1, growth=2.0,
            max_rounds=8, num_steps=10, batch_size=batch_size,
        )

    return search


def test_small_cnn_flips_most_samples_within_their_radius(cnn_problem, cnn_search):
    p = cnn_problem
    found = cnn_search(16)
    success = np.asarray(found.success)
    assert success.mean() >= 0.9
    adversarial_labels = predictions(p.apply_fn, p.variables, found.adversarial_inputs)
    np.testing.assert_array_equal(found.adversarial_labels, adversarial_labels)
    assert np.all(adversarial_labels[success] != np.asarray(p.labels)[success])
    epsilons = np.asarray(found.epsilons)
    assert np.all(l2_norms(found.adversarial_inputs - p.inputs) <= epsilons * (1 + 1e-5))
    # Every radius is ε₀ · 2^r for a round r < max_rounds.
    rounds = np.log2(epsilons / 0.1)
    np.testing.assert_allclose(rounds, np.round(rounds), atol=1e-4)
    assert rounds.max() <= 7


def _assert_same_results(batched, whole):
    np.testing.assert_array_equal(batched.success, whole.success)
    np.testing.assert_array_equal(batched.adversarial_labels, whole.adversarial_labels)
    np.testing.assert_allclose(batched.epsilons, whole.epsilons, rtol=1e-6)
    np.testing.assert_allclose(
        batched.adversarial_inputs, whole.adversarial_inputs, rtol=1e-4, atol=1e-5
    )


def test_small_cnn_inside_a_callers_jit_with_small_batches(cnn_problem, cnn_search):
    """Traced inside a caller's jit, in batches of 4: the same results as eagerly in one batch."""
    p = cnn_problem

    @jax.jit
    def search(variables, inputs, labels):
        return adversarial_examples_growing_radius(
            p.apply_fn, variables, inputs, labels, initial_epsilon=0.1, growth=2.0,
            max_rounds=8, num_steps=10, batch_size=4,
        )

    _assert_same_results(search(p.variables, p.inputs, p.labels), cnn_search(16))


def test_random_start_does_not_depend_on_batch_size(linear_problem):
    p = linear_problem

    def search(batch_size):
        return adversarial_examples_growing_radius(
            p.apply_fn, p.variables, p.inputs, p.labels, initial_epsilon=0.2, max_rounds=6,
            num_steps=5, batch_size=batch_size, key=jax.random.key(5), random_start=True,
        )

    whole = search(12)
    _assert_same_results(search(5), whole)  # 5 leaves a padded last batch
    norms = l2_norms(whole.adversarial_inputs - p.inputs)
    assert np.all(norms <= np.asarray(whole.epsilons) * (1 + 1e-5))
    assert np.all(np.asarray(whole.success))


def _never_called(*args, **kwargs):
    raise AssertionError("the model must not run for invalid arguments")


@pytest.mark.parametrize(
    "overrides, name",
    [
        (dict(initial_epsilon=0.0), "initial_epsilon"),
        (dict(initial_epsilon=-0.5), "initial_epsilon"),
        (dict(initial_epsilon=float("nan")), "initial_epsilon"),
        (dict(initial_epsilon=float("inf")), "initial_epsilon"),
        (dict(initial_epsilon=np.ones(5)), "initial_epsilon"),
        (dict(growth=1.0), "growth"),
        (dict(growth=0.5), "growth"),
        (dict(growth=float("inf")), "growth"),
        (dict(growth=float("nan")), "growth"),
        (dict(relative_step_size=0.0), "relative_step_size"),
        (dict(num_steps=0), "num_steps"),
        (dict(max_rounds=0), "max_rounds"),
        (dict(batch_size=0), "batch_size"),
        (dict(labels=jnp.zeros((3,), jnp.int32)), "labels"),
        (dict(random_start=True), "key"),
        (dict(input_bounds=(1.0, 0.0)), "input_bounds"),
    ],
)
def test_bad_arguments_raise_before_compiling(overrides, name):
    arguments = dict(
        inputs=jnp.zeros((4, 2, 2, 1)), labels=jnp.zeros((4,), jnp.int32), initial_epsilon=0.1
    )
    arguments.update(overrides)
    inputs, labels = arguments.pop("inputs"), arguments.pop("labels")
    with pytest.raises(ValueError, match=name):
        adversarial_examples_growing_radius(
            _never_called, {"params": {}}, inputs, labels, **arguments
        )
