"""Typed hyperparameters: one frozen dataclass per method, validated at construction, parsed by
the config parser, accepted by ``unlearn`` without being parsed again."""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import pytest

from jaxunlearn.data import load_digits, make_splits
from jaxunlearn.methods import COMMON_DEFAULTS, METHODS, get_method, unlearn
from jaxunlearn.methods.base import Hyperparameters
from jaxunlearn.methods.run import plan_run
from jaxunlearn.models import create_model_fns


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_method_has_a_frozen_typed_class_of_its_defaults(name):
    method = METHODS[name]
    hyper = method.hyper()
    assert isinstance(hyper, Hyperparameters) and hyper.method == name
    expected = {**COMMON_DEFAULTS, **method.defaults}  # the literal defaults, in order
    fields = dataclasses.fields(hyper)
    assert [field.name for field in fields] == list(expected)
    for field in fields:
        default = expected[field.name]
        if default is not None and not isinstance(default, str):
            assert field.type is type(default), field.name
        assert getattr(hyper, field.name) == default
    with pytest.raises(dataclasses.FrozenInstanceError):
        hyper.epochs = 3


@pytest.mark.parametrize("changes, message", [
    ({"batch_size": 0}, "batch_size must be an int >= 1"),
    ({"learning_rate": -0.1}, "learning_rate must be > 0"),
    ({"learning_rate": math.nan}, "learning_rate must be a finite number"),
    ({"beta": "high"}, "hyperparameter beta must be a number"),
    ({"batch_norm_train": 1}, "hyperparameter batch_norm_train must be a boolean"),
    ({"epochs": 2.5}, "epochs must be an int >= 1"),
])
def test_construction_validates_and_names_the_field(changes, message):
    method = get_method("neggrad_plus")
    with pytest.raises(ValueError, match=message):
        method.hyperparameter_type(**changes)
    with pytest.raises(ValueError, match=message):
        method.hyper().replace(**changes)


def test_numpy_scalars_become_python_numbers():
    hyper = get_method("finetune").hyper({"epochs": np.int64(3), "learning_rate": np.float32(0.5)})
    assert type(hyper.epochs) is int and hyper.epochs == 3
    assert type(hyper.learning_rate) is float and hyper.learning_rate == 0.5


def test_parse_uses_the_config_parser_and_the_defaults_types():
    method = get_method("neggrad_plus")
    values = method.parse_hyperparameters(["beta=0.25", "epochs=4", "batch_norm_train=true",
                                           " learning_rate =1e-3"])
    assert values == {"beta": 0.25, "epochs": 4, "batch_norm_train": True,
                      "learning_rate": 0.001}
    assert type(values["epochs"]) is int and type(values["beta"]) is float
    with pytest.raises(ValueError, match="has no hyperparameter 'bta'.*'beta'"):
        method.parse_hyperparameters(["bta=1"])
    with pytest.raises(ValueError, match="must look like key=value"):
        method.parse_hyperparameters(["beta"])
    with pytest.raises(ValueError, match="epochs"):
        method.parse_hyperparameters(["epochs=many"])
    with pytest.raises(TypeError, match="list"):
        method.parse_hyperparameters("beta=0.3")


@pytest.fixture(scope="module")
def digits():
    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    fns = create_model_fns("mlp", 10, hidden_sizes=(16,))
    return fns, fns.init(jax.random.key(0), train_set.inputs[:1]), splits


def test_unlearn_runs_typed_hyperparameters_as_the_dict_and_refuses_another_methods(digits):
    fns, variables, splits = digits
    method = get_method("neggrad_plus")
    overrides = {"epochs": 1, "beta": 0.7, "batch_size": 64}
    by_dict = unlearn(fns, variables, splits, method, hyperparams=overrides, progress=False)
    by_type = unlearn(fns, variables, splits, method, hyperparams=method.hyper(overrides),
                      progress=False)
    for a, b in zip(jax.tree.leaves(by_dict.variables), jax.tree.leaves(by_type.variables)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert by_type.log["hyperparams"]["beta"] == 0.7
    with pytest.raises(ValueError, match="typed hyperparameters of method 'finetune'"):
        unlearn(fns, variables, splits, method, hyperparams=get_method("finetune").hyper(),
                progress=False)


def test_planning_a_run_leaves_the_callers_hyperparameters_alone(digits):
    fns, variables, splits = digits
    method = get_method("neggrad_plus")
    hyper = method.hyperparameters({"batch_size": 64})
    assert hyper["forget_batch_size"] == 0
    plan = plan_run(fns, variables, splits, method, (), hyper, 0, None, None, None, 1)
    assert hyper["forget_batch_size"] == 0
    # as many forget batches per epoch as retain batches: ceil(n_f / ceil(n_r / 64))
    batches = math.ceil(len(splits.retain_indices) / 64)
    assert plan.hyper["forget_batch_size"] == math.ceil(len(splits.forget_indices) / batches)
