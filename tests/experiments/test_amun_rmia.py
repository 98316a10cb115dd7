"""The AMUN authors' RMIA audit (experiments/amun/rmia_attack.py) on a tiny digits setting."""

import importlib.util
import pathlib

import numpy as np
import pytest

from jaxunlearn.compare import standard_experiment, trained_pairs
from jaxunlearn.data import load_digits
from jaxunlearn.train.pools import unstack_model
from tests.methods.method_helpers import mlp_logits_float64

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("rmia_attack",
                                              ROOT / "experiments/amun/rmia_attack.py")
rmia_attack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rmia_attack)

pytestmark = pytest.mark.slow


def test_rmia_separates_the_original_not_the_retrained_model(tmp_path):
    experiment = standard_experiment("digits", "random50", epochs=8)
    setup, [(original, retrained)] = trained_pairs(experiment, [0], cache_dir=tmp_path)
    splits = setup.splits
    _, test = load_digits()
    population = test.subset(np.arange(len(test) - 100, len(test)))
    attack = rmia_attack.rmia_forget_vs_test(setup.model_fns, splits, experiment.train,
                                             population, num_references=4,
                                             cache_dir=tmp_path)
    scores = attack(setup.model_fns.apply, {"original": original, "retrain": retrained}, splits)
    # the references come in complementary halves of train ∪ test: every example is IN for
    # exactly half of them
    pool_size = len(splits.train) + len(splits.test)
    assert attack.in_mask.shape == (4, pool_size)
    assert np.all(attack.in_mask.sum(axis=0) == 2)
    assert np.all(attack.in_mask[0] == ~attack.in_mask[1])
    # independent recomputation in float64: RMIA's pairwise likelihood ratios by definition
    # (Zarifzadeh et al., eqs. 3-4, online, gamma = 2) and the AUC as a Mann-Whitney count
    audited_inputs = np.concatenate([splits.forget_set.inputs, splits.test.inputs])
    audited_labels = np.concatenate([splits.forget_set.labels, splits.test.labels])
    audited = np.concatenate([splits.forget_indices, len(splits.train) + np.arange(len(splits.test))])

    def probability(variables, inputs, labels):
        logits = mlp_logits_float64(variables["params"], inputs)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return p[np.arange(len(labels)), labels]

    refs = [unstack_model(attack.references, r) for r in range(4)]
    p_ref = np.stack([probability(v, audited_inputs, audited_labels) for v in refs])
    p_ref_z = np.stack([probability(v, population.inputs, population.labels) for v in refs])
    in_mask = attack.in_mask[:, audited]
    p_in = (p_ref * in_mask).sum(0) / in_mask.sum(0)
    p_out = (p_ref * ~in_mask).sum(0) / (~in_mask).sum(0)
    for name, variables in (("original", original), ("retrain", retrained)):
        ratio_x = probability(variables, audited_inputs, audited_labels) / (0.5 * (p_in + p_out))
        ratio_z = probability(variables, population.inputs, population.labels) / p_ref_z.mean(0)
        score = np.array([np.mean(rx / ratio_z >= 2.0) for rx in ratio_x])
        positive, negative = score[:len(splits.forget_indices)], score[len(splits.forget_indices):]
        mann_whitney = np.mean((positive[:, None] > negative[None, :])
                               + 0.5 * (positive[:, None] == negative[None, :]))
        assert scores[name]["RMIA_AUC"] == pytest.approx(100 * mann_whitney, abs=0.5)
    # the original was trained on the forget set and the retrained model was not
    assert scores["original"]["RMIA_AUC"] > scores["retrain"]["RMIA_AUC"]
    # the MLP's four references trained vmapped, cached as one file; a second attack reuses it
    assert len(list(tmp_path.glob("rmia_references-*"))) == 1
    again = rmia_attack.rmia_forget_vs_test(setup.model_fns, splits, experiment.train,
                                            population, num_references=4, cache_dir=tmp_path)
    assert again(setup.model_fns.apply, {"original": original}, splits)["original"] == \
        scores["original"]


def test_rmia_arguments_are_checked():
    with pytest.raises(ValueError, match="num_references: need an even number"):
        rmia_attack.rmia_forget_vs_test(None, None, None, None, num_references=3)
    with pytest.raises(ValueError, match="gamma"):
        rmia_attack.rmia_forget_vs_test(None, None, None, None, num_references=2, gamma=0)
