"""``unlearn_many``: M stacked models unlearned by one vmapped step, each as ``unlearn`` would.

The reference for model ``m`` is ``unlearn(fns, unstack_model(stacked, m), splits, method,
key=keys[m], ...)`` run on its own; the vmapped run must match it to float32 round-off. The
originals are a small pool of digits MLPs trained by ``train_many`` (different seeds, so the
models, and SalUn's per-model saliency masks, differ).
"""

from __future__ import annotations

import json

import jax
import numpy as np
import optax
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import Splits, load_digits, make_splits
from jaxunlearn.train import stack_models, train_many, unstack_model
from jaxunlearn.methods import (
    METHODS,
    Method,
    Prepared,
    UnlearnManyResult,
    can_vmap,
    unlearn,
    unlearn_many,
    vmap_unsupported_reason,
)
from jaxunlearn.methods.addons import AddonContext, saliency_static_mask
from jaxunlearn.methods.terms import forget_cross_entropy, retain_cross_entropy
from method_helpers import identical, leaves

STEPS = 4
HYPER = {"batch_size": 64}


class Problem:
    def __init__(self):
        train_set, test_set = load_digits()
        from jaxunlearn.models import create_model_fns

        self.fns = create_model_fns("mlp", 10, hidden_sizes=(32,))
        config = TrainConfig(epochs=2, batch_size=64, learning_rate=0.05)
        self.stacked = train_many(self.fns, train_set, np.ones((3, len(train_set)), bool), config,
                                  seeds=[0, 1, 2])
        self.splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
        self.class_splits = make_splits(train_set, test_set, forget_classes=[3], seed=0)

    def first(self, count: int):
        return jax.tree.map(lambda leaf: leaf[:count], self.stacked)


@pytest.fixture(scope="module")
def problem() -> Problem:
    return Problem()


def _assert_matches_reference(problem, method, *, keys=(0, 1), addons=(), hyper=HYPER,
                              splits=None, steps=STEPS, vmapped=True,
                              check=None) -> UnlearnManyResult:
    """Run ``unlearn_many`` and compare the models listed in ``check`` (default: all) with
    their own ``unlearn`` runs."""
    splits = splits or problem.splits
    stacked = problem.first(len(keys))
    many = unlearn_many(problem.fns, stacked, splits, method, keys=list(keys), steps=steps,
                        addons=addons, hyperparams=hyper, progress=False)
    assert len(many) == len(keys)
    for index, key in enumerate(keys):
        if check is not None and index not in check:
            continue
        reference = unlearn(problem.fns, unstack_model(stacked, index), splits, method, key=key,
                            steps=steps, addons=addons, hyperparams=hyper, progress=False)
        result = many[index]
        assert result.log["vmapped"] is vmapped
        assert result.log["key"] == key and result.log["model_index"] == index
        assert result.log["hyperparams"] == reference.log["hyperparams"]
        assert jax.tree.structure(result.variables) == jax.tree.structure(reference.variables)
        for got, want in zip(leaves(result.variables), leaves(reference.variables)):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
        assert len(result.log["history"]) == len(reference.log["history"])
        for got, want in zip(result.log["history"], reference.log["history"]):
            assert got.keys() == want.keys()
            for name in got:
                np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)
        json.dumps(result.log)
    return many


@pytest.mark.parametrize("method", ["finetune", "gradient_ascent", "neggrad_plus",
                                    "random_label", "l1_sparse", "scrub"])
def test_each_model_matches_its_own_unlearn_run(problem, method):
    hyper = dict(HYPER)
    if METHODS[method].primary == "forget" or method == "scrub":
        hyper["forget_batch_size"] = 32
    _assert_matches_reference(problem, method, hyper=hyper)


def _saliency_masks(problem, count):
    """Each model's SalUn mask, as the ``salun_mask`` add-on builds it for that model alone."""
    masks = []
    for index in range(count):
        context = AddonContext(problem.fns, unstack_model(problem.stacked, index), problem.splits,
                               {}, index)
        masks.append(saliency_static_mask(context).init(None).mask)
    return masks


@pytest.mark.parametrize("method, addons", [("salun", ()), ("random_label", ("salun_mask",))])
def test_salun_masks_differ_per_model_and_each_model_matches_its_own_run(problem, method, addons):
    # the masks come from each model's own gradient; they travel in the stacked optimizer state
    # and one update program serves both models
    first, second = _saliency_masks(problem, 2)
    differing = sum(int(np.sum(np.asarray(a) != np.asarray(b)))
                    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second)))
    assert differing > 0
    many = _assert_matches_reference(problem, method, addons=addons)
    if method == "salun":
        assert many.logs[0]["saliency_keep_fraction"] == 0.5


@pytest.mark.slow
def test_gradient_statistics_mask_addon_matches(problem):
    _assert_matches_reference(problem, "random_label", keys=(0, 1, 2), addons=("prob_mask",))


@pytest.mark.slow
def test_and_mask_and_static_addons_match(problem):
    _assert_matches_reference(problem, "neggrad_plus", addons=("and_mask",))
    _assert_matches_reference(problem, "finetune", addons=("langevin_noise", "salun_mask"))


@pytest.mark.slow
def test_trw_class_forgetting_matches(problem):
    _assert_matches_reference(problem, "trw", splits=problem.class_splits)


def test_different_keys_give_different_models_and_equal_keys_equal_ones(problem):
    variables = unstack_model(problem.stacked, 0)
    stacked = stack_models([variables, variables, variables])
    many = unlearn_many(problem.fns, stacked, problem.splits, "random_label", keys=[4, 4, 5],
                        steps=STEPS, hyperparams=HYPER, progress=False)
    assert identical(many[0].variables, many[1].variables)
    for first, other in zip(leaves(many[0].variables), leaves(many[2].variables)):
        assert not np.array_equal(first, other)


def test_result_reads_as_a_list_and_keeps_the_stack(problem):
    seen = []
    many = unlearn_many(problem.fns, problem.first(1), problem.splits, "finetune", keys=[7],
                        steps=2, hyperparams=HYPER, progress=False,
                        callbacks=[lambda step, metrics: seen.append(
                            (step, np.shape(metrics["retain_loss"])))])
    assert seen == [(1, (1,)), (2, (1,))]
    assert isinstance(many, UnlearnManyResult) and len(many) == 1
    assert [result.log["key"] for result in many] == [7]
    assert all(np.shape(leaf)[0] == 1 for leaf in jax.tree.leaves(many.variables))
    assert many.logs[0]["num_models"] == 1 and many.logs[0]["steps"] == 2


def test_can_vmap_tells_what_falls_back():
    assert can_vmap("finetune") and can_vmap("random_label", ("prob_mask",))
    assert can_vmap("salun", ("salun_mask", "langevin_noise"))
    assert can_vmap("alu")  # on the engine like every method (tests/methods/test_methods_alu.py)
    assert not can_vmap("retrain") and "from_scratch" in vmap_unsupported_reason("retrain")
    assert not can_vmap("finetune", workdir="/tmp/anywhere")
    with pytest.raises(ValueError, match="unknown add-on"):
        can_vmap("finetune", ("no_such_addon",))


def test_from_scratch_method_falls_back_and_matches(problem):
    # the fallback is unlearn() itself: one model is enough to compare
    many = _assert_matches_reference(problem, "retrain", steps=2, vmapped=False, check=(1,))
    assert "from_scratch" in many.logs[0]["vmap_fallback_reason"]
    with pytest.raises(ValueError, match="'retrain'.*from_scratch"):
        unlearn_many(problem.fns, problem.first(2), problem.splits, "retrain", keys=[0, 1],
                     steps=2, hyperparams=HYPER, progress=False, sequential_fallback=False)


def _shrinking_forget_set(model_fns, variables, splits, hyper, key):
    keep = len(splits.forget_indices) - key  # a forget stream whose size depends on the key
    return Prepared(forget_inputs=np.asarray(splits.forget_set.inputs[:keep]),
                    forget_labels=np.asarray(splits.forget_set.labels[:keep]))


def _per_model_scale(model_fns, variables, splits, hyper, key):
    # a Python number per model in the update's closure, not in the state
    return Prepared(addons=(optax.scale(1.0 + 0.5 * key),))


@pytest.mark.parametrize("prepare, cause", [(_shrinking_forget_set, "forget"),
                                            (_per_model_scale, "programs differ")])
def test_preparations_that_do_not_stack_fall_back(problem, prepare, cause):
    method = Method(name=f"custom_{prepare.__name__}", summary="test",
                    forget_term=forget_cross_entropy, retain_term=retain_cross_entropy,
                    prepare=prepare)
    assert can_vmap(method)  # the static check cannot see what prepare returns
    many = _assert_matches_reference(problem, method, steps=2, vmapped=False, check=(1,))
    assert cause in many.logs[0]["vmap_fallback_reason"]
    with pytest.raises(ValueError, match=cause):
        unlearn_many(problem.fns, problem.first(2), problem.splits, method, keys=[0, 1],
                     steps=2, hyperparams=HYPER, progress=False, sequential_fallback=False)


def test_bad_inputs_raise_named_errors_before_compiling(problem):
    stacked = problem.first(2)

    def run(**changes):
        arguments = dict(model_fns=problem.fns, stacked_variables=stacked,
                         splits=problem.splits, method="finetune", keys=[0, 1], steps=2,
                         progress=False)
        arguments.update(changes)
        return unlearn_many(**arguments)

    with pytest.raises(ValueError, match="keys: got 3 seeds for 2"):
        run(keys=[0, 1, 2])
    with pytest.raises(ValueError, match="keys"):
        run(keys=3)
    with pytest.raises(ValueError, match="keys"):
        run(keys=[0, -1])
    ragged = jax.tree.map(lambda leaf: leaf, stacked)
    ragged["params"]["head"]["bias"] = ragged["params"]["head"]["bias"][:1]
    with pytest.raises(ValueError, match="stacked_variables"):
        run(stacked_variables=ragged)
    splits = problem.splits
    empty = Splits(splits.train, splits.test, np.array([], np.int64),
                   np.arange(len(splits.train)))
    with pytest.raises(ValueError, match="forget set is empty"):
        run(splits=empty)
    with pytest.raises(ValueError, match="forget_classes"):
        run(method="trw")
    with pytest.raises(ValueError, match="hyperparams"):
        run(hyperparams={"no_such": 1})
    with pytest.raises(ValueError, match="steps must be >= 1"):
        run(steps=0)
