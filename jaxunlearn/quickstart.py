"""``jaxunlearn quickstart``: the whole unlearning story on scikit-learn digits, in one command.

Train the original model on D = D_r ∪ D_f, retrain on D_r as the reference, unlearn with the
baselines (FT, GA, NegGrad+, RL, SalUn), AMUN and a masked variant (RL + PROB mask), evaluate
UA / RA / TA / MIA-efficacy on every model, audit each method with U-LiRA over a small pool of
models (vmapped originals, each unlearned by the method, against vmapped retrains), and write the
table (Markdown, CSV, JSON with provenance) and a chart.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

import jax

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from jaxunlearn.evaluate import GAP_DEFINITION, evaluate_models
from jaxunlearn.evaluate.ulira_audit import ulira_models
from jaxunlearn.methods import ADDONS, get_method, unlearn, unlearn_many
from jaxunlearn.pipeline import config_record, init_variables, prepare, timed
from jaxunlearn.report import environment_info, metric_grid, write_table
from jaxunlearn.train import train, train_original_and_retrained

COLUMNS = ("method", "UA", "RA", "TA", "MIA", "U-LiRA", "U-LiRA AUC", "forget_loss", "tv_forget",
           "gap", "seconds")


CHART_DESCRIPTIONS = {
    "UA": "error on the forget set (%)", "RA": "accuracy on the retain set (%)",
    "TA": "accuracy on the test set (%)", "MIA": "forget set called non-member (%)",
    "U-LiRA": "attack accuracy (%), 50 = retrained", "forget_loss": "cross-entropy on forget set",
}

# Settings tuned for the digits MLP, which fits its training set to a cross-entropy of ~0.003:
# at the CIFAR defaults of the papers, random-label methods overshoot (see the methods' docs).
_DIGITS_COMMON = {"batch_size": 64, "momentum": 0.9, "weight_decay": 5e-4}
DIGITS_HYPERPARAMS = {
    "finetune": {**_DIGITS_COMMON, "epochs": 5, "learning_rate": 0.02},
    "gradient_ascent": {**_DIGITS_COMMON, "epochs": 2, "learning_rate": 0.1, "momentum": 0.0,
                        "weight_decay": 0.0, "forget_batch_size": 32},
    "neggrad_plus": {**_DIGITS_COMMON, "epochs": 3, "learning_rate": 0.02, "beta": 0.8},
    "random_label": {**_DIGITS_COMMON, "epochs": 3, "learning_rate": 0.001, "momentum": 0.0},
    "salun": {**_DIGITS_COMMON, "epochs": 3, "learning_rate": 0.001, "momentum": 0.0},
    # the authors' recipe (one stream D ∪ D_adv, batch 128, 10 epochs) at the learning rate and
    # decay period experiments/tune.py chose for digits, random 10 % (lr 0.1, no decay)
    "amun": {"learning_rate": 0.1, "lr_decay_epochs": 10},
}


@dataclasses.dataclass(frozen=True)
class QuickstartConfig:
    """The quickstart's experiment, the methods it runs and their hyperparameters.

    ``variants`` lists ``"method"`` or ``"method+addon"`` names run after the reference;
    ``hyperparams`` maps a method name to its overrides (a variant uses its method's).
    ``ulira_models`` is the size M of each U-LiRA pool (0 skips the audit): M originals and 2M
    retrains are trained vmapped, and every variant unlearns each of the M originals.
    """

    experiment: ExperimentConfig = dataclasses.field(
        default_factory=lambda: ExperimentConfig(
            data=DataConfig(name="digits", forget_fraction=0.1, seed=0),
            model=ModelConfig(name="mlp", options={"hidden_sizes": [256, 256]}),
            train=TrainConfig(epochs=30, batch_size=64, learning_rate=0.05, weight_decay=5e-4),
        )
    )
    variants: tuple[str, ...] = (
        "finetune", "gradient_ascent", "neggrad_plus", "random_label", "salun", "amun",
        "random_label+prob_mask",
    )
    hyperparams: dict = dataclasses.field(default_factory=lambda: dict(DIGITS_HYPERPARAMS))
    ulira_models: int = 4

    def __post_init__(self):
        if isinstance(self.ulira_models, bool) or not isinstance(self.ulira_models, int):
            raise TypeError(f"ulira_models must be an int, got {type(self.ulira_models).__name__}")
        if self.ulira_models == 1 or self.ulira_models < 0:
            raise ValueError(f"ulira_models: must be 0 (no audit) or >= 2, got {self.ulira_models}")


def _ulira_column(config, setup, runs) -> dict[str, dict]:
    """U-LiRA of every run: M vmapped originals (on D), all unlearned by the run's method in one
    vmapped program (:func:`~jaxunlearn.methods.unlearn_many`), against M vmapped retrains (on
    D_r); "retrain" plays M further retrains against them (exact retraining, ≈ 50%), "original"
    the originals themselves (a no-op, ≈ 100%)."""
    splits, fns, train_config = setup.splits, setup.model_fns, config.experiment.train
    size = config.ulira_models
    originals, retrains = train_original_and_retrained(
        fns, splits, train_config, original_seeds=[1000 + m for m in range(size)],
        retrain_seeds=[2000 + m for m in range(2 * size)])
    never_saw = jax.tree.map(lambda leaf: leaf[:size], retrains)
    pools = {"original": originals, "retrain": jax.tree.map(lambda leaf: leaf[size:], retrains)}
    for name, (method, addon, hyperparams) in runs.items():
        # one vmapped program per method (each model as its own unlearn() run would be)
        pools[name] = unlearn_many(fns, originals, splits, method,
                                   keys=[train_config.seed + m for m in range(size)],
                                   addons=(addon,) if addon else (), hyperparams=hyperparams,
                                   module=setup.module, progress=False).variables
    return {name: ulira_models(fns.apply, pool, never_saw, splits.forget_set, key=0,
                               fix_variance=True)
            for name, pool in pools.items()}


def run_quickstart(
    config: QuickstartConfig = QuickstartConfig(),
    out_dir: str = "quickstart_out",
    *,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> list[dict]:
    """Run the quickstart and write ``results.{md,csv,json}`` and ``results.png`` in ``out_dir``.

    Returns the table rows: original, retrain, then one per variant.
    """
    experiment = config.experiment
    for variant in config.variants:
        method, _, addon = variant.partition("+")
        get_method(method)  # unknown names fail before any training
        if addon and addon not in ADDONS:
            raise ValueError(f"variants: unknown add-on {addon!r}; available: {sorted(ADDONS)}")
    setup = prepare(experiment)
    splits = setup.splits
    echo(
        f"digits: train {len(splits.train)} (forget {len(splits.forget_indices)}, retain "
        f"{len(splits.retain_indices)}), test {len(splits.test)}; model {experiment.model.name}"
    )
    os.makedirs(out_dir, exist_ok=True)
    splits.save(os.path.join(out_dir, "splits.json"))
    fns = setup.model_fns
    train_config = experiment.train

    original, original_seconds = timed(
        lambda: train(
            fns.apply, init_variables(setup, train_config.seed), splits.train, train_config,
            progress=progress, description="original",
        )
    )
    runs = {"original": (original.variables, original_seconds, {})}
    reference = {"epochs": train_config.epochs, "learning_rate": train_config.learning_rate,
                 "batch_size": train_config.batch_size, "weight_decay": train_config.weight_decay}
    result, seconds = timed(lambda: unlearn(fns, original.variables, splits, "retrain",
                                            hyperparams=reference, key=train_config.seed,
                                            progress=progress))
    runs["retrain"] = (result.variables, seconds, result.log)
    for variant in config.variants:
        method, _, addon = variant.partition("+")
        result, seconds = timed(lambda: unlearn(
            fns, original.variables, splits, method, addons=(addon,) if addon else (),
            hyperparams=config.hyperparams.get(method), key=train_config.seed, progress=progress))
        runs[variant] = (result.variables, seconds, result.log)

    rows = evaluate_models(fns.apply, {name: variables for name, (variables, _, _) in runs.items()},
                           splits, reference="retrain")
    audit, audit_seconds = {}, 0.0
    if config.ulira_models:
        variant_runs = {}
        for variant in config.variants:
            method, _, addon = variant.partition("+")
            variant_runs[variant] = (method, addon, config.hyperparams.get(method))
        echo(f"U-LiRA: {config.ulira_models} originals and {2 * config.ulira_models} retrains "
             f"(vmapped), each variant unlearning every original")
        audit, audit_seconds = timed(lambda: _ulira_column(config, setup, variant_runs))
    for row in rows:
        _, seconds, log = runs[row["method"]]
        row["seconds"], row["hyperparams"] = seconds, log.get("hyperparams", {})
        if row["method"] in audit:
            row["U-LiRA"] = 100.0 * audit[row["method"]]["balanced_accuracy"]
            row["U-LiRA AUC"] = 100.0 * audit[row["method"]]["auc"]
            row["ulira"] = audit[row["method"]]
        else:
            row["U-LiRA"] = row["U-LiRA AUC"] = float("nan")

    metadata = {
        "experiment": "quickstart",
        "config": config_record(config),
        "splits": splits.summary(),
        "ulira": {"models_per_pool": config.ulira_models, "seconds": audit_seconds,
                  "statistic": "logit-scaled confidence", "targets": "every model, held out with a companion from the other pool"},
        "environment": environment_info(),
        "metric_definitions": {
            "UA": "100 * (1 - accuracy on the forget set)",
            "RA": "100 * accuracy on the retain set",
            "TA": "100 * accuracy on the test set",
            "MIA": "MIA-efficacy: % of the forget set an SVC on the model's own retain-vs-test "
                   "confidences calls non-member (SalUn's protocol)",
            "forget_loss": "mean cross-entropy on the forget set (memorisation shows as a low value)",
            "tv_forget": "mean total-variation distance to the retrained model's outputs on D_f",
            "U-LiRA": "balanced accuracy (%) of U-LiRA's likelihood-ratio decision (Hayes et al. "
                      "2025; fixed variance) telling models that unlearned D_f from models that "
                      "never saw it, on D_f; 50 = perfect unlearning. Each held-out target is "
                      "scored with a companion from the other pool held out too (equal shadow "
                      "counts). Pools: M originals trained vmapped on D with seeds 1000+m, "
                      "each unlearned by the method (key seed+m), vs M retrains on D_r (seeds "
                      "2000+m); 'retrain' plays M more retrains, 'original' the originals",
            "U-LiRA AUC": "AUC (%) of the same U-LiRA scores; 50 = perfect unlearning",
            "gap": GAP_DEFINITION,
            "seconds": "wall-clock time of the run, compilation included",
        },
    }
    paths = write_table(rows, COLUMNS, out_dir, "results", metadata=metadata, digits=3)
    chart_metrics = ["UA", "RA", "TA", "MIA", *(["U-LiRA"] if audit else []), "forget_loss"]
    chart = metric_grid(rows, chart_metrics, os.path.join(out_dir, "results.png"),
                        title="Unlearning 10% of digits (MLP): each method next to the "
                              "retrained model", descriptions=CHART_DESCRIPTIONS)
    with open(paths["md"]) as handle:
        echo(handle.read().rstrip())
    echo(f"wrote {paths['md']}, {paths['csv']}, {paths['json']}, {chart}")
    return rows
