"""Every registered unlearning method runs through the one jitted step, and bad requests fail early.

Each method of :data:`jaxunlearn.methods.METHODS` is run for a few steps on scikit-learn digits
(random 10 % forgetting; ``trw``, a class-unlearning method, on forgetting class 3) and on a small
Fashion-MNIST subset (1,000 train / 300 test images) when the Debian files are installed. A run
must return finite parameters of the original's structure, shapes and dtypes, a JSON-able log
naming the method, its hyperparameters and the steps taken, and must trace each of its loss terms
exactly once: the step is compiled once, not re-traced per step.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os

import jax
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import DEFAULT_FASHION_MNIST_DIR, load_digits, load_fashion_mnist, make_splits
from jaxunlearn.methods import COMMON_DEFAULTS, METHODS, unlearn
from jaxunlearn.methods.i2i import IMAGE_TO_IMAGE_METHODS
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import train

STEPS = 4
CLASS_UNLEARNING = sorted(name for name, method in METHODS.items() if method.class_unlearning)
# the image-to-image methods refuse classifiers; tests/methods/test_methods_i2i.py runs them
ALL_METHODS = sorted(set(METHODS) - set(IMAGE_TO_IMAGE_METHODS))


@dataclasses.dataclass
class Problem:
    fns: object
    variables: dict
    random_splits: object
    class_splits: object


def _train_original(fns, dataset, epochs):
    variables = fns.init(jax.random.key(0), np.asarray(dataset.inputs[:1]))
    config = TrainConfig(epochs=epochs, batch_size=64, learning_rate=0.05)
    return train(fns.apply, variables, dataset, config, progress=False).variables


@pytest.fixture(scope="module")
def digits_problem() -> Problem:
    train_set, test_set = load_digits()
    fns = create_model_fns("mlp", 10, hidden_sizes=(64, 64))
    variables = _train_original(fns, train_set, epochs=10)
    return Problem(
        fns,
        variables,
        make_splits(train_set, test_set, forget_fraction=0.1, seed=0),
        # a public set: SCAR's surrogate data
        make_splits(train_set, test_set, forget_classes=[3], public_size=60, seed=0),
    )


def _fashion_problem(model: str, **options) -> Problem:
    if not os.path.isdir(DEFAULT_FASHION_MNIST_DIR):
        pytest.skip(f"Fashion-MNIST is not installed in {DEFAULT_FASHION_MNIST_DIR}")
    train_set, test_set = load_fashion_mnist()
    rng = np.random.default_rng(0)
    train_set = train_set.subset(np.sort(rng.choice(len(train_set), 1000, replace=False)))
    test_set = test_set.subset(np.sort(rng.choice(len(test_set), 300, replace=False)))
    fns = create_model_fns(model, 10, **options)
    variables = _train_original(fns, train_set, epochs=2)
    return Problem(
        fns,
        variables,
        make_splits(train_set, test_set, forget_fraction=0.1, seed=0),
        make_splits(train_set, test_set, forget_classes=[7], public_size=60, seed=0),
    )


@pytest.fixture(scope="module")
def fashion_mlp_problem() -> Problem:
    return _fashion_problem("mlp", hidden_sizes=(64,))


@pytest.fixture(scope="module")
def fashion_cnn_problem() -> Problem:
    return _fashion_problem("small_cnn", channels=(8, 16), dense_size=32)


def _counting(method):
    """The method with each loss term wrapped to count how often JAX traces it."""
    counts = {}

    def wrap(term, name):
        if term is None:
            return None
        counts[name] = 0

        def counted(params, model_state, batch, context):
            counts[name] += 1
            return term(params, model_state, batch, context)

        return counted

    counted_method = dataclasses.replace(
        method,
        forget_term=wrap(method.forget_term, "forget"),
        retain_term=wrap(method.retain_term, "retain"),
    )
    return counted_method, counts


def _check_run(problem: Problem, name: str) -> None:
    method = METHODS[name]
    splits = problem.class_splits if method.class_unlearning else problem.random_splits
    counted_method, trace_counts = _counting(method)
    result = unlearn(problem.fns, problem.variables, splits, counted_method, steps=STEPS,
                     key=0, progress=False)

    original = problem.variables["params"]
    params = result.variables["params"]
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(original)
    for new, old in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(original)):
        assert new.shape == old.shape and new.dtype == old.dtype
        assert np.all(np.isfinite(np.asarray(new))), f"{name}: non-finite parameters"
    moved = any(not np.array_equal(np.asarray(new), np.asarray(old)) for new, old in
                zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(original)))
    assert moved, f"{name}: {STEPS} steps left every parameter where it was"

    # the step is traced (hence compiled) once: each term's Python body ran once for 4 steps
    assert trace_counts and all(count == 1 for count in trace_counts.values()), trace_counts

    log = result.log
    json.dumps(log)  # the log is JSON-able, as the design asks of every result
    assert log["method"] == name
    assert log["steps"] == STEPS
    assert log["key"] == 0
    assert log["resumed_from"] is None
    assert log["history"][-1]["step"] == STEPS
    expected_keys = set(COMMON_DEFAULTS) | set(method.defaults)
    assert set(log["hyperparams"]) == expected_keys
    # SCAR caps a batch larger than its stream at the stream's size (a multiple of 8 above it)
    capped = {"scar": {"batch_size": len(problem.class_splits.public),
                       "forget_batch_size": len(problem.class_splits.forget_set)}}.get(name, {})
    for key, value in method.defaults.items():
        if key in capped and value > capped[key]:
            assert capped[key] <= log["hyperparams"][key] < capped[key] + 8, key
        else:
            assert log["hyperparams"][key] == value, key
    assert log["hyperparams"]["forget_batch_size"] >= 1  # the automatic size was filled in
    losses = [value for key, value in log["history"][-1].items() if key.endswith("_loss")]
    assert losses and all(math.isfinite(value) for value in losses)


def test_every_registered_method_is_tested():
    # the registry the issue lists; a new method must be added to the suites here
    assert set(METHODS) == {
        "retrain", "finetune", "gradient_ascent", "neggrad_plus", "random_label", "srl",
        "l1_sparse", "salun", "scrub", "trw", "langevin", "amun", "amun_retain_adv",
        "amun_forget_adv", "amun_adv_only", "amun_two_stream", "alu", "i2i_decouple",
        "i2i_noise_target", "boundary_shrink", "boundary_expanding", "amun_salun", "amun_l1",
        "uam", "svd_unlearning", "scar", "l2ul",
    }
    assert CLASS_UNLEARNING == ["scar", "svd_unlearning", "trw"]


@pytest.mark.parametrize("name", ALL_METHODS)
def test_method_runs_on_digits_mlp(digits_problem, name):
    _check_run(digits_problem, name)


@pytest.mark.parametrize("name", ALL_METHODS)
def test_method_runs_on_fashion_mnist_mlp(fashion_mlp_problem, name):
    _check_run(fashion_mlp_problem, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_METHODS)
def test_method_runs_on_fashion_mnist_small_cnn(fashion_cnn_problem, name):
    _check_run(fashion_cnn_problem, name)


def test_epochs_argument_sets_steps_from_the_primary_stream(digits_problem):
    splits = digits_problem.random_splits
    # gradient ascent's epoch is a pass over D_f in batches of 32; finetune's over D_r in 64s
    ga = unlearn(digits_problem.fns, digits_problem.variables, splits, "gradient_ascent",
                 epochs=2, key=0, progress=False, hyperparams={"forget_batch_size": 32})
    assert ga.log["steps"] == 2 * math.ceil(len(splits.forget_indices) / 32)
    ft = unlearn(digits_problem.fns, digits_problem.variables, splits, "finetune",
                 epochs=1, key=0, progress=False, hyperparams={"batch_size": 64})
    assert ft.log["steps"] == math.ceil(len(splits.retain_indices) / 64)
    assert [entry["epoch"] for entry in ga.log["history"]] == [1, 2]


# --- errors: a ValueError naming what is wrong, before anything is compiled ---------------------


def test_unknown_method_name(digits_problem):
    with pytest.raises(ValueError, match=r"unknown method 'no_such_method'"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "no_such_method", progress=False)


def test_unknown_addon_name(digits_problem):
    with pytest.raises(ValueError, match=r"unknown add-on 'no_such_mask'"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "random_label", addons=("no_such_mask",), progress=False)


def test_unknown_addon_option(digits_problem):
    with pytest.raises(ValueError, match=r"'prob_mask' has no option \['thresold'\]"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "random_label", addons=(("prob_mask", {"thresold": 0.4}),), progress=False)


@pytest.mark.parametrize("name", CLASS_UNLEARNING)
def test_class_unlearning_method_rejects_a_random_forget_set(digits_problem, name):
    pattern = rf"method '{name}' unlearns whole classes.*forget_classes"
    with pytest.raises(ValueError, match=pattern):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits, name,
                progress=False)


@pytest.mark.parametrize("addon", ["and_mask", "prob_mask", "focus_mask"])
def test_mask_needing_a_retain_gradient_rejects_gradient_ascent(digits_problem, addon):
    with pytest.raises(ValueError, match=rf"'{addon}' needs a retain gradient.*'gradient_ascent'"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "gradient_ascent", addons=(addon,), progress=False)


@pytest.mark.parametrize("addon", ["and_mask", "prob_mask"])
def test_mask_needing_a_forget_gradient_rejects_finetune(digits_problem, addon):
    with pytest.raises(ValueError, match=rf"'{addon}' needs an unlearning gradient.*'finetune'"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "finetune", addons=(addon,), progress=False)


def test_unknown_hyperparameter_key(digits_problem):
    with pytest.raises(ValueError, match=r"'random_label' has no hyperparameter 'lr'"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "random_label", hyperparams={"lr": 0.1}, progress=False)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_hyperparameter(digits_problem, value):
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "random_label", hyperparams={"learning_rate": value}, progress=False)


@pytest.mark.parametrize("hyperparams, pattern", [
    ({"epochs": 0}, r"epochs must be an int >= 1"),
    ({"epochs": 2.5}, r"epochs must be an int >= 1"),
    ({"batch_size": 0}, r"batch_size must be an int >= 1"),
    ({"learning_rate": 0.0}, r"learning_rate must be > 0"),
    ({"learning_rate": -0.1}, r"learning_rate must be > 0"),
])
def test_invalid_hyperparameter_values(digits_problem, hyperparams, pattern):
    with pytest.raises(ValueError, match=pattern):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "finetune", hyperparams=hyperparams, progress=False)


def test_spectral_clipping_without_module(digits_problem):
    with pytest.raises(ValueError, match=r"clip_spectral_norm.*module"):
        unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                "random_label", addons=(("clip_spectral_norm", {"max_norm": 2.0}),),
                progress=False)


@pytest.mark.parametrize("hyperparams", [{"epochs": np.int64(1)},
                                         {"learning_rate": np.float32(0.01)}])
def test_finite_numpy_scalar_hyperparameters_are_accepted(digits_problem, hyperparams):
    result = unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                     "finetune", hyperparams=hyperparams, steps=1, progress=False)
    json.dumps(result.log["hyperparams"])


def test_epoch_callback_sees_each_epochs_model(digits_problem):
    """``epoch_callback`` runs once per epoch with the model of that moment: the last call sees
    exactly the returned variables, and what it returns joins the history (here the forget
    accuracy, recomputed in float64 NumPy from the parameters it was given)."""
    from tests.methods.method_helpers import identical, mlp_logits_float64

    forget = digits_problem.random_splits.forget_set
    seen = []

    def forget_accuracy(epoch, variables):
        seen.append((epoch, jax.device_get(variables)))  # the arrays are donated afterwards
        logits = mlp_logits_float64(variables["params"], forget.inputs)
        return {"forget_accuracy": float((logits.argmax(-1) == forget.labels).mean())}

    result = unlearn(digits_problem.fns, digits_problem.variables, digits_problem.random_splits,
                     "finetune", hyperparams={"epochs": 3, "learning_rate": 0.05}, progress=False,
                     epoch_callback=forget_accuracy)
    assert [epoch for epoch, _ in seen] == [1, 2, 3]
    assert identical(seen[-1][1], result.variables)
    assert not identical(seen[0][1], seen[-1][1])
    history = result.log["history"]
    assert [entry["epoch"] for entry in history] == [1, 2, 3]
    final = mlp_logits_float64(result.variables["params"], forget.inputs).argmax(-1)
    assert history[-1]["forget_accuracy"] == float((final == forget.labels).mean())
