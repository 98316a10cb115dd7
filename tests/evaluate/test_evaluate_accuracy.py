"""UA/RA/TA against a float64 NumPy evaluation of a hand-set logistic regression."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.data import from_arrays, make_splits
from jaxunlearn.evaluate import evaluate_models, evaluate_splits, gap_to_reference
from jaxunlearn.models import create_model_fns


def test_evaluate_splits_matches_numpy():
    rng = np.random.default_rng(0)
    train = from_arrays(rng.standard_normal((90, 3, 3, 1)).astype(np.float32),
                        rng.integers(0, 4, 90).astype(np.int32), num_classes=4)
    test = from_arrays(rng.standard_normal((70, 3, 3, 1)).astype(np.float32),
                       rng.integers(0, 4, 70).astype(np.int32), num_classes=4)
    splits = make_splits(train, test, forget_fraction=0.2, seed=1)
    fns = create_model_fns("logistic_regression", 4)
    variables = fns.init(jax.random.key(0), jnp.asarray(train.inputs[:1]))
    kernel = rng.standard_normal((9, 4))
    bias = rng.standard_normal(4)
    params = jax.tree_util.tree_map(
        lambda leaf: jnp.asarray(kernel if leaf.ndim == 2 else bias, jnp.float32), variables["params"]
    )
    metrics = evaluate_splits(fns.apply, {"params": params}, splits, batch_size=16)

    def reference(dataset):
        logits = dataset.inputs.reshape(len(dataset), -1).astype(np.float64) @ kernel + bias
        log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return (logits.argmax(1) == dataset.labels).mean(), -log_probs[
            np.arange(len(dataset)), dataset.labels].mean()

    for name, dataset in (("forget", splits.forget_set), ("retain", splits.retain_set),
                          ("test", splits.test)):
        accuracy, loss = reference(dataset)
        assert metrics[f"{name}_accuracy"] == pytest.approx(accuracy)
        assert metrics[f"{name}_loss"] == pytest.approx(loss, rel=1e-5)
    assert metrics["UA"] == pytest.approx(100 * (1 - reference(splits.forget_set)[0]))
    assert metrics["TA"] == pytest.approx(100 * reference(splits.test)[0])


def test_gap_is_mean_absolute_difference_over_ua_ra_ta_mia():
    a = {"UA": 5.0, "RA": 99.0, "TA": 90.0, "MIA": 10.0, "forget_loss": 7.0}
    b = {"UA": 2.0, "RA": 100.0, "TA": 92.0, "MIA": 16.0, "forget_loss": 0.0}
    assert gap_to_reference(a, b) == pytest.approx((3 + 1 + 2 + 6) / 4)  # forget_loss not in it
    assert gap_to_reference(b, b) == 0.0
    with pytest.raises(ValueError, match="MIA"):
        gap_to_reference({"UA": 1.0, "RA": 1.0, "TA": 1.0}, b)


def _logistic_setup():
    rng = np.random.default_rng(3)
    train = from_arrays(rng.standard_normal((120, 3, 3, 1)).astype(np.float32),
                        rng.integers(0, 3, 120).astype(np.int32), num_classes=3)
    test = from_arrays(rng.standard_normal((80, 3, 3, 1)).astype(np.float32),
                       rng.integers(0, 3, 80).astype(np.int32), num_classes=3)
    splits = make_splits(train, test, forget_fraction=0.25, seed=2)
    fns = create_model_fns("logistic_regression", 3)
    variables = fns.init(jax.random.key(0), jnp.asarray(train.inputs[:1]))

    def model(kernel, bias):
        return {"params": jax.tree_util.tree_map(
            lambda leaf: jnp.asarray(kernel if leaf.ndim == 2 else bias, jnp.float32),
            variables["params"])}

    return rng, splits, fns, model


def test_evaluate_models_forget_auc_is_the_mann_whitney_auc_of_losses():
    rng, splits, fns, model = _logistic_setup()
    kernel, bias = rng.standard_normal((9, 3)), rng.standard_normal(3)
    models = {"retrain": model(kernel, bias), "other": model(2 * kernel, -bias)}
    rows = {row["method"]: row for row in evaluate_models(fns.apply, models, splits)}

    def losses(dataset, k, b):
        logits = dataset.inputs.reshape(len(dataset), -1).astype(np.float64) @ k + b
        log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return -log_probs[np.arange(len(dataset)), dataset.labels]

    for name, (k, b) in (("retrain", (kernel, bias)), ("other", (2 * kernel, -bias))):
        member = -losses(splits.forget_set, k, b)
        nonmember = -losses(splits.test, k, b)
        # Pr[a forget example scores above a test example], by brute force over all pairs
        pairs = member[:, None] - nonmember[None, :]
        expected = 100 * ((pairs > 0).mean() + 0.5 * (pairs == 0).mean())
        assert rows[name]["forget_auc"] == pytest.approx(expected, abs=1e-3)
    assert rows["retrain"]["gap"] == 0.0


def test_evaluate_models_marks_a_diverged_model_and_keeps_the_others():
    rng, splits, fns, model = _logistic_setup()
    kernel, bias = rng.standard_normal((9, 3)), rng.standard_normal(3)
    models = {"retrain": model(kernel, bias), "diverged": model(kernel * np.nan, bias),
              "fine": model(kernel, bias)}
    rows = {row["method"]: row for row in evaluate_models(fns.apply, models, splits)}
    assert rows["diverged"]["diverged"] is True
    assert np.isnan(rows["diverged"]["gap"]) and np.isnan(rows["diverged"]["UA"])
    assert rows["fine"]["gap"] == 0.0 and "diverged" not in rows["fine"]
    with pytest.raises(ValueError, match="reference"):
        evaluate_models(fns.apply, {"retrain": model(kernel * np.nan, bias)}, splits)
