"""UAM (Kim et al., NeurIPS 2025) against a float64 NumPy replay of its step: the retain
gradient taken at θ + ρ_t ∇L_f/‖∇L_f‖, ρ_t cosine-annealed, handed to SGD with momentum and
coupled weight decay at θ."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from jaxunlearn.methods import unlearn, unlearn_many
from jaxunlearn.train import stack_models
from tests.methods.method_helpers import assert_trees_close, class_three_logistic


@pytest.fixture(scope="module")
def small():
    return class_three_logistic()


def _softmax_grads(w, b, x, y):
    """Mean CE gradients of softmax regression, float64."""
    z = x @ w + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return x.T @ p / len(y), p.mean(axis=0)


def _numpy_uam(variables, splits, steps, *, lr, rho, momentum, decay, cosine):
    w = np.asarray(variables["params"]["linear"]["kernel"], np.float64)
    b = np.asarray(variables["params"]["linear"]["bias"], np.float64)
    flat = lambda s: np.asarray(s.inputs, np.float64).reshape(len(s.inputs), -1)  # noqa: E731
    xf, yf = flat(splits.forget_set), np.asarray(splits.forget_set.labels)
    xr, yr = flat(splits.retain_set), np.asarray(splits.retain_set.labels)
    mw, mb = np.zeros_like(w), np.zeros_like(b)
    for t in range(steps):
        gw, gb = _softmax_grads(w, b, xf, yf)
        radius = rho * (1 + math.cos(math.pi * t / steps)) / 2 if cosine else rho
        scale = radius / (math.sqrt((gw ** 2).sum() + (gb ** 2).sum()) + 1e-16)
        rw, rb = _softmax_grads(w + scale * gw, b + scale * gb, xr, yr)
        mw, mb = rw + decay * w + momentum * mw, rb + decay * b + momentum * mb
        w, b = w - lr * mw, b - lr * mb
    return w, b


@pytest.mark.parametrize("cosine", [True, False])
def test_uam_steps_match_a_float64_replay(small, cosine):
    """Full batches (every forget and retain row each step), 3 epochs of one step: the
    engine's run equals the replay; with ρ = 0 the replay would be plain fine-tuning, which
    it is not."""
    fns, variables, splits = small
    hyper = {"learning_rate": 0.5, "rho": 2.0, "cosine_rho": cosine, "batch_size": 256,
             "forget_batch_size": 32, "epochs": 3}
    result = unlearn(fns, variables, splits, "uam", hyperparams=hyper, progress=False)
    assert result.log["steps"] == 3
    kwargs = dict(lr=0.5, momentum=0.9, decay=5e-4, cosine=cosine)
    w, b = _numpy_uam(variables, splits, 3, rho=2.0, **kwargs)
    linear = result.variables["params"]["linear"]
    np.testing.assert_allclose(np.asarray(linear["kernel"]), w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(linear["bias"]), b, rtol=1e-4, atol=1e-6)
    plain, _ = _numpy_uam(variables, splits, 3, rho=0.0, **kwargs)
    assert np.abs(plain - w).max() > 100 * np.abs(np.asarray(linear["kernel"]) - w).max()


def test_uam_pools_vmap_and_match_one_run_each(small):
    fns, variables, splits = small
    others = fns.init(jax.random.key(2), np.asarray(splits.train.inputs[:1]))
    hyper = {"rho": 0.5, "batch_size": 16}
    pool = unlearn_many(fns, stack_models([variables, others]), splits, "uam", keys=[0, 1],
                        steps=5, hyperparams=hyper, progress=False, sequential_fallback=False)
    # forget batches as large as retain ones (the code's MergedLoaders), the forget set cycling
    assert pool.logs[0]["hyperparams"]["forget_batch_size"] == 16 and pool.logs[0]["vmapped"]
    for index, (start, key) in enumerate([(variables, 0), (others, 1)]):
        single = unlearn(fns, start, splits, "uam", steps=5, key=key, hyperparams=hyper,
                         progress=False)
        assert_trees_close(pool[index].variables, single.variables, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("hyper, pattern", [
    ({"rho": 0.0}, "rho must be > 0"),
    ({"rho": -1.0}, "rho must be > 0"),
    ({"cosine_rho": 1}, "cosine_rho must be a boolean"),
])
def test_bad_hyperparameters_fail_before_compiling(small, hyper, pattern):
    fns, variables, splits = small
    with pytest.raises(ValueError, match=pattern):
        unlearn(fns, variables, splits, "uam", steps=1, hyperparams=hyper, progress=False)
