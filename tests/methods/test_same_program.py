"""``same_update``: whether M models' Optax chains run one update program, decided from their code
and closed-over values (no tracing); ``unlearn_many`` vmaps only chains for which it holds."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.methods.same_program import same_update
from jaxunlearn.transforms import add_langevin_noise, static_mask


def test_equal_hyperparameters_are_one_program_and_different_numbers_are_not():
    assert same_update(optax.sgd(0.1, momentum=0.9), optax.sgd(0.1, momentum=0.9))
    assert not same_update(optax.sgd(0.1), optax.sgd(0.2))
    assert not same_update(optax.scale(1.0), optax.scale(1.5))
    assert not same_update(optax.sgd(0.1), optax.adam(0.1))
    assert same_update(optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.1)),
                       optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.1)))
    assert not same_update(optax.chain(optax.sgd(0.1)),
                           optax.chain(optax.sgd(0.1), optax.scale(2.0)))


def test_per_model_values_in_the_state_keep_one_program_in_the_closure_do_not():
    masks = [jnp.array([True, False]), jnp.array([False, True])]
    chains = [optax.chain(optax.sgd(0.1), static_mask(mask)) for mask in masks]
    assert same_update(*chains)  # the masks live in the state
    # a uniform leaf is closed over as a constant: equal ones agree, differing ones do not
    whole = {"a": jnp.ones(2, bool), "b": jnp.array([True, False])}
    assert same_update(static_mask(whole), static_mask({**whole, "b": jnp.array([False, True])}))
    assert not same_update(static_mask(whole), static_mask({**whole, "a": jnp.zeros(2, bool)}))
    assert not same_update(static_mask(whole),
                           static_mask({**whole, "a": jnp.array([True, False])}))
    # Langevin noise keeps its key in the state too
    assert same_update(add_langevin_noise(0.1, 0.5, key=0), add_langevin_noise(0.1, 0.5, key=1))
    assert not same_update(add_langevin_noise(0.1, 0.5), add_langevin_noise(0.1, 0.6))

    def closing_over(array):
        return optax.GradientTransformation(lambda params: optax.EmptyState(),
                                            lambda updates, state, params=None:
                                            (updates * array, state))

    assert same_update(closing_over(np.arange(3.0)), closing_over(np.arange(3.0)))
    assert not same_update(closing_over(np.arange(3.0)), closing_over(np.arange(3.0) + 1))
    assert not same_update(closing_over(np.arange(3.0)), closing_over(np.arange(4.0)))


def test_non_transforms_raise_a_type_error_naming_the_argument():
    with pytest.raises(TypeError, match="first: expected an optax.GradientTransformation"):
        same_update(lambda x: x, optax.sgd(0.1))
    with pytest.raises(TypeError, match="second"):
        same_update(optax.sgd(0.1), None)
