"""Reproducibility: a run is a function of its key, and a resumed run equals an uninterrupted one.

``srl`` is the stochastic method here: besides the data order, its forget labels are re-drawn
from the step's key at every access.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from jaxunlearn.data import make_splits
from jaxunlearn.methods import unlearn
from jaxunlearn.train import CheckpointError
from method_helpers import identical, leaves, trained_digits_mlp

HYPER = {"epochs": 2, "learning_rate": 0.001, "momentum": 0.9}


class Interrupted(Exception):
    pass




@pytest.fixture(scope="module")
def digits():
    fns, variables, train_set, test_set = trained_digits_mlp((64, 64), epochs=10)
    return fns, variables, make_splits(train_set, test_set, forget_fraction=0.1, seed=0)


@pytest.fixture(scope="module")
def reference(digits):
    fns, variables, splits = digits
    return unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=3, progress=False)


def test_same_key_gives_bit_identical_parameters(digits, reference):
    fns, variables, splits = digits
    again = unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=3, progress=False)
    assert identical(again.variables, reference.variables)
    assert again.log["history"] == reference.log["history"]


def test_different_key_gives_different_parameters(digits, reference):
    fns, variables, splits = digits
    other = unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=4, progress=False)
    for new, old in zip(leaves(other.variables), leaves(reference.variables)):
        assert not np.array_equal(new, old)


def test_rerun_in_a_finished_workdir_resumes_at_the_end(digits, reference, tmp_path):
    fns, variables, splits = digits
    first = unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=3, progress=False,
                    workdir=str(tmp_path))
    assert first.log["resumed_from"] is None
    assert identical(first.variables, reference.variables)
    second = unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=3, progress=False,
                     workdir=str(tmp_path))
    assert second.log["resumed_from"] == second.log["steps"] == reference.log["steps"]
    assert second.log["history"] == []  # nothing left to run
    assert identical(second.variables, reference.variables)


def test_interrupted_run_resumes_from_the_last_epoch_and_matches(digits, reference, tmp_path):
    fns, variables, splits = digits
    per_epoch = reference.log["steps_per_epoch"]
    assert reference.log["steps"] == 2 * per_epoch

    def stop(step, metrics):
        if step == per_epoch + 3:  # mid-way through the second epoch
            raise Interrupted

    with pytest.raises(Interrupted):
        unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=3, progress=False,
                workdir=str(tmp_path), callbacks=(stop,))
    resumed = unlearn(fns, variables, splits, "srl", hyperparams=HYPER, key=3, progress=False,
                      workdir=str(tmp_path))
    assert resumed.log["resumed_from"] == per_epoch
    assert [entry["step"] for entry in resumed.log["history"]] == [2 * per_epoch]
    assert identical(resumed.variables, reference.variables)


def test_workdir_of_another_method_or_hyperparameters_is_refused(digits, tmp_path):
    fns, variables, splits = digits
    unlearn(fns, variables, splits, "srl", hyperparams=HYPER, steps=2, key=3, progress=False,
            workdir=str(tmp_path))
    with pytest.raises(CheckpointError, match=r"different unlearning run"):
        unlearn(fns, variables, splits, "srl", hyperparams={**HYPER, "learning_rate": 0.002},
                steps=2, key=3, progress=False, workdir=str(tmp_path))
    with pytest.raises(CheckpointError, match=r"different unlearning run"):
        unlearn(fns, variables, splits, "random_label", hyperparams=HYPER, steps=2, key=3,
                progress=False, workdir=str(tmp_path))


def test_workdir_of_a_run_with_another_key_is_refused(digits, tmp_path):
    fns, variables, splits = digits
    unlearn(fns, variables, splits, "srl", hyperparams=HYPER, steps=2, key=3, progress=False,
            workdir=str(tmp_path))
    with pytest.raises(CheckpointError, match=r"different unlearning run"):
        unlearn(fns, variables, splits, "srl", hyperparams=HYPER, steps=2, key=5,
                progress=False, workdir=str(tmp_path))


def test_workdir_of_a_run_from_another_original_is_refused(digits, tmp_path):
    fns, variables, splits = digits
    unlearn(fns, variables, splits, "srl", hyperparams=HYPER, steps=2, key=3, progress=False,
            workdir=str(tmp_path))
    other = jax.tree_util.tree_map(lambda leaf: leaf * 0.5, variables)
    with pytest.raises(CheckpointError, match=r"different unlearning run"):
        unlearn(fns, other, splits, "srl", hyperparams=HYPER, steps=2, key=3, progress=False,
                workdir=str(tmp_path))
