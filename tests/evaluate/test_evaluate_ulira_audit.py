"""U-LiRA from stacked model pools (jaxunlearn.evaluate.ulira_audit) on a tiny memorising model."""

import jax
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import Dataset
from jaxunlearn.evaluate.ulira_audit import ulira_models
from jaxunlearn.train.pools import stack_models, train_many, unstack_model
from jaxunlearn.models import create_model_fns

FORGET = 32


@pytest.fixture(scope="module")
def pools():
    """Random inputs with random labels: the forget examples can only be fitted by memorising.

    Six originals see all 128 examples; twelve retrains never see the first 32 (the forget set).
    """
    rng = np.random.default_rng(0)
    data = Dataset(rng.standard_normal((128, 20)).astype(np.float32),
                   rng.integers(0, 4, 128).astype(np.int32), 4)
    fns = create_model_fns("mlp", 4, hidden_sizes=(64,))
    config = TrainConfig(epochs=60, batch_size=32, optimizer="adam", learning_rate=1e-2,
                         weight_decay=0.0, schedule="constant", augment=False)
    retain = np.arange(len(data)) >= FORGET
    originals = train_many(fns, data, np.ones((6, len(data)), bool), config, seeds=range(6))
    retrains = train_many(fns, data, np.tile(retain, (12, 1)), config, seeds=range(100, 112))
    forget = data.subset(np.arange(FORGET))
    return fns, forget, originals, retrains


def _half(pool, first):
    return jax.tree.map(lambda leaf: leaf[:6] if first else leaf[6:], pool)


def test_a_no_op_is_detected(pools):
    fns, forget, originals, retrains = pools
    result = ulira_models(fns.apply, originals, _half(retrains, True), forget, key=0)
    assert result["num_targets"] == 10 and result["num_trials"] == 10 * FORGET
    assert result["auc"] > 0.95 and result["balanced_accuracy"] > 0.9, result


def test_exact_retraining_is_indistinguishable(pools):
    # 10 held-out targets × 32 examples; trials of one target are correlated, so the tolerance is
    # wider than the independent-trial null (0.5 ± 3.3 × 0.032).
    fns, forget, _, retrains = pools
    for key in range(3):
        result = ulira_models(fns.apply, _half(retrains, False), _half(retrains, True), forget,
                              key=key)
        assert abs(result["auc"] - 0.5) < 0.15, (key, result["auc"])
        assert result["balanced_accuracy"] < 0.65, (key, result["balanced_accuracy"])


def test_stack_and_unstack_round_trip(pools):
    _, _, originals, _ = pools
    models = [unstack_model(originals, index) for index in range(3)]
    stacked = stack_models(models)
    for leaf, reference in zip(jax.tree.leaves(stacked), jax.tree.leaves(originals)):
        np.testing.assert_array_equal(np.asarray(leaf), np.asarray(reference)[:3])


def test_bad_arguments_are_named(pools):
    fns, forget, originals, retrains = pools
    one = jax.tree.map(lambda leaf: leaf[:1], originals)
    with pytest.raises(ValueError, match="unlearned"):
        ulira_models(fns.apply, one, retrains, forget)
    with pytest.raises(ValueError, match="num_targets"):
        ulira_models(fns.apply, originals, _half(retrains, True), forget, num_targets=11)
    with pytest.raises(TypeError, match="num_targets"):
        ulira_models(fns.apply, originals, retrains, forget, num_targets=2.0)
    with pytest.raises(ValueError, match="dataset"):
        ulira_models(fns.apply, originals, retrains, forget.subset(np.arange(0)))
    with pytest.raises(ValueError, match="index"):
        unstack_model(originals, 6)
    with pytest.raises(ValueError, match="models"):
        stack_models([])
