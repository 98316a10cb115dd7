"""Add-ons compose with a method: ``random_label`` with every named add-on.

A probe transform (a raw Optax transform, placed before the add-on under test) records through
``jax.debug.callback`` what the generic step hands the chain at each step: the optimizer's update
and the extra args (forget and retain gradients, micro-batch gradient statistics). With plain SGD
(no momentum, no weight decay) the parameter change over a run is then predicted in NumPy float64
from those records by each mask's definition, independently of the transforms' code:

- AND: Δθ = Σ_t u_t ⊙ 𝟙[g_U g_C > 0];
- PROB (agreement, p = 0.45): Δθ = Σ_t u_t ⊙ 𝟙[P ≥ p], P = ½(z_U z_C + c_U c_C),
  c = erf(t/√2), t = ĝ / s (s² = M2 / (K(K−1)), K = 4 micro-batches);
- focus: Δθ = Σ_t P ⊙ u_t.

SalUn's saliency mask may move only the top coordinates of |∇(−CE_f)| at the original model
(computed here with a separate loss), Langevin noise adds N(0, 2ησ²) per coordinate and step, and
spectral clipping leaves every dense kernel with operator norm ≤ max_norm (NumPy SVD).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.special import erf

from jaxunlearn.data import make_splits
from jaxunlearn.evaluate import evaluate_splits
from jaxunlearn.methods import ADDONS, unlearn
from jaxunlearn.methods.addons import parse_addon
from jaxunlearn.models import get_model
from method_helpers import trained_digits_mlp

HIDDEN = (128, 128)
SGD = {"learning_rate": 0.01, "momentum": 0.0, "weight_decay": 0.0}


@pytest.fixture(scope="module")
def digits():
    fns, variables, train_set, test_set = trained_digits_mlp(HIDDEN, epochs=20)
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    return fns, variables, splits


def _flat(tree) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(leaf, np.float64))
                           for leaf in jax.tree_util.tree_leaves(tree)])


def _probe(records: list) -> optax.GradientTransformationExtraArgs:
    """Passes updates through unchanged and records them with the step's extra args."""

    def init(params):
        del params
        return optax.EmptyState()

    def update(updates, state, params=None, **extra):
        del params
        payload = {"updates": updates, **{key: extra[key] for key in (
            "forget_grads", "retain_grads", "forget_stats", "retain_stats") if key in extra}}
        jax.debug.callback(lambda value: records.append(jax.tree_util.tree_map(np.asarray, value)),
                           payload)
        return updates, state

    return optax.GradientTransformationExtraArgs(init, update)


def _run_with_probe(digits, addon, steps=3):
    fns, variables, splits = digits
    records = []
    result = unlearn(fns, variables, splits, "random_label", hyperparams=SGD, steps=steps,
                     addons=(_probe(records), addon), key=0, progress=False)
    assert len(records) == steps
    delta = _flat(result.variables["params"]) - _flat(variables["params"])
    for record in records:  # the step sums the two terms' gradients and SGD scales them
        expected = -SGD["learning_rate"] * (_flat(record["forget_grads"])
                                            + _flat(record["retain_grads"]))
        np.testing.assert_allclose(_flat(record["updates"]), expected, rtol=1e-5, atol=1e-9)
    return records, delta


def _centered(stats) -> tuple[np.ndarray, np.ndarray]:
    """c = 2 P[g > 0] − 1 and z (0 for a point mass at 0) under the normal sign posterior."""
    mean, m2, count = _flat(stats.mean), _flat(stats.m2), int(stats.count)
    assert count == 4  # K micro-batches of each batch
    sem = np.sqrt(m2 / (count - 1) / count)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(sem > 0, erf(mean / np.where(sem > 0, sem, 1.0) / math.sqrt(2.0)),
                     np.sign(mean))
    z = np.where((mean == 0) & (m2 == 0), 0.0, 1.0)
    return c, z


def _agreement(record) -> np.ndarray:
    c_forget, z_forget = _centered(record["forget_stats"])
    c_retain, z_retain = _centered(record["retain_stats"])
    # the statistics' mean is the batch gradient the step used
    np.testing.assert_allclose(_flat(record["forget_stats"].mean), _flat(record["forget_grads"]),
                               rtol=1e-4, atol=1e-6)
    return 0.5 * (z_forget * z_retain + c_forget * c_retain)


def test_every_named_addon_is_covered():
    assert set(ADDONS) == {"and_mask", "prob_mask", "focus_mask", "salun_mask",
                           "clip_spectral_norm", "langevin_noise"}


def test_and_mask_keeps_only_coordinates_where_both_gradients_agree(digits):
    records, delta = _run_with_probe(digits, "and_mask")
    expected = np.zeros_like(delta)
    for record in records:
        agree = _flat(record["forget_grads"]) * _flat(record["retain_grads"]) > 0
        expected += _flat(record["updates"]) * agree
    np.testing.assert_allclose(delta, expected, rtol=0, atol=1e-6)
    moved = np.mean(delta != 0)
    assert 0.2 < moved < 0.95  # the mask is neither empty nor full


def test_prob_mask_keeps_coordinates_with_agreement_probability_above_threshold(digits):
    records, delta = _run_with_probe(digits, "prob_mask")
    expected = np.zeros_like(delta)
    near_threshold = np.zeros(delta.shape, bool)
    for record in records:
        probability = _agreement(record)
        expected += _flat(record["updates"]) * (probability >= 0.45)
        near_threshold |= np.abs(probability - 0.45) < 1e-4
    assert near_threshold.mean() < 1e-3
    np.testing.assert_allclose(delta[~near_threshold], expected[~near_threshold], atol=1e-6)
    assert 0.2 < np.mean(delta != 0) < 0.99


def test_focus_mask_scales_each_coordinate_by_its_agreement_probability(digits):
    records, delta = _run_with_probe(digits, "focus_mask")
    expected = np.zeros_like(delta)
    for record in records:
        expected += _agreement(record) * _flat(record["updates"])
    np.testing.assert_allclose(delta, expected, rtol=0, atol=2e-6)
    plain = sum(_flat(record["updates"]) for record in records)
    assert np.sum(np.abs(delta)) < 0.95 * np.sum(np.abs(plain))  # it does shrink the step


def test_salun_mask_moves_only_the_most_salient_coordinates(digits):
    fns, variables, splits = digits
    keep_fraction = 0.3
    result = unlearn(fns, variables, splits, "random_label", steps=5, key=0, progress=False,
                     addons=(("salun_mask", {"keep_fraction": keep_fraction}),))
    forget = splits.forget_set

    def forget_loss(params):  # −Σ CE on D_f with the true labels, at the original model
        logits, _ = fns.apply({**variables, "params": params}, jnp.asarray(forget.inputs), False)
        log_probs = jax.nn.log_softmax(logits)
        return jnp.sum(jnp.take_along_axis(log_probs, jnp.asarray(forget.labels)[:, None], 1))

    saliency = np.abs(_flat(jax.grad(forget_loss)(variables["params"])))
    keep = int(saliency.size * keep_fraction)
    salient = np.zeros(saliency.size, bool)
    salient[np.argsort(-saliency, kind="stable")[:keep]] = True
    moved = _flat(result.variables["params"]) != _flat(variables["params"])
    assert moved.sum() <= keep
    assert moved.sum() > 0.5 * keep
    # up to float ties at the cut: every moved coordinate is among the most salient
    assert np.mean(salient[moved]) > 0.999


def test_langevin_noise_adds_gaussian_noise_of_variance_2_eta_sigma2_per_step(digits):
    fns, variables, splits = digits
    eta, sigma, steps = 1e-3, 0.1, 21
    hyper = {**SGD, "learning_rate": eta}
    noisy = unlearn(fns, variables, splits, "random_label", hyperparams=hyper, steps=steps,
                    addons=(("langevin_noise", {"sigma": sigma}),), key=0, progress=False)
    plain = unlearn(fns, variables, splits, "random_label", hyperparams=hyper, steps=steps,
                    key=0, progress=False)
    difference = _flat(noisy.variables["params"]) - _flat(plain.variables["params"])
    expected_std = math.sqrt(2.0 * eta * steps) * sigma
    assert abs(difference.std() / expected_std - 1.0) < 0.05
    assert abs(difference.mean()) < 5 * expected_std / math.sqrt(difference.size)
    # Gaussian: the fraction within one standard deviation is 68.3 %
    assert abs(np.mean(np.abs(difference) < expected_std) - 0.6827) < 0.02


def test_langevin_noise_uses_the_step_size_of_a_custom_optimizer(digits):
    """With ``tx=optax.sgd(η)`` the noise variance is 2·η·σ² per step with that η, not the
    method's ``learning_rate`` (here 20x larger, which would give √20 times the spread)."""
    fns, variables, splits = digits
    eta, sigma, steps = 1e-3, 0.1, 21
    hyper = {**SGD, "learning_rate": 20 * eta}
    with pytest.raises(ValueError, match="step_size"):
        unlearn(fns, variables, splits, "random_label", hyperparams=hyper, steps=1,
                tx=optax.sgd(eta), addons=(("langevin_noise", {"sigma": sigma}),), key=0,
                progress=False)
    noisy = unlearn(fns, variables, splits, "random_label", hyperparams=hyper, steps=steps,
                    tx=optax.sgd(eta),
                    addons=(("langevin_noise", {"sigma": sigma, "step_size": eta}),), key=0,
                    progress=False)
    plain = unlearn(fns, variables, splits, "random_label", hyperparams=hyper, steps=steps,
                    tx=optax.sgd(eta), key=0, progress=False)
    difference = _flat(noisy.variables["params"]) - _flat(plain.variables["params"])
    expected_std = math.sqrt(2.0 * eta * steps) * sigma
    assert abs(difference.std() / expected_std - 1.0) < 0.05
    # the text form of the option reaches the same transform
    assert parse_addon("langevin_noise:sigma=0.1,step_size=0.001") == (
        "langevin_noise", {"sigma": 0.1, "step_size": 0.001})


def test_spectral_clipping_addon_bounds_every_dense_layer(digits):
    fns, variables, splits = digits
    max_norm = 2.0

    def norms(params):
        return {name: np.linalg.svd(np.asarray(params[name]["kernel"], np.float64),
                                    compute_uv=False)[0] for name in params}

    before = norms(variables["params"])
    assert min(before.values()) > max_norm + 0.2, before  # every layer needs clipping
    result = unlearn(fns, variables, splits, "random_label",
                     hyperparams={"epochs": 5, "learning_rate": 0.001, "momentum": 0.0},
                     addons=(("clip_spectral_norm", {"max_norm": max_norm, "every_k_steps": 1}),),
                     module=get_model("mlp", 10, hidden_sizes=HIDDEN), key=0, progress=False)
    after = norms(result.variables["params"])
    assert set(after) == {"hidden_0", "hidden_1", "head"}
    for name, value in after.items():
        assert value <= max_norm * 1.01, (name, value, before[name])
    metrics = evaluate_splits(fns.apply, result.variables, splits)
    assert metrics["retain_accuracy"] > 0.9 and np.isfinite(metrics["retain_loss"])


def test_addon_text_form_parses_to_the_tuple_form():
    assert parse_addon("clip_spectral_norm:max_norm=2.0,every_k_steps=1") == (
        "clip_spectral_norm", {"max_norm": 2.0, "every_k_steps": 1})
    assert parse_addon("prob_mask:threshold=0.4") == ("prob_mask", {"threshold": 0.4})
    with pytest.raises(ValueError, match=r"must look like key=value"):
        parse_addon("prob_mask:threshold")


def test_addon_options_take_the_type_of_their_default_like_config_overrides():
    """One parser: a text option is parsed as its default's type (issue 15; a boolean used to
    stay the string 'false' in the add-on while the config parser made it a bool)."""
    name, options = parse_addon("clip_spectral_norm:max_norm=2,conv_two_sided=off,"
                                "track_every_step=TRUE,every_k_steps=10,batch_norm=clamp")
    assert options == {"max_norm": 2.0, "conv_two_sided": False, "track_every_step": True,
                       "every_k_steps": 10, "batch_norm": "clamp"}
    assert type(options["max_norm"]) is float and type(options["every_k_steps"]) is int
    assert parse_addon(("prob_mask", {"threshold": "0.3"})) == ("prob_mask", {"threshold": 0.3})
    for spec, message in (("clip_spectral_norm:every_k_steps=2.5", "every_k_steps: expected an int"),
                          ("clip_spectral_norm:conv_two_sided=maybe", "expected a boolean"),
                          ("prob_mask:threshold=high", "threshold: expected a number")):
        with pytest.raises(ValueError, match=message):
            parse_addon(spec)


def test_gradient_statistics_follow_the_schedule_like_the_gradients(digits):
    fns, variables, splits = digits
    records = []
    unlearn(fns, variables, splits, "scrub", steps=4, key=0, progress=False,
            hyperparams={"max_steps_epochs": 0, "learning_rate": 0.05},
            addons=(_probe(records), "prob_mask"))
    for record in records:
        assert not np.any(_flat(record["forget_grads"]))  # the forget term is off
        np.testing.assert_allclose(_flat(record["forget_stats"].mean),
                                   _flat(record["forget_grads"]), atol=1e-6)
