"""AMUN as its authors run it (issue 14): one uniform stream D ∪ D_adv, step-decayed SGD, raw
adversarial rows, the attack in the pixel box, the variants without the retain set, FastClip
originals. Each point against an independent computation (float64 NumPy, closed forms)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import Dataset, load_digits, make_splits
from jaxunlearn.methods import get_method, unlearn, unlearn_many
from jaxunlearn.methods.amun import adversarial_set, step_decay_optimizer
from jaxunlearn.train.core import gather_batch
from jaxunlearn.models import create_model_fns, get_model
from jaxunlearn.train import train
from jaxunlearn.train.sharding import batch_sharded, make_mesh

from method_helpers import trained_digits_mlp


@pytest.fixture(scope="module")
def logistic():
    """Logistic regression on 200 digits, trained a little: small enough for a full-batch step."""
    train_set, test_set = load_digits()
    train_set = train_set.subset(np.arange(200))
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    fns = create_model_fns("logistic_regression", 10)
    rng = np.random.default_rng(0)
    variables = fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    variables = jax.tree.map(lambda leaf: jnp.asarray(rng.normal(0, 0.3, leaf.shape),
                                                      leaf.dtype), variables)
    return fns, variables, splits


def _softmax_ce_gradient(kernel, bias, inputs, labels):
    """∇ of the mean softmax cross-entropy of a linear model, float64."""
    x = inputs.reshape(len(inputs), -1).astype(np.float64)
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1.0
    return x.T @ p / len(labels), p.mean(0)


def test_one_step_is_the_mean_cross_entropy_over_d_and_d_adv(logistic):
    fns, variables, splits = logistic
    adv_inputs, adv_labels, success, _ = adversarial_set(fns.apply, variables, splits.forget_set)
    assert success.all()
    stream = len(splits.retain_indices) + len(splits.forget_indices) + len(adv_labels)
    lr = 0.5
    result = unlearn(fns, variables, splits, "amun", steps=1, progress=False, hyperparams={
        "learning_rate": lr, "momentum": 0.0, "weight_decay": 0.0, "forget_batch_size": stream})
    inputs = np.concatenate([splits.retain_set.inputs, splits.forget_set.inputs, adv_inputs])
    labels = np.concatenate([splits.retain_set.labels, splits.forget_set.labels, adv_labels])
    params = jax.tree.map(lambda leaf: np.asarray(leaf, np.float64), variables["params"])
    (layer,) = params.values()
    grad_kernel, grad_bias = _softmax_ce_gradient(layer["kernel"], layer["bias"], inputs, labels)
    (got,) = result.variables["params"].values()
    np.testing.assert_allclose(got["kernel"], layer["kernel"] - lr * grad_kernel, atol=2e-5)
    np.testing.assert_allclose(got["bias"], layer["bias"] - lr * grad_bias, atol=2e-5)
    # the earlier two-stream recipe weighs forget rows ~stream/forget times more: not this step
    two = unlearn(fns, variables, splits, "amun_two_stream", steps=1, progress=False,
                  hyperparams={"learning_rate": lr, "momentum": 0.0, "weight_decay": 0.0})
    (other,) = two.variables["params"].values()
    assert np.abs(np.asarray(other["kernel"]) - got["kernel"]).max() > 1e-3


@pytest.mark.parametrize("name, parts", [("amun", ("retain", "forget")),
                                         ("amun_retain_adv", ("retain",)),
                                         ("amun_forget_adv", ("forget",)),
                                         ("amun_adv_only", ())])
def test_variants_fine_tune_on_their_stream(logistic, name, parts):
    fns, variables, splits = logistic
    result = unlearn(fns, variables, splits, name, steps=1, progress=False)
    sizes = {"retain": len(splits.retain_indices), "forget": len(splits.forget_indices)}
    found = result.log["amun_adversarial_found"]
    assert result.log["amun_stream_size"] == sum(sizes[p] for p in parts) + found
    assert get_method(name).retain_term is None  # one stream, no separate retain average


def test_step_decay_schedule_matches_the_closed_form():
    hyper = {"learning_rate": 0.2, "lr_decay": 0.1, "lr_decay_epochs": 2, "epochs": 6,
             "momentum": 0.0, "weight_decay": 0.0}
    per_epoch = 3
    tx = step_decay_optimizer(hyper, total_steps=6 * per_epoch)
    params = jnp.zeros(())
    state = tx.init(params)
    for step in range(6 * per_epoch):
        updates, state = tx.update(jnp.ones(()), state, params)
        expected = 0.2 * 0.1 ** (step // (2 * per_epoch))
        assert float(-updates) == pytest.approx(expected, rel=1e-6), step


def test_adversarial_rows_reach_the_loss_unaugmented():
    rng = np.random.default_rng(0)
    inputs = jnp.asarray(rng.normal(size=(16, 8, 8, 3)).astype(np.float32))
    labels = jnp.zeros(16, jnp.int32)
    rows = jnp.asarray(np.arange(16) % 2 == 0)  # even rows: base data; odd rows: D_adv
    mesh = make_mesh()
    batch = gather_batch(jnp.arange(16), 0, 16, 16, inputs, labels, jax.random.key(3), "crop_flip",
                    batch_sharded(mesh), rows)
    out = np.asarray(batch.inputs)
    np.testing.assert_array_equal(out[1::2], np.asarray(inputs)[1::2])
    assert not np.allclose(out[0::2], np.asarray(inputs)[0::2])  # the base rows are augmented


def _image_splits():
    rng = np.random.default_rng(0)
    pixels = rng.random((64, 8, 8, 1)).astype(np.float32)
    data = Dataset((pixels - 0.5) / 0.25, rng.integers(0, 3, 64), 3, mean=(0.5,), std=(0.25,),
                   augmentation="crop_flip")
    test = Dataset((pixels[:8] - 0.5) / 0.25, rng.integers(0, 3, 8), 3, mean=(0.5,),
                   std=(0.25,))
    return make_splits(data, test, forget_fraction=0.25, seed=0)


@pytest.mark.parametrize("augment_adversarial", [False, True])
def test_only_the_base_set_is_marked_for_augmentation(augment_adversarial):
    splits = _image_splits()
    fns = create_model_fns("mlp", 3, hidden_sizes=(16,))
    variables = fns.init(jax.random.key(0), np.asarray(splits.train.inputs[:1]))
    method = get_method("amun")
    hyper = method.hyperparameters({"augment_adversarial": augment_adversarial,
                                    "pgd_steps": 5})
    prepared = method.prepare(fns, variables, splits, hyper, 0)
    rows = np.asarray(prepared.aux["augment_rows"])
    base = len(splits.retain_indices) + len(splits.forget_indices)
    assert rows[:base].all()
    assert (rows[base:] == augment_adversarial).all() and len(rows) > base


def test_attack_stays_in_the_pixel_box_with_epsilon_in_pixels():
    fns, variables, train_set, _ = trained_digits_mlp((32,), epochs=3)
    forget = train_set.subset(np.arange(40))
    adv, adv_labels, success, epsilons = adversarial_set(fns.apply, variables, forget,
                                                         pgd_steps=10)
    mean, std = np.asarray(forget.mean), np.asarray(forget.std)
    pixels_adv = adv * std + mean
    pixels = np.asarray(forget.inputs)[success] * std + mean
    assert pixels_adv.min() >= -1e-5 and pixels_adv.max() <= 1 + 1e-5
    distance = np.linalg.norm((pixels_adv - pixels).reshape(len(adv), -1), axis=1)
    assert np.all(distance <= epsilons[success] * (1 + 1e-4) + 1e-6)
    logits, _ = fns.apply(variables, jnp.asarray(adv), False)
    np.testing.assert_array_equal(np.argmax(np.asarray(logits), 1), adv_labels)
    assert np.all(adv_labels != np.asarray(forget.labels)[success])
    # without the clamp the unclamped attack leaves the box for some sample
    with pytest.raises(ValueError, match="clamp_pixels"):
        adversarial_set(fns.apply, variables,
                        Dataset(np.asarray(forget.inputs) * 5, forget.labels, 10,
                                mean=forget.mean, std=forget.std))


def test_samples_that_never_flip_are_reported(logistic):
    fns, variables, splits = logistic
    with pytest.warns(RuntimeWarning, match="did not flip"):
        result = unlearn(fns, variables, splits, "amun", steps=1, progress=False, hyperparams={
            "initial_epsilon": 1e-6, "max_rounds": 1, "pgd_steps": 1})
    log = result.log
    assert log["amun_unflipped"] > 0
    assert log["amun_unflipped"] + log["amun_adversarial_found"] == log["amun_forget_size"]


def test_spectral_bound_keeps_a_fastclip_original_clipped():
    """AMUN on a FastClip original (every layer's σ₁ near 1): with ``spectral_max_norm`` the
    fine-tuning keeps σ₁ there (float64 SVD of each kernel), as the explicit add-on does, bit for
    bit; without it, fine-tuning pushes every layer higher."""
    train_set, test_set = load_digits()
    train_set = train_set.subset(np.arange(300))
    module = get_model("mlp", 10, hidden_sizes=(32,))
    fns = create_model_fns("mlp", 10, hidden_sizes=(32,))
    config = TrainConfig(epochs=8, batch_size=64, learning_rate=0.05, spectral_max_norm=1.0,
                         spectral_every_steps=1)
    variables = train(fns.apply, fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1])),
                      train_set, config, module=module, progress=False).variables
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)

    def top_sigmas(params):
        return {name: np.linalg.svd(np.asarray(layer["kernel"], np.float64),
                                    compute_uv=False)[0] for name, layer in params.items()}

    # FastClip's power iteration is approximate: σ₁ ends a few % above the bound (1.05 here)
    assert max(top_sigmas(variables["params"]).values()) <= 1.1
    hyper = {"pgd_steps": 5, "epochs": 2, "learning_rate": 0.1}
    clipped = unlearn(fns, variables, splits, "amun", progress=False, module=module,
                      hyperparams={**hyper, "spectral_max_norm": 1.0, "spectral_every_steps": 1})
    assert any("clip_spectral_norm" in addon for addon in clipped.log["addons"])
    kept = top_sigmas(clipped.variables["params"])
    assert max(kept.values()) <= 1.1, kept
    explicit = unlearn(fns, variables, splits, "amun", progress=False, module=module,
                       hyperparams=hyper, addons=(("clip_spectral_norm",
                                                   {"max_norm": 1.0, "every_k_steps": 1}),))
    for a, b in zip(jax.tree.leaves(clipped.variables), jax.tree.leaves(explicit.variables)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    free = unlearn(fns, variables, splits, "amun", progress=False, hyperparams=hyper)
    grown = top_sigmas(free.variables["params"])
    assert all(grown[name] > kept[name] + 0.02 for name in kept), (grown, kept)


@pytest.mark.parametrize("hyper, name", [({"lr_decay_epochs": 0}, "lr_decay_epochs"),
                                         ({"initial_epsilon": 0.0}, "initial_epsilon"),
                                         ({"lr_decay": 0.0}, "lr_decay"),
                                         ({"growth": 1.0}, "growth"),
                                         ({"spectral_max_norm": -1.0}, "spectral_max_norm")])
def test_bad_hyperparameters_are_named_before_anything_runs(logistic, hyper, name):
    fns, variables, splits = logistic
    with pytest.raises(ValueError, match=name):
        unlearn(fns, variables, splits, "amun", hyperparams=hyper, progress=False)


def test_unlearn_many_refuses_before_compiling_when_told_not_to_loop(logistic):
    fns, variables, splits = logistic
    stacked = jax.tree.map(lambda leaf: jnp.stack([leaf, leaf]), variables)
    with pytest.raises(ValueError, match="per_model_data"):
        unlearn_many(fns, stacked, splits, "amun_adv_only", keys=[0, 1], progress=False,
                     sequential_fallback=False)


def test_clip_add_on_clamps_batch_norm_scales_during_unlearning():
    """FastClip's clipBN_hard through the add-on: after unlearning, every batch-norm scale γ of
    a small conv net satisfies |γ| ≤ c·sqrt(running_var + eps) (checked in NumPy)."""
    import flax.linen as nn

    from jaxunlearn.models import from_linen

    class Tiny(nn.Module):
        @nn.compact
        def __call__(self, x, train=False):
            x = nn.Conv(4, (3, 3))(x)
            x = nn.BatchNorm(use_running_average=not train)(x)
            return nn.Dense(3)(nn.relu(x).mean(axis=(1, 2)))

    splits = _image_splits()
    module = Tiny()
    fns = from_linen(module)
    variables = fns.init(jax.random.key(0), np.asarray(splits.train.inputs[:1]))
    variables = {**variables, "params": jax.tree.map(lambda leaf: leaf * 3.0,
                                                     variables["params"])}
    clamp = (("clip_spectral_norm", {"max_norm": 0.5, "every_k_steps": 1,
                                     "batch_norm": "clamp"}),)
    hyper = {"batch_size": 16, "learning_rate": 0.01}
    runs = {steps: unlearn(fns, variables, splits, "finetune", steps=steps, progress=False,
                           module=module, addons=clamp, hyperparams=hyper) for steps in (1, 2)}
    # step 2 clamps with the running variance that step 1 left (the state before step 2)
    var = np.asarray(runs[1].variables["batch_stats"]["BatchNorm_0"]["var"], np.float64)
    scale = np.asarray(runs[2].variables["params"]["BatchNorm_0"]["scale"], np.float64)
    assert np.all(np.abs(scale) <= 0.5 * np.sqrt(var + 1e-5) + 1e-6), (scale, var)
    free = unlearn(fns, variables, splits, "finetune", steps=2, progress=False,
                   hyperparams=hyper)
    free_scale = np.asarray(free.variables["params"]["BatchNorm_0"]["scale"], np.float64)
    assert np.any(np.abs(free_scale) > 0.5 * np.sqrt(var + 1e-5) + 1e-3)  # the clamp did work
    with pytest.raises(ValueError, match="batch_norm"):
        unlearn(fns, variables, splits, "finetune", steps=1, progress=False, module=module,
                addons=(("clip_spectral_norm", {"batch_norm": "noBN"}),))


@pytest.mark.parametrize("method, hyper, message", [
    ("amun", {"learning_rate": "abc"}, "learning_rate must be a number"),
    ("finetune", {"momentum": "abc"}, "momentum must be a number"),
    ("amun", {"augment_adversarial": 1.0}, "augment_adversarial must be a boolean"),
    ("amun", {"clamp_pixels": "yes"}, "clamp_pixels must be a boolean"),
])
def test_a_hyperparameter_of_the_wrong_kind_is_named(logistic, method, hyper, message):
    """``--hp learning_rate=abc`` reached a comparison deep inside (issue 17); now the kind of
    every override is checked against its default's before anything runs."""
    fns, variables, splits = logistic
    with pytest.raises(ValueError, match=message):
        unlearn(fns, variables, splits, method, hyperparams=hyper, progress=False)


def test_l1_weight_follows_the_authors_per_epoch_update():
    from jaxunlearn.methods.amun import l1_factor

    epochs = 10
    alpha, during = 1.0, []
    for epoch in range(epochs):  # their loop: train epoch e with α, then α *= (2 − 2e/E)
        during.append(alpha)
        alpha *= 2 - 2 * epoch / epochs
    got = [float(l1_factor(jnp.int32(epoch), epochs)) for epoch in range(epochs)]
    np.testing.assert_allclose(got, during, rtol=1e-6)
    assert float(l1_factor(jnp.int32(epochs + 3), epochs)) == pytest.approx(alpha, rel=1e-6)


def test_amun_l1_term_adds_the_scheduled_l1_norm():
    from jaxunlearn.methods import METHODS, Batch, TermContext
    from jaxunlearn.models import create_model_fns

    fns = create_model_fns("mlp", 10, hidden_sizes=(8,))
    rng = np.random.default_rng(3)
    inputs = rng.standard_normal((6, 8, 8, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 6).astype(np.int32)
    params = fns.init(jax.random.key(0), inputs[:1])["params"]
    batch = Batch(jnp.asarray(inputs), jnp.asarray(labels), jnp.ones(6), jnp.arange(6))
    method = METHODS["amun_l1"]
    hyper = method.hyperparameters({"epochs": 4})
    plain = METHODS["amun"].forget_term
    l1 = sum(float(np.abs(np.asarray(leaf, np.float64)).sum())
             for leaf in jax.tree_util.tree_leaves(params))
    for step, factor in ((0, 1.0), (5, 2.0), (13, 2.0 * 1.5 * 1.0)):  # 5 steps per epoch
        context = TermContext(fns.apply, {}, hyper, jax.random.key(0), jnp.int32(step), 5, 10)
        with_l1 = float(method.forget_term(params, {}, batch, context)[0])
        ce = float(plain(params, {}, batch, context._replace(hyper={**hyper, "alpha_l1": 0.0}))[0])
        assert with_l1 == pytest.approx(ce + 5e-4 * factor * l1, rel=1e-5)


def test_amun_salun_moves_only_the_salient_half():
    fns, variables, train_set, test_set = trained_digits_mlp((16,), epochs=3)
    splits = make_splits(train_set, test_set, forget_fraction=0.05, seed=0)
    result = unlearn(fns, variables, splits, "amun_salun", progress=False, key=0,
                     hyperparams={"epochs": 1, "learning_rate": 0.01})
    assert any("salun_mask" in addon for addon in result.log["addons"])
    before = np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(variables["params"])])
    after = np.concatenate([np.ravel(leaf) for leaf in
                            jax.tree.leaves(result.variables["params"])])
    moved = np.mean(before != after)
    assert 0.3 < moved <= 0.5 + 1e-3  # the mask keeps the top half by saliency, the rest frozen
