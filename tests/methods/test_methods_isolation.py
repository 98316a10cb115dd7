"""What a method may read and move.

- ``retrain`` (and every retain-only method) never reads a forget sample. ``Dataset`` refuses NaN,
  so the forget rows are poisoned with the largest finite float32 (3.4e38) instead: the first
  dense layer overflows to ±inf, the next turns inf − inf into NaN, so any gradient that touches
  a forget sample is NaN and poisons the parameters. Retain-only methods must stay finite (and
  retrain must not depend on the forget inputs at all), while gradient ascent and random labels,
  which read D_f, become NaN: proof that the check can fail.
- With an all-zero static mask after the optimizer the parameters do not move at all, momentum
  and weight decay included.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.data import from_arrays, make_splits
from jaxunlearn.methods import METHODS, unlearn
from jaxunlearn.transforms import static_mask
from method_helpers import identical, leaves, trained_digits_mlp

# methods without a forget term that still read D_f: UAM's ascent direction (its step gathers
# forget batches) and SVD unlearning's forget activations (in prepare)
READ_FORGET_WITHOUT_A_TERM = ("svd_unlearning", "uam")
RETAIN_ONLY = sorted(name for name, method in METHODS.items()
                     if method.forget_term is None and name not in READ_FORGET_WITHOUT_A_TERM)
POISON = float(np.finfo(np.float32).max)


def _all_finite(variables):
    return all(np.all(np.isfinite(leaf)) for leaf in leaves(variables["params"]))


def _identical(first, second):
    return identical(first["params"], second["params"])


@pytest.fixture(scope="module")
def digits():
    fns, variables, train_set, test_set = trained_digits_mlp((128, 128), epochs=20)
    clean = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    inputs = np.array(train_set.inputs, copy=True)
    inputs[clean.forget_indices] = POISON
    poisoned_train = from_arrays(inputs, train_set.labels, num_classes=10, name="digits_poisoned")
    poisoned = make_splits(poisoned_train, test_set, forget_indices=clean.forget_indices)
    return fns, variables, clean, poisoned


def test_poisoned_splits_are_what_the_test_assumes(digits):
    fns, variables, clean, poisoned = digits
    assert RETAIN_ONLY == ["alu", "finetune", "l1_sparse", "langevin", "retrain"]
    assert np.array_equal(poisoned.forget_indices, clean.forget_indices)
    assert np.all(poisoned.forget_set.inputs == np.float32(POISON))
    assert np.array_equal(poisoned.retain_set.inputs, clean.retain_set.inputs)
    logits, _ = fns.apply(variables, jnp.asarray(poisoned.forget_set.inputs[:8]), False)
    assert not np.any(np.isfinite(np.asarray(logits)))  # a forward pass is already poisoned


@pytest.mark.parametrize("name", RETAIN_ONLY)
def test_retain_only_methods_never_read_a_forget_sample(digits, name):
    fns, variables, _, poisoned = digits
    result = unlearn(fns, variables, poisoned, name, epochs=1, key=0, progress=False)
    assert result.log["steps"] == result.log["steps_per_epoch"] > 1
    assert _all_finite(result.variables)
    assert all(np.isfinite(value) for entry in result.log["history"]
               for key, value in entry.items() if key.endswith("_loss"))


def test_retrain_does_not_depend_on_the_forget_inputs(digits):
    fns, variables, clean, poisoned = digits
    on_clean = unlearn(fns, variables, clean, "retrain", epochs=1, key=0, progress=False)
    on_poisoned = unlearn(fns, variables, poisoned, "retrain", epochs=1, key=0, progress=False)
    assert _identical(on_clean.variables, on_poisoned.variables)


@pytest.mark.parametrize("name", ["gradient_ascent", "random_label", "uam"])
def test_methods_that_read_the_forget_set_are_poisoned(digits, name):
    fns, variables, _, poisoned = digits
    result = unlearn(fns, variables, poisoned, name, steps=2, key=0, progress=False)
    assert not _all_finite(result.variables)


def test_scrub_forget_term_switched_off_does_not_touch_the_update(digits):
    fns, variables, _, poisoned = digits
    # max_steps_epochs = 0: the schedule never activates the forget (max-step) term
    result = unlearn(fns, variables, poisoned, "scrub", hyperparams={"max_steps_epochs": 0},
                     steps=2, key=0, progress=False)
    assert _all_finite(result.variables)


@pytest.mark.parametrize("name", ["random_label", "neggrad_plus"])
def test_all_zero_mask_keeps_every_parameter_bit_identical(digits, name):
    """Default hyperparameters: momentum 0.9 and weight decay 5e-4, which move masked weights
    when a mask is put on the gradient instead of the final update."""
    fns, variables, clean, _ = digits
    zeros = jax.tree_util.tree_map(jnp.zeros_like, variables["params"])
    hyper = METHODS[name].hyperparameters()
    assert hyper["momentum"] > 0 and hyper["weight_decay"] > 0
    result = unlearn(fns, variables, clean, name, addons=(static_mask(zeros),), steps=5, key=0,
                     progress=False)
    assert _identical(result.variables, variables)


def test_all_one_mask_equals_no_mask_and_moves_the_parameters(digits):
    fns, variables, clean, _ = digits
    ones = jax.tree_util.tree_map(jnp.ones_like, variables["params"])
    masked = unlearn(fns, variables, clean, "random_label", addons=(static_mask(ones),), steps=5,
                     key=0, progress=False)
    plain = unlearn(fns, variables, clean, "random_label", steps=5, key=0, progress=False)
    assert _identical(masked.variables, plain.variables)
    assert not _identical(plain.variables, variables)
