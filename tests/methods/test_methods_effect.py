"""Unlearning does what it claims, on problems whose answer is known.

- Class forgetting on digits (class 3, 145 of 1,437 training images): a model retrained without
  the class has forget accuracy 0, so gradient ascent, random labels and SalUn must bring the
  forget accuracy from 100 % to below 30 % while the retain accuracy stays within 10 points of
  the original's (hyperparameters chosen by experiment and fixed here; the numbers observed with
  key 0 are in each test's docstring).
- AMUN, meant for random forgetting: on an original that overfits (train accuracy 100 %, test
  clearly lower, forget-set loss far below the retrained model's), AMUN must raise the forget-set
  loss towards the retrained model's, far more than fine-tuning on the same data does, while
  retain accuracy stays within 5 points.
- TRW: its targets equal a NumPy float64 reference for both similarity estimates (sum to one,
  zero mass on the forgotten classes), bad hyperparameters and non-class forget sets fail before
  any forward pass, and after unlearning the model puts < 5 % softmax mass on the forgotten
  class.
"""

from __future__ import annotations

import os

import jax
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import DEFAULT_FASHION_MNIST_DIR, load_digits, load_fashion_mnist, make_splits
from jaxunlearn.evaluate import evaluate_splits
from jaxunlearn.methods import METHODS, unlearn
from jaxunlearn.methods import trw as trw_module
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import predict_logits, train
from method_helpers import mlp_logits_float64

FORGET_CLASS = 3


# The batch sizes these known-answer settings were calibrated with (the methods' own defaults
# follow the papers' CIFAR code: batch 256).
CALIBRATED = {"batch_size": 64}
CALIBRATED_GA = {"batch_size": 64, "forget_batch_size": 32, "momentum": 0.0, "weight_decay": 0.0}

def _train_original(fns, dataset, epochs):
    variables = fns.init(jax.random.key(0), np.asarray(dataset.inputs[:1]))
    config = TrainConfig(epochs=epochs, batch_size=64, learning_rate=0.05)
    return train(fns.apply, variables, dataset, config, progress=False).variables


def _softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Setup:
    def __init__(self, fns, splits, variables):
        self.fns, self.splits, self.variables = fns, splits, variables
        self.metrics = evaluate_splits(fns.apply, variables, splits)


@pytest.fixture(scope="module")
def class_forgetting() -> Setup:
    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_classes=[FORGET_CLASS], seed=0)
    fns = create_model_fns("mlp", 10, hidden_sizes=(256, 256))
    return Setup(fns, splits, _train_original(fns, train_set, epochs=30))


def _check_class_forgotten(setup, result, max_forget_accuracy=0.30, retain_margin=0.10):
    metrics = evaluate_splits(setup.fns.apply, result.variables, setup.splits)
    assert setup.metrics["forget_accuracy"] == 1.0  # the original knows the class
    assert metrics["forget_accuracy"] < max_forget_accuracy, metrics
    assert metrics["retain_accuracy"] >= setup.metrics["retain_accuracy"] - retain_margin, metrics
    # the remaining classes of the test set are still recognised
    test = setup.splits.test
    others = test.labels != FORGET_CLASS
    logits = predict_logits(setup.fns.apply, result.variables, test.inputs[others])
    original_logits = predict_logits(setup.fns.apply, setup.variables, test.inputs[others])
    accuracy = np.mean(logits.argmax(1) == test.labels[others])
    original_accuracy = np.mean(original_logits.argmax(1) == test.labels[others])
    assert accuracy >= original_accuracy - retain_margin
    return metrics


def test_gradient_ascent_forgets_a_class_forget_below_30_retain_within_10_points(
        class_forgetting):
    """GA, lr 0.05, 2 epochs of D_f in batches of 32 (10 steps). Observed (key 0): forget
    accuracy 1.00 -> 0.00, retain 1.00 -> 0.96. GA is a cliff on this over-fitted MLP (8 steps:
    forget 0.93; 12 steps: everything collapses to 11 % retain), so the setting is pinned."""
    result = unlearn(class_forgetting.fns, class_forgetting.variables, class_forgetting.splits,
                     "gradient_ascent", hyperparams={"epochs": 2, "learning_rate": 0.05,
                                                     **CALIBRATED_GA},
                     key=0, progress=False)
    assert result.log["steps"] == 10
    _check_class_forgotten(class_forgetting, result)


@pytest.mark.parametrize("name", ["random_label", "salun"])
def test_random_labels_forget_a_class_forget_below_30_retain_within_10_points(
        class_forgetting, name):
    """RL and SalUn with the quickstart's digits settings (lr 0.001, no momentum, 3 epochs).
    Observed (key 0): forget accuracy 1.00 -> 0.055 (both), retain 1.00 -> 0.981 (RL), 0.988
    (SalUn)."""
    result = unlearn(class_forgetting.fns, class_forgetting.variables, class_forgetting.splits,
                     name, hyperparams={"epochs": 3, "learning_rate": 0.001, "momentum": 0.0,
                                        **CALIBRATED},
                     key=0, progress=False)
    _check_class_forgotten(class_forgetting, result)


def test_salun_moves_only_half_of_the_weights(class_forgetting):
    """SalUn's static mask keeps int(N/2) coordinates; momentum and weight decay (the defaults
    here) must not move the others (the SalUn issue #32 lesson)."""
    result = unlearn(class_forgetting.fns, class_forgetting.variables, class_forgetting.splits,
                     "salun", steps=5, key=0, progress=False)
    moved = sum(int(np.sum(np.asarray(new) != np.asarray(old))) for new, old in zip(
        jax.tree_util.tree_leaves(result.variables["params"]),
        jax.tree_util.tree_leaves(class_forgetting.variables["params"])))
    total = sum(leaf.size for leaf in
                jax.tree_util.tree_leaves(class_forgetting.variables["params"]))
    assert 0.3 * total < moved <= total // 2
    assert result.log["saliency_keep_fraction"] == 0.5


# --- TRW ----------------------------------------------------------------------------------------


def _probability_similarity(probabilities, labels, c, forgotten):
    """s_c = mean over class-c rows of p with column c zeroed and renormalised."""
    without = probabilities[labels == c].copy()
    without[:, c] = 0.0
    without /= without.sum(axis=1, keepdims=True)
    return without.mean(axis=0)


def _pca_similarity(train_logits, train_labels, c, forgotten, components=5, temperature=0.1):
    """PCA (np.linalg.svd of the logits centred by their mean) onto the top `components`
    directions, class means, cosine to class c, softmax(cos / T) over the classes not
    forgotten."""
    centred = train_logits - train_logits.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ vt[:components].T
    means = np.stack([projected[train_labels == k].mean(axis=0) for k in range(10)])
    cosine = np.array([means[k] @ means[c] / np.linalg.norm(means[k]) / np.linalg.norm(means[c])
                       for k in range(10)])
    weights = np.exp(cosine / temperature)
    weights[list(forgotten)] = 0.0
    return weights / weights.sum()


def _trw_reference(logits, labels, forgotten, tilt, similarity):
    """TRW targets in float64: p = softmax(logits); for each forgotten class c, target ∝
    p_k exp(tilt s_c,k), zero on every forgotten class, normalised; s_c from `similarity`."""
    probabilities = _softmax(logits)
    targets = np.zeros_like(probabilities)
    for c in forgotten:
        rows = labels == c
        tilted = probabilities[rows] * np.exp(tilt * similarity(c))
        tilted[:, c] = 0.0
        targets[rows] = tilted / tilted.sum(axis=1, keepdims=True)
    targets[:, forgotten] = 0.0
    return targets / targets.sum(axis=1, keepdims=True)


def _reference_similarity(setup, splits, name, forgotten):
    if name == "probabilities":
        forget = splits.forget_set
        probabilities = _softmax(mlp_logits_float64(setup.variables["params"], forget.inputs))
        return lambda c: _probability_similarity(probabilities, forget.labels, c, forgotten)
    train_logits = mlp_logits_float64(setup.variables["params"], splits.train.inputs)
    return lambda c: _pca_similarity(train_logits, splits.train.labels, c, forgotten)


@pytest.mark.parametrize("similarity, tilt", [("probabilities", 0.0), ("probabilities", 1.0),
                                              ("probabilities", 5.0), ("pca_cosine", 1.0),
                                              ("pca_cosine", 10.0)])
def test_trw_targets_match_numpy_reference(class_forgetting, similarity, tilt):
    setup = class_forgetting
    hyper = METHODS["trw"].hyperparameters({"tilt": tilt, "similarity": similarity})
    prepared = trw_module._prepare(setup.fns, setup.variables, setup.splits, hyper, 0)
    targets = np.asarray(prepared.aux["targets"], np.float64)
    forget = setup.splits.forget_set
    assert targets.shape == (len(forget), 10)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(targets >= 0.0)
    assert np.all(targets[:, FORGET_CLASS] == 0.0)
    logits = mlp_logits_float64(setup.variables["params"], forget.inputs)
    reference = _reference_similarity(setup, setup.splits, similarity, [FORGET_CLASS])
    expected = _trw_reference(logits, forget.labels, [FORGET_CLASS], tilt, reference)
    np.testing.assert_allclose(targets, expected, atol=5e-5)
    assert prepared.log["trw_tilt"] == tilt and prepared.log["trw_similarity"] == similarity
    np.testing.assert_allclose(prepared.log["trw_class_similarity"][str(FORGET_CLASS)],
                               reference(FORGET_CLASS), atol=1e-5)


def test_trw_defaults_are_the_papers():
    hyper = METHODS["trw"].hyperparameters()
    assert hyper["tilt"] == 10.0 and hyper["similarity"] == "pca_cosine"
    assert hyper["similarity_temperature"] == 0.1 and hyper["pca_components"] is None


@pytest.mark.parametrize("similarity", ["probabilities", "pca_cosine"])
def test_trw_targets_for_two_forgotten_classes_have_no_mass_on_either(class_forgetting,
                                                                      similarity):
    setup = class_forgetting
    splits = make_splits(setup.splits.train, setup.splits.test, forget_classes=[3, 8], seed=0)
    hyper = METHODS["trw"].hyperparameters({"similarity": similarity})
    prepared = trw_module._prepare(setup.fns, setup.variables, splits, hyper, 0)
    targets = np.asarray(prepared.aux["targets"], np.float64)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(targets[:, [3, 8]] == 0.0)
    forget = splits.forget_set
    logits = mlp_logits_float64(setup.variables["params"], forget.inputs)
    reference = _reference_similarity(setup, splits, similarity, [3, 8])
    expected = _trw_reference(logits, forget.labels, [3, 8], hyper["tilt"], reference)
    np.testing.assert_allclose(targets, expected, atol=5e-5)
    if similarity == "pca_cosine":  # the other forgotten class is no neighbour either
        for c in (3, 8):
            assert prepared.log["trw_class_similarity"][str(c)][3] == 0.0
            assert prepared.log["trw_class_similarity"][str(c)][8] == 0.0


@pytest.mark.parametrize("hyperparams, pattern", [
    ({"similarity": "cosine"}, r"similarity must be one of \['pca_cosine', 'probabilities'\]"),
    ({"similarity_temperature": 0.0}, r"similarity_temperature must be > 0"),
    ({"similarity_temperature": -1.0}, r"similarity_temperature must be > 0"),
    ({"pca_components": 11}, r"pca_components must be None or an int in \[1, 10\]"),
    ({"pca_components": 0}, r"pca_components"),
])
def test_trw_bad_hyperparameters_fail_before_compiling(class_forgetting, monkeypatch,
                                                       hyperparams, pattern):
    setup = class_forgetting

    def no_forward_pass(*args, **kwargs):
        raise AssertionError("a forward pass ran before the hyperparameters were checked")

    monkeypatch.setattr(trw_module, "predict_logits", no_forward_pass)
    with pytest.raises(ValueError, match=pattern):
        unlearn(setup.fns, setup.variables, setup.splits, "trw", hyperparams=hyperparams,
                key=0, progress=False)


def test_trw_refuses_a_forget_set_that_is_not_whole_classes(class_forgetting, monkeypatch):
    setup = class_forgetting
    random_splits = make_splits(setup.splits.train, setup.splits.test, forget_fraction=0.1,
                                seed=0)

    def no_preparation(*args, **kwargs):
        raise AssertionError("TRW's targets were computed for a non-class forget set")

    monkeypatch.setattr(trw_module, "predict_logits", no_preparation)
    with pytest.raises(ValueError, match=r"method 'trw' unlearns whole classes.*forget_classes"):
        unlearn(setup.fns, setup.variables, random_splits, "trw", key=0, progress=False)


def test_trw_leaves_under_5_percent_mass_on_the_forgotten_class(class_forgetting):
    """TRW defaults (10 epochs, lr 0.01, tilt 10, PCA-cosine similarity)."""
    setup = class_forgetting
    result = unlearn(setup.fns, setup.variables, setup.splits, "trw", key=0, progress=False)
    forget = setup.splits.forget_set
    mass = _softmax(mlp_logits_float64(result.variables["params"], forget.inputs))
    assert mass[:, FORGET_CLASS].mean() < 0.05
    original_mass = _softmax(mlp_logits_float64(setup.variables["params"], forget.inputs))
    assert original_mass[:, FORGET_CLASS].mean() > 0.95  # so the test can fail
    test = setup.splits.test
    class_rows = test.labels == FORGET_CLASS
    test_mass = _softmax(mlp_logits_float64(result.variables["params"],
                                             test.inputs[class_rows]))
    assert test_mass[:, FORGET_CLASS].mean() < 0.05
    metrics = evaluate_splits(setup.fns.apply, result.variables, setup.splits)
    assert metrics["retain_accuracy"] >= setup.metrics["retain_accuracy"] - 0.03


# --- AMUN on over-fitted originals --------------------------------------------------------------


def _overfit_setup(train_set, test_set, hidden, epochs, train_size, seed=0):
    rng = np.random.default_rng(seed)
    train_set = train_set.subset(np.sort(rng.choice(len(train_set), train_size, replace=False)))
    splits = make_splits(train_set, test_set, forget_fraction=0.2, seed=seed)
    fns = create_model_fns("mlp", 10, hidden_sizes=hidden)
    setup = Setup(fns, splits, _train_original(fns, train_set, epochs=epochs))
    retrained = unlearn(fns, setup.variables, splits, "retrain",
                        hyperparams={"epochs": epochs, "learning_rate": 0.05, **CALIBRATED}, key=0,
                        progress=False)
    setup.retrained = evaluate_splits(fns.apply, retrained.variables, splits)
    return setup


@pytest.fixture(scope="module")
def digits_overfit() -> Setup:
    train_set, test_set = load_digits()
    return _overfit_setup(train_set, test_set, hidden=(64,), epochs=60, train_size=300)


@pytest.fixture(scope="module")
def fashion_overfit() -> Setup:
    if not os.path.isdir(DEFAULT_FASHION_MNIST_DIR):
        pytest.skip(f"Fashion-MNIST is not installed in {DEFAULT_FASHION_MNIST_DIR}")
    train_set, test_set = load_fashion_mnist()
    rng = np.random.default_rng(1)
    test_set = test_set.subset(np.sort(rng.choice(len(test_set), 300, replace=False)))
    return _overfit_setup(train_set, test_set, hidden=(64,), epochs=40, train_size=500)


def _check_amun(setup, hyperparams, *, over_finetune, over_original, retain_margin,
                test_margin, method="amun"):
    original, retrained = setup.metrics, setup.retrained
    # the problem is the one described: memorised forget set, a clear train/test gap, and a
    # retrained model whose forget loss is far above the original's
    assert original["forget_accuracy"] == 1.0 and original["retain_accuracy"] == 1.0
    assert original["test_accuracy"] <= original["forget_accuracy"] - 0.05
    assert retrained["forget_loss"] > 10 * original["forget_loss"]

    amun = unlearn(setup.fns, setup.variables, setup.splits, method, hyperparams=hyperparams,
                   key=0, progress=False)
    assert amun.log["amun_forget_size"] == len(setup.splits.forget_indices)
    assert amun.log["amun_adversarial_found"] > 0.9 * len(setup.splits.forget_indices)
    finetuned = unlearn(setup.fns, setup.variables, setup.splits, "finetune",
                        hyperparams={k: v for k, v in hyperparams.items()
                                     if k not in ("lr_decay_epochs", "forget_batch_size")},
                        key=0, progress=False)
    after = evaluate_splits(setup.fns.apply, amun.variables, setup.splits)
    control = evaluate_splits(setup.fns.apply, finetuned.variables, setup.splits)
    assert after["forget_loss"] > over_original * original["forget_loss"], after
    assert after["forget_loss"] > over_finetune * control["forget_loss"], (after, control)
    assert after["forget_loss"] < retrained["forget_loss"], (after, retrained)  # no overshoot
    assert after["retain_accuracy"] >= original["retain_accuracy"] - retain_margin, after
    assert after["test_accuracy"] >= original["test_accuracy"] - test_margin, after
    return after


def test_amun_two_stream_raises_forget_loss_towards_retrain_on_overfit_digits(
        digits_overfit):
    """The two-stream variant (D_f ∪ D_adv and D_r averaged separately). 300 digits, MLP (64,), 60 epochs: forget (20 %, 60 images) accuracy 1.00, test 0.925,
    forget loss 0.017; retrained: forget accuracy 0.88, forget loss 0.43. AMUN lr 0.05, 10
    epochs. Observed (key 0): forget loss 0.082 (fine-tuning alone 0.029), forget accuracy
    0.983, retain 0.992, test 0.889 (keys 1, 2: forget loss 0.086, 0.081). Margins: forget loss
    > 3x the original's and > 2x fine-tuning's, below the retrained model's; retain within 5
    points, test within 6."""
    _check_amun(digits_overfit, {"epochs": 10, "learning_rate": 0.05, **CALIBRATED},
                over_finetune=2.0, over_original=3.0, retain_margin=0.05, test_margin=0.06,
                method="amun_two_stream")


def test_amun_authors_stream_raises_forget_loss_above_fine_tuning_on_overfit_digits(
        digits_overfit):
    """The authors' recipe (one stream D ∪ D_adv, uniform CE), lr 0.05 without decay, batch 64,
    10 epochs, on the 300-digit setting above: forget loss 0.041 (original 0.017, fine-tuning
    0.029, retrained 0.43), forget accuracy 1.00, test 0.914. D_adv is 60 of 360 rows, so the
    push is gentler than the two-stream variant's (0.082). Margins: > 2x the original's, > 1.2x
    fine-tuning's, below the retrained model's; retain within 5 points, test within 6."""
    _check_amun(digits_overfit, {"epochs": 10, "learning_rate": 0.05, "lr_decay_epochs": 10,
                                 "forget_batch_size": 64, **CALIBRATED},
                over_finetune=1.2, over_original=2.0, retain_margin=0.05, test_margin=0.06)


def test_amun_two_stream_lowers_forget_accuracy_on_overfit_fashion_mnist(
        fashion_overfit):
    """The two-stream variant. 500 Fashion-MNIST images, MLP (64,), 40 epochs: forget accuracy 1.00, test 0.763,
    forget loss 0.007; retrained: forget accuracy 0.77, forget loss 0.79. AMUN lr 0.02, 10
    epochs. Observed (key 0): forget accuracy 0.95, forget loss 0.12 (fine-tuning alone 0.009),
    retain 0.993, test 0.727 (keys 1, 2: forget loss 0.19, 0.18). Margins: forget loss > 8x the
    original's and fine-tuning's, below the retrained model's; forget accuracy down >= 3
    points; retain within 5 points, test within 8."""
    after = _check_amun(fashion_overfit, {"epochs": 10, "learning_rate": 0.02, **CALIBRATED},
                        over_finetune=8.0, over_original=8.0, retain_margin=0.05,
                        test_margin=0.08, method="amun_two_stream")
    assert after["forget_accuracy"] <= fashion_overfit.metrics["forget_accuracy"] - 0.03
