"""Multi-seed comparisons (jaxunlearn.compare): aggregation against NumPy, determinism, errors."""

import math

import numpy as np
import pytest

from jaxunlearn.compare import Variant, aggregate_rows, compare_methods
from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def _experiment(**data):
    return ExperimentConfig(
        data=DataConfig(name="digits", seed=0, **(data or {"forget_fraction": 0.1})),
        model=ModelConfig(name="mlp", options={"hidden_sizes": [32]}),
        train=TrainConfig(epochs=2, batch_size=64, learning_rate=0.05))


def test_aggregate_matches_numpy_mean_and_sample_std():
    rng = np.random.default_rng(0)
    values = {"a": rng.normal(size=4), "b": rng.normal(size=1)}
    rows = [{"method": name, "UA": float(v)} for name, vs in values.items() for v in vs]
    aggregated = {row["method"]: row for row in aggregate_rows(rows, ["UA", "missing"])}
    assert aggregated["a"]["seeds"] == 4
    assert math.isclose(aggregated["a"]["UA_mean"], np.mean(values["a"]), rel_tol=1e-12)
    assert math.isclose(aggregated["a"]["UA_std"], np.std(values["a"], ddof=1), rel_tol=1e-12)
    assert aggregated["b"]["UA_std"] == 0.0  # one seed: no spread
    assert aggregated["a"]["UA"] == f"{np.mean(values['a']):.2f} ± {np.std(values['a'], ddof=1):.2f}"
    assert "missing_mean" not in aggregated["a"]


@pytest.fixture(scope="module")
def two_seeds():
    variants = [Variant("finetune", hyperparams={"epochs": 1, "batch_size": 64})]
    return compare_methods(_experiment(), variants, seeds=[0, 1], echo=lambda _: None)


def test_every_seed_evaluates_every_model(two_seeds):
    per_seed, aggregated, record = two_seeds
    assert [(row["seed"], row["method"]) for row in per_seed] == [
        (s, m) for s in (0, 1) for m in ("original", "retrain", "finetune")]
    assert record["originals"].startswith("vmapped")
    for row in per_seed:
        if row["method"] == "retrain":
            assert row["gap"] == 0.0
    # different seeds train different models
    originals = [row for row in per_seed if row["method"] == "original"]
    assert originals[0]["forget_loss"] != originals[1]["forget_loss"]
    finetune = next(row for row in aggregated if row["method"] == "finetune")
    losses = [row["forget_loss"] for row in per_seed if row["method"] == "finetune"]
    assert math.isclose(finetune["forget_loss_mean"], np.mean(losses), rel_tol=1e-9)


def test_vmapped_unlearning_matches_one_unlearn_run_per_seed(two_seeds):
    from jaxunlearn.evaluate import evaluate_splits
    from jaxunlearn.train.pools import train_original_and_retrained, unstack_model
    from jaxunlearn.methods import unlearn
    from jaxunlearn.pipeline import prepare

    per_seed, _, record = two_seeds
    assert record["unlearning_vmapped"] == {"finetune": True}
    experiment = _experiment()
    setup = prepare(experiment)
    originals, _ = train_original_and_retrained(
        setup.model_fns, setup.splits, experiment.train, original_seeds=[0, 1],
        retrain_seeds=[10_000, 10_001])
    for seed in (0, 1):
        alone = unlearn(setup.model_fns, unstack_model(originals, seed), setup.splits,
                        "finetune", hyperparams={"epochs": 1, "batch_size": 64}, key=seed,
                        progress=False)
        expected = evaluate_splits(setup.model_fns.apply, alone.variables, setup.splits)
        row = next(r for r in per_seed if r["seed"] == seed and r["method"] == "finetune")
        assert row["forget_loss"] == pytest.approx(expected["forget_loss"], rel=1e-4)
        assert row["TA"] == pytest.approx(100 * expected["test_accuracy"], abs=1e-9)


@pytest.mark.slow
def test_the_same_seeds_give_the_same_numbers(two_seeds):
    per_seed, _, _ = two_seeds
    again, _, _ = compare_methods(
        _experiment(), [Variant("finetune", hyperparams={"epochs": 1, "batch_size": 64})],
        seeds=[0, 1], echo=lambda _: None)
    assert [row["forget_loss"] for row in again] == [row["forget_loss"] for row in per_seed]
    assert [row["MIA"] for row in again] == [row["MIA"] for row in per_seed]


@pytest.mark.slow
def test_class_unlearning_adds_mia_nn():
    per_seed, aggregated, record = compare_methods(
        _experiment(forget_fraction=None, forget_classes=(3,)),
        [Variant("finetune", hyperparams={"epochs": 1, "batch_size": 64})], seeds=[0],
        echo=lambda _: None)
    assert record["class_unlearning"]
    rows = {row["method"]: row for row in per_seed}
    assert rows["retrain"]["UA"] == 100.0  # the retrained model never saw a 3
    assert rows["retrain"]["MIA-NN_gap"] == 0.0
    assert 0.0 <= rows["original"]["MIA-NN"] <= 100.0
    # the paper's MIA-NN (SVM on logits) and the earlier logistic attack, under distinct names
    assert rows["retrain"]["MIA-NN-logistic_gap"] == 0.0
    assert 0.0 <= rows["original"]["MIA-NN-logistic"] <= 100.0
    # the nearest class of 3, by vote of the retrained models, is recorded and is not 3
    assert len(record["mia_nn_neighbours"]) == 1 and record["mia_nn_neighbours"][0] != 3


@pytest.mark.parametrize("variants, seeds, match", [
    ([], [0], "variants"),
    ([Variant("finetune"), Variant("finetune")], [0], "unique"),
    ([Variant("finetune", name="retrain")], [0], "retrain"),
    ([Variant("finetune", addons=("nosuch",))], [0], "nosuch"),
    ([Variant("trw")], [0], "forget_classes"),
    ([Variant("finetune")], [0, 0], "seeds"),
    ([Variant("finetune")], [], "seeds"),
])
def test_bad_requests_fail_before_training(variants, seeds, match):
    with pytest.raises(ValueError, match=match):
        compare_methods(_experiment(), variants, seeds=seeds, echo=lambda _: None)


def test_load_tuned_reads_the_methods_and_refuses_other_shapes(tmp_path):
    from jaxunlearn.compare import load_tuned

    assert load_tuned(tmp_path / "absent.json") == {}
    path = tmp_path / "tuned.json"
    path.write_text('{"methods": {"gradient_ascent": {"learning_rate": 0.01, "epochs": 5}}, '
                    '"provenance": {}}')
    assert load_tuned(path) == {"gradient_ascent": {"learning_rate": 0.01, "epochs": 5}}
    for text in ('{"methods": [1, 2]}', '{"methods": {"ga": 0.1}}', "[]", "not json"):
        path.write_text(text)
        with pytest.raises(ValueError, match="tuned.json"):
            load_tuned(path)


def test_standard_experiment_settings_and_hyperparameter_precedence(tmp_path):
    from jaxunlearn.compare import method_hyperparams, standard_experiment
    from jaxunlearn.quickstart import DIGITS_HYPERPARAMS

    digits_class = standard_experiment("digits", "class")
    assert digits_class.data.forget_classes == (3,) and digits_class.data.forget_fraction is None
    fashion = standard_experiment("fashion_mnist", "random50", epochs=2)
    assert fashion.data.forget_fraction == 0.5 and fashion.train.epochs == 2
    assert fashion.model.name == "small_cnn"
    assert standard_experiment("fashion_mnist", "class").data.forget_classes == (6,)
    with pytest.raises(ValueError, match="setting"):
        standard_experiment("digits", "random20")
    with pytest.raises(ValueError, match="data"):
        standard_experiment("cifar10", "class")
    (tmp_path / "digits_class.json").write_text(
        '{"methods": {"gradient_ascent": {"learning_rate": 0.003, "epochs": 5}}}')
    assert method_hyperparams("gradient_ascent", "digits", "class", tmp_path) == {
        "learning_rate": 0.003, "epochs": 5}
    assert method_hyperparams("gradient_ascent", "digits", "random10", tmp_path) == \
        DIGITS_HYPERPARAMS["gradient_ascent"]
    assert method_hyperparams("scrub", "digits", "class", tmp_path) == {"batch_size": 64}
    assert method_hyperparams("scrub", "fashion_mnist", "class", tmp_path) == {}


def test_a_masked_variant_takes_its_own_tuning_or_its_base_methods(tmp_path):
    from jaxunlearn.compare import method_hyperparams

    (tmp_path / "digits_class.json").write_text(
        '{"methods": {"scrub": {"learning_rate": 0.001}, '
        '"scrub+and_mask": {"learning_rate": 0.03}}}')
    assert method_hyperparams("scrub+and_mask", "digits", "class", tmp_path) == {
        "learning_rate": 0.03}
    assert method_hyperparams("scrub+prob_mask", "digits", "class", tmp_path) == {
        "learning_rate": 0.001}


@pytest.mark.slow  # ~35 s: keeps the default suite under its 10-minute budget
def test_cache_shares_originals_across_forget_settings(two_seeds, tmp_path):
    """A cached run reproduces the uncached one exactly; a second forgetting setting of the same
    data reuses the originals (same training set) but not the references (other retain set)."""
    variants = [Variant("finetune", hyperparams={"epochs": 1, "batch_size": 64})]
    quiet = {"seeds": [0, 1], "echo": lambda _: None, "cache_dir": tmp_path}
    per_seed, _, _ = compare_methods(_experiment(), variants, **quiet)
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["original", "retrain"]
    for row, other in zip(per_seed, two_seeds[0]):
        for metric in ("UA", "RA", "TA", "MIA", "forget_loss"):
            assert row[metric] == other[metric], (row["method"], metric)
    compare_methods(_experiment(forget_fraction=0.3), variants, **quiet)
    kinds = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert kinds == ["original", "retrain", "retrain"]
    # a rerun from the cache gives the same numbers again
    again, _, _ = compare_methods(_experiment(), variants, **quiet)
    assert [row["UA"] for row in again] == [row["UA"] for row in per_seed]
