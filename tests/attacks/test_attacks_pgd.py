"""PGD-ℓ2 against the closed-form minimal perturbation of a linear model, and its invariants
(ball constraint, input bounds, jit) on the small CNN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from attack_problems import l2_norms, predictions

from jaxunlearn.attacks import pgd_l2


def test_linear_flips_just_above_the_closed_form_distance(linear_problem):
    p = linear_problem
    adversarial = pgd_l2(
        p.apply_fn, p.variables, p.inputs, p.labels,
        epsilon=jnp.asarray(1.02 * p.distances, jnp.float32), num_steps=20,
    )
    assert np.all(predictions(p.apply_fn, p.variables, adversarial) != np.asarray(p.labels))
    delta = np.asarray(adversarial - p.inputs, np.float64).reshape(len(p.distances), -1)
    # The loss gradient of a two-class linear model is parallel to w, so PGD walks straight to
    # the ball's boundary along the closed-form direction.
    np.testing.assert_allclose(l2_norms(delta), 1.02 * p.distances, rtol=1e-5)
    cosines = np.sum(delta * p.directions, axis=1) / l2_norms(delta)
    np.testing.assert_allclose(cosines, 1.0, atol=1e-5)


def test_linear_does_not_flip_just_below_the_closed_form_distance(linear_problem):
    p = linear_problem
    adversarial = pgd_l2(
        p.apply_fn, p.variables, p.inputs, p.labels,
        epsilon=jnp.asarray(0.98 * p.distances, jnp.float32), num_steps=20,
        key=jax.random.key(0), random_start=True,
    )
    np.testing.assert_array_equal(predictions(p.apply_fn, p.variables, adversarial), p.labels)
    assert np.all(l2_norms(adversarial - p.inputs) <= 0.98 * p.distances * (1 + 1e-5))


def test_stop_on_success_keeps_the_first_adversarial_iterate(linear_problem):
    p = linear_problem
    step = 0.05 * p.distances
    adversarial = pgd_l2(
        p.apply_fn, p.variables, p.inputs, p.labels,
        epsilon=jnp.asarray(3.0 * p.distances, jnp.float32),
        step_size=jnp.asarray(step, jnp.float32), num_steps=100, stop_on_success=True,
    )
    assert np.all(predictions(p.apply_fn, p.variables, adversarial) != np.asarray(p.labels))
    norms = l2_norms(adversarial - p.inputs)
    assert np.all(norms >= p.distances * (1 - 1e-5))
    assert np.all(norms <= (p.distances + step) * (1 + 1e-5))


def test_perturbation_stays_in_each_ball(cnn_problem):
    p = cnn_problem
    epsilon = jnp.linspace(0.05, 2.0, p.inputs.shape[0])
    adversarial = pgd_l2(
        p.apply_fn, p.variables, p.inputs, p.labels, epsilon=epsilon, num_steps=5,
        key=jax.random.key(3), random_start=True,
    )
    assert adversarial.shape == p.inputs.shape and adversarial.dtype == p.inputs.dtype
    assert np.all(l2_norms(adversarial - p.inputs) <= np.asarray(epsilon) * (1 + 1e-5))
    # PGD ascends the loss: the mean cross-entropy grows.
    def mean_loss(x):
        logits, _ = p.apply_fn(p.variables, x, train=False)
        return float(jnp.mean(-jax.nn.log_softmax(logits)[jnp.arange(len(p.labels)), p.labels]))
    assert mean_loss(adversarial) > mean_loss(p.inputs)


def test_input_bounds_are_respected(linear_problem):
    p = linear_problem
    inputs = jnp.clip(p.inputs, -1.0, 1.0)
    adversarial = pgd_l2(
        p.apply_fn, p.variables, inputs, p.labels, epsilon=3.0, num_steps=5,
        input_bounds=(-1.0, jnp.ones((1,))),  # scalar and per-channel bounds
    )
    assert float(adversarial.min()) >= -1.0 and float(adversarial.max()) <= 1.0
    assert float(jnp.abs(adversarial).max()) == 1.0  # the bounds were active
    assert np.all(l2_norms(adversarial - inputs) <= 3.0 * (1 + 1e-5))


def test_runs_inside_a_callers_jit(linear_problem):
    p = linear_problem

    @jax.jit
    def attack(variables, inputs, labels, epsilon):
        return pgd_l2(p.apply_fn, variables, inputs, labels, epsilon=epsilon, num_steps=3)

    eager = pgd_l2(p.apply_fn, p.variables, p.inputs, p.labels, epsilon=0.5, num_steps=3)
    np.testing.assert_allclose(
        attack(p.variables, p.inputs, p.labels, 0.5), eager, rtol=1e-5, atol=1e-6
    )


def _never_called(*args, **kwargs):
    raise AssertionError("the model must not run for invalid arguments")


@pytest.mark.parametrize(
    "overrides, name",
    [
        (dict(epsilon=0.0), "epsilon"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(epsilon=float("nan")), "epsilon"),
        (dict(epsilon=float("inf")), "epsilon"),
        (dict(epsilon=np.ones(3)), "epsilon"),
        (dict(epsilon=np.array([1.0, 1.0, 0.0, 1.0])), "epsilon"),
        (dict(step_size=0.0), "step_size"),
        (dict(step_size=float("nan")), "step_size"),
        (dict(num_steps=0), "num_steps"),
        (dict(num_steps=2.5), "num_steps"),
        (dict(labels=jnp.zeros((3,), jnp.int32)), "labels"),
        (dict(labels=jnp.zeros((4, 1), jnp.int32)), "labels"),
        (dict(labels=jnp.zeros((4,), jnp.float32)), "labels"),
        (dict(inputs=jnp.zeros((4,))), "inputs"),
        (dict(random_start=True), "key"),
        (dict(input_bounds=(1.0, -1.0)), "input_bounds"),
        (dict(input_bounds=(0.0,)), "input_bounds"),
    ],
)
def test_bad_arguments_raise_before_compiling(overrides, name):
    arguments = dict(
        inputs=jnp.zeros((4, 2, 2, 1)), labels=jnp.zeros((4,), jnp.int32), epsilon=1.0
    )
    arguments.update(overrides)
    inputs, labels = arguments.pop("inputs"), arguments.pop("labels")
    with pytest.raises(ValueError, match=name):
        pgd_l2(_never_called, {"params": {}}, inputs, labels, **arguments)
