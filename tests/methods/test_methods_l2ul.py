"""ℓ2-UL (Cha et al., AAAI 2024) on softmax regression against float64 NumPy: the targets, the
targeted ℓ2 PGD attack, the MAS importance and the steps, each recomputed independently."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.methods import get_method, unlearn, unlearn_many
from jaxunlearn.methods import l2ul
from jaxunlearn.train import stack_models, train
from tests.methods.method_helpers import assert_trees_close, class_three_logistic


@pytest.fixture(scope="module")
def small():
    return class_three_logistic()


def _weights(variables):
    linear = variables["params"]["linear"]
    return np.asarray(linear["kernel"], np.float64), np.asarray(linear["bias"], np.float64)


def _softmax(z):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def test_targets_are_uniform_over_the_classes_that_are_neither_label_nor_forgotten():
    labels = np.array([0, 3, 7, 9] * 5)
    targets = l2ul.attack_targets(jax.random.key(0), labels, 10, [3], rounds=4000)
    assert targets.shape == (4000, 20)
    assert not np.any(targets == labels[None]) and not np.any(targets == 3)
    for label in (0, 7):  # 8 allowed classes each, ~2,500 draws per class
        drawn = targets[:, labels == label].ravel()
        counts = np.bincount(drawn, minlength=10)
        allowed = [c for c in range(10) if c not in (label, 3)]
        expected = len(drawn) / len(allowed)
        chi2 = np.sum((counts[allowed] - expected) ** 2 / expected)
        assert chi2 < 24.3  # χ²(7) at p = 0.001
    with pytest.raises(ValueError, match="target class"):
        l2ul.attack_targets(jax.random.key(0), np.array([0]), 2, [1], rounds=1)


def test_targeted_attack_matches_a_float64_pgd(small):
    """advertorch's L2PGDAttack (targeted, random start in the box) on pixels, replayed: each
    step descends the target's CE along its unit gradient, then ball, then box."""
    fns, variables, splits = small
    forget = splits.forget_set
    mean, std = float(forget.mean[0]), float(forget.std[0])
    pixels = np.clip(np.asarray(forget.inputs, np.float64) * std + mean, 0, 1)[:6]
    targets = np.array([0, 1, 2, 4, 5, 6], np.int32)
    key, epsilon, step, steps = jax.random.key(5), 1.5, 0.2, 12
    apply = l2ul.pixel_apply(fns.apply, (mean,), (std,))
    moved = np.asarray(l2ul.targeted_attack(
        apply, variables, jnp.asarray(pixels, jnp.float32), jnp.asarray(targets), key, epsilon,
        step, num_steps=steps, box=True), np.float64)

    w, b = _weights(variables)
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    x = flat(pixels)
    noise = flat(np.asarray(jax.random.uniform(key, pixels.shape, jnp.float32), np.float64))

    def ball(delta):
        norms = np.linalg.norm(delta, axis=1, keepdims=True)
        return delta * np.minimum(1.0, epsilon / np.maximum(norms, 1e-30))

    point = np.clip(x + ball(noise - x), 0, 1)
    for _ in range(steps):
        p = _softmax(((point - mean) / std) @ w + b)
        p[np.arange(len(targets)), targets] -= 1.0
        gradient = p @ w.T / std
        point = point - step * gradient / np.linalg.norm(gradient, axis=1, keepdims=True)
        point = np.clip(x + ball(point - x), 0, 1)
    np.testing.assert_allclose(flat(moved), point, atol=2e-4)
    assert np.all(np.linalg.norm(flat(moved) - x, axis=1) <= epsilon + 1e-4)
    reached = np.argmax(((point - mean) / std) @ w + b, axis=1) == targets
    start_hits = np.argmax(((x - mean) / std) @ w + b, axis=1) == targets
    assert reached.sum() > start_hits.sum()  # the attack moves towards its targets


def test_importance_is_the_inverted_min_max_of_mas(small):
    """Ω = Σ_batches |∂ mean‖z‖₂/∂θ| · |batch| for z = xW + b, in closed form:
    ∂‖z‖/∂W = x (z/‖z‖)ᵀ, ∂‖z‖/∂b = z/‖z‖."""
    fns, variables, splits = small
    inputs = np.asarray(splits.forget_set.inputs)
    got = l2ul.parameter_importance(fns.apply, variables, inputs, batch_size=10)
    w, b = _weights(variables)
    x = inputs.reshape(len(inputs), -1).astype(np.float64)
    omega_w, omega_b = np.zeros_like(w), np.zeros_like(b)
    for start in range(0, len(x), 10):
        xb = x[start:start + 10]
        z = xb @ w + b
        u = z / np.linalg.norm(z, axis=1, keepdims=True)
        omega_w += np.abs(xb.T @ u / len(xb)) * len(xb)
        omega_b += np.abs(u.mean(axis=0)) * len(xb)
    invert = lambda o: 1 - (o - o.min()) / (o.max() - o.min())  # noqa: E731
    linear = got["linear"]
    np.testing.assert_allclose(np.asarray(linear["kernel"]), invert(omega_w), atol=1e-5)
    np.testing.assert_allclose(np.asarray(linear["bias"]), invert(omega_b), atol=1e-5)
    assert float(jnp.min(linear["kernel"])) == 0.0 and float(jnp.max(linear["kernel"])) == 1.0


def test_l2ul_steps_match_a_float64_replay(small):
    """Full batches, 3 steps of SGD (momentum 0.9, coupled decay 1e-4) on
    (n_a CE(adv, t) − n_f CE(D_f, y))/(n_a + n_f) + λ/2 Σ Ω̂ (θ − θ₀)², with the adversarial set
    and Ω̂ the method prepared (each checked above)."""
    fns, variables, splits = small
    method = get_method("l2ul")
    hyper = method.hyperparameters({"rounds": 2, "pgd_steps": 5, "batch_size": 64,
                                    "forget_batch_size": 32, "epochs": 3, "learning_rate": 0.05,
                                    "reg_lambda": 3.0})
    prepared = method.prepare(fns, variables, splits, hyper, 0)
    result = unlearn(fns, variables, splits, "l2ul", hyperparams=hyper, progress=False)
    assert result.log["steps"] == 3 and result.log["l2ul_adversarial_size"] == 2 * len(
        splits.forget_set)
    w, b = _weights(variables)
    w0, b0 = w.copy(), b.copy()
    importance = prepared.aux["importance"]["linear"]
    iw, ib = (np.asarray(importance[k], np.float64) for k in ("kernel", "bias"))
    flat = lambda a: np.asarray(a, np.float64).reshape(len(a), -1)  # noqa: E731
    xa, ta = flat(prepared.retain_inputs), np.asarray(prepared.retain_labels)
    xf, yf = flat(splits.forget_set.inputs), np.asarray(splits.forget_set.labels)
    na, nf = len(ta), len(yf)

    def ce_grads(x, y, w, b):
        p = _softmax(x @ w + b)
        p[np.arange(len(y)), y] -= 1.0
        return x.T @ p / len(y), p.mean(axis=0)

    mw, mb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(3):
        aw, ab = ce_grads(xa, ta, w, b)
        fw, fb = ce_grads(xf, yf, w, b)
        gw = (na * aw - nf * fw) / (na + nf) + 3.0 * iw * (w - w0)
        gb = (na * ab - nf * fb) / (na + nf) + 3.0 * ib * (b - b0)
        mw, mb = gw + 1e-4 * w + 0.9 * mw, gb + 1e-4 * b + 0.9 * mb
        w, b = w - 0.05 * mw, b - 0.05 * mb
    got_w, got_b = _weights(result.variables)
    np.testing.assert_allclose(got_w, w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got_b, b, rtol=1e-4, atol=1e-6)


def test_l2ul_forgets_and_pools_match_one_run_each(small):
    """Its adversarial set depends on the model, so a pool runs each model alone (with its own
    key): the same result as one run each."""
    fns, variables, splits = small
    others = fns.init(jax.random.key(2), np.asarray(splits.train.inputs[:1]))
    hyper = {"rounds": 2, "pgd_steps": 10, "epochs": 3, "learning_rate": 0.1}
    labels = np.asarray(splits.forget_set.labels)
    trained = train(fns.apply, variables, splits.train,
                    TrainConfig(epochs=20, batch_size=64, learning_rate=0.1), progress=False)
    variables = trained.variables
    pool = unlearn_many(fns, stack_models([variables, others]), splits, "l2ul", keys=[0, 1],
                        hyperparams=hyper, progress=False)
    for index, start in enumerate((variables, others)):
        single = unlearn(fns, start, splits, "l2ul", hyperparams=hyper, key=index,
                         progress=False)
        assert_trees_close(pool[index].variables, single.variables, rtol=1e-5, atol=1e-6)
    logits, _ = fns.apply(pool[0].variables, jnp.asarray(splits.forget_set.inputs), False)
    before, _ = fns.apply(variables, jnp.asarray(splits.forget_set.inputs), False)
    assert np.mean(np.argmax(np.asarray(before), -1) == labels) > 0.9
    assert np.mean(np.argmax(np.asarray(logits), -1) == labels) < 0.5


@pytest.mark.parametrize("bad, match", [
    ({"pgd_epsilon": 0.0}, "pgd_epsilon"), ({"rounds": 0}, "rounds"),
    ({"pgd_steps": 0}, "pgd_steps"), ({"reg_lambda": -1.0}, "reg_lambda"),
    ({"reference_dimension": 0.0}, "reference_dimension"),
    ({"forget_batch_size": 0}, "forget_batch_size")])
def test_l2ul_rejects_bad_hyperparameters(small, bad, match):
    fns, variables, splits = small
    with pytest.raises(ValueError, match=match):
        unlearn(fns, variables, splits, "l2ul", hyperparams=bad, progress=False)


@pytest.mark.parametrize("addon", ["and_mask", "prob_mask", "salun_mask"])
def test_l2ul_composes_with_the_masks(small, addon):
    """Its −CE on D_f is a forget term and the rest a retain term, so the masks that weigh one
    against the other apply: a masked run moves fewer parameters than the plain one."""
    fns, variables, splits = small
    hyper = {"rounds": 1, "pgd_steps": 3, "learning_rate": 0.05}
    plain = unlearn(fns, variables, splits, "l2ul", hyperparams=hyper, steps=2, progress=False)
    masked = unlearn(fns, variables, splits, "l2ul", hyperparams=hyper, steps=2,
                     addons=(addon,), progress=False)
    moved = lambda result: sum(  # noqa: E731
        int(np.sum(np.asarray(a) != np.asarray(b))) for a, b in zip(
            jax.tree.leaves(result.variables["params"]), jax.tree.leaves(variables["params"])))
    assert 0 < moved(masked) < moved(plain)
