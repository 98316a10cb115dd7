"""RMIA against a brute-force evaluation of the pairwise likelihood ratios and an over-fitted
logistic model."""

import numpy as np
import pytest

from jaxunlearn.evaluate.rmia import rmia, tune_offline_a
from jaxunlearn.evaluate.roc import auc, null_auc_standard_error


def _brute_force(p_x, p_x_ref, in_mask, p_z, p_z_ref, a, gamma, online):
    scores = np.empty(p_x.size)
    for n in range(p_x.size):
        ins, outs = p_x_ref[in_mask[:, n], n], p_x_ref[~in_mask[:, n], n]
        if online:
            marginal_x, marginal_z = 0.5 * (ins.mean() + outs.mean()), p_z_ref.mean(0)
        else:
            marginal_x = 0.5 * ((1 + a) * outs.mean() + (1 - a))
            marginal_z = 0.5 * ((1 + a) * p_z_ref.mean(0) + (1 - a))
        ratios = (p_x[n] / marginal_x) / (p_z / marginal_z)
        scores[n] = np.mean(ratios >= gamma)
    return scores


@pytest.mark.parametrize("online, a, gamma", [(True, 1.0, 1.0), (True, 1.0, 2.0),
                                              (False, 0.33, 2.0), (False, 1.0, 1.0)])
def test_matches_brute_force(online, a, gamma):
    rng = np.random.default_rng(0)
    p_x_ref, p_z_ref = rng.random((6, 50)), rng.random((6, 80))
    in_mask = np.array([rng.permutation(np.arange(6) < 3) for _ in range(50)]).T
    p_x, p_z = rng.random(50), rng.random(80)
    expected = _brute_force(p_x, p_x_ref, in_mask, p_z, p_z_ref, a, gamma, online)
    got = rmia(p_x, p_x_ref, in_mask, p_z, p_z_ref, a=a, gamma=gamma, online=online)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def _overfit_probabilities(num_models=8, num_examples=200, num_population=200, dim=400, seed=0):
    """p(y|x) of logistic models memorising random labels, each trained on a random half."""
    rng = np.random.default_rng(seed)
    total = num_examples + num_population
    inputs = rng.normal(size=(total, dim)) / np.sqrt(dim)
    signs = 2.0 * rng.integers(0, 2, total) - 1
    # Each example IN for exactly half of the models (mi_lira_2021's keep matrix).
    in_mask = np.array([rng.permutation(np.arange(num_models) < num_models // 2)
                        for _ in range(num_examples)]).T
    weights = np.zeros((num_models, dim))
    for _ in range(600):
        margins = signs[:num_examples] * (weights @ inputs[:num_examples].T)
        grad = -(in_mask * signs[:num_examples] / (1 + np.exp(margins))) @ inputs[:num_examples]
        weights -= 20.0 * grad / in_mask.sum(1, keepdims=True)
    probs = 1 / (1 + np.exp(-signs * (weights @ inputs.T)))
    return probs[:, :num_examples], in_mask, probs[:, num_examples:]


@pytest.mark.parametrize("online", [True, False])
def test_overfit_model_members_vs_nonmembers(online):
    p_x, in_mask, p_z = _overfit_probabilities()
    scores = rmia(p_x[-1], p_x[:-1], in_mask[:-1], p_z[-1], p_z[:-1], online=online, a=0.5)
    members = in_mask[-1]
    # Offline RMIA with 3-4 OUT references is the weaker attack.
    assert auc(scores, members) > (0.9 if online else 0.8)
    nonmembers = np.flatnonzero(~members)
    halves = np.random.default_rng(0).permutation(nonmembers.size) < nonmembers.size // 2
    bound = 3.3 * null_auc_standard_error(halves.sum(), (~halves).sum())
    assert abs(auc(scores[nonmembers], halves) - 0.5) < bound


def test_tune_offline_a_returns_grid_aucs():
    p_x, in_mask, p_z = _overfit_probabilities(num_models=4)
    best, aucs = tune_offline_a(p_x, in_mask, p_z)
    assert set(aucs) == {round(a, 2) for a in np.linspace(0, 1, 11)}
    assert aucs[best] == max(aucs.values()) and aucs[best] > 0.8


def test_bad_inputs():
    p_x_ref, in_mask, p_z_ref = np.full((2, 3), 0.5), np.array([[1, 0, 1], [0, 1, 0]]), np.full((2, 4), 0.5)
    p_x, p_z = np.full(3, 0.5), np.full(4, 0.5)
    with pytest.raises(ValueError, match="p_x_target"):
        rmia(np.full(4, 0.5), p_x_ref, in_mask, p_z, p_z_ref)
    with pytest.raises(ValueError, match="p_z_ref"):
        rmia(p_x, p_x_ref, in_mask, p_z, np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="in_mask"):
        rmia(p_x, p_x_ref, np.ones((2, 3)), p_z, p_z_ref)
    with pytest.raises(ValueError, match="in_mask"):
        rmia(p_x, p_x_ref, np.ones((3, 3)), p_z, p_z_ref)
    with pytest.raises(ValueError, match="p_x_ref"):
        rmia(p_x, p_x_ref * 3, in_mask, p_z, p_z_ref)
    with pytest.raises(ValueError, match="gamma"):
        rmia(p_x, p_x_ref, in_mask, p_z, p_z_ref, gamma=0.0)
    with pytest.raises(ValueError, match="a:"):
        rmia(p_x, p_x_ref, in_mask, p_z, p_z_ref, a=1.5, online=False)
    with pytest.raises(ValueError, match="p_z_target"):
        rmia(p_x, p_x_ref, in_mask, np.zeros(0), p_z_ref)
