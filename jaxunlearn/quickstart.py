"""``jaxunlearn quickstart``: the whole unlearning story on scikit-learn digits, in seconds.

Train the original model on D = D_r ∪ D_f, retrain on D_r as the reference, unlearn with
fine-tuning (FT) and gradient ascent (GA), evaluate UA / RA / TA on every model, and write the
table (Markdown, CSV, JSON with provenance) and a bar chart.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from jaxunlearn.evaluate import evaluate_splits, gap_to_reference
from jaxunlearn.methods import finetune, gradient_ascent, retrain
from jaxunlearn.pipeline import config_record, init_variables, prepare, timed
from jaxunlearn.report import bar_chart, environment_info, write_table
from jaxunlearn.train import train

COLUMNS = ("method", "UA", "RA", "TA", "forget_loss", "test_loss", "gap", "seconds")


@dataclasses.dataclass(frozen=True)
class QuickstartConfig:
    """The quickstart's experiment and the two baselines' unlearning recipes."""

    experiment: ExperimentConfig = dataclasses.field(
        default_factory=lambda: ExperimentConfig(
            data=DataConfig(name="digits", forget_fraction=0.1, seed=0),
            model=ModelConfig(name="mlp", options={"hidden_sizes": [256, 256]}),
            train=TrainConfig(epochs=30, batch_size=64, learning_rate=0.05, weight_decay=5e-4),
        )
    )
    finetune: TrainConfig = dataclasses.field(
        default_factory=lambda: TrainConfig(
            epochs=5, batch_size=64, learning_rate=0.02, schedule="constant", weight_decay=5e-4
        )
    )
    gradient_ascent: TrainConfig = dataclasses.field(
        default_factory=lambda: TrainConfig(
            epochs=2, batch_size=32, learning_rate=0.1, schedule="constant", momentum=0.0,
            weight_decay=0.0,
        )
    )


def run_quickstart(
    config: QuickstartConfig = QuickstartConfig(),
    out_dir: str = "quickstart_out",
    *,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> list[dict]:
    """Run the quickstart and write ``results.{md,csv,json}`` and ``results.png`` in ``out_dir``.

    Returns the table rows (one per model: original, retrain, finetune, gradient_ascent).
    """
    experiment = config.experiment
    setup = prepare(experiment)
    splits = setup.splits
    echo(
        f"digits: train {len(splits.train)} (forget {len(splits.forget_indices)}, retain "
        f"{len(splits.retain_indices)}), test {len(splits.test)}; model {experiment.model.name}"
    )
    os.makedirs(out_dir, exist_ok=True)
    splits.save(os.path.join(out_dir, "splits.json"))
    fns = setup.model_fns

    original, original_seconds = timed(
        lambda: train(
            fns.apply, init_variables(setup, experiment.train.seed), splits.train, experiment.train,
            progress=progress, description="original",
        )
    )
    runs = {"original": (original, original_seconds)}
    runs["retrain"] = timed(
        lambda: retrain(fns, splits, experiment.train, setup.sample_inputs, progress=progress,
                        description="retrain")
    )
    runs["finetune"] = timed(
        lambda: finetune(fns, original.variables, splits, config.finetune, progress=progress,
                         description="finetune")
    )
    runs["gradient_ascent"] = timed(
        lambda: gradient_ascent(fns, original.variables, splits, config.gradient_ascent,
                                progress=progress, description="gradient_ascent")
    )

    metrics = {name: evaluate_splits(fns.apply, result.variables, splits)
               for name, (result, _) in runs.items()}
    rows = []
    for name, (_, seconds) in runs.items():
        row = {"method": name, **metrics[name], "seconds": seconds}
        row["gap"] = gap_to_reference(metrics[name], metrics["retrain"])
        rows.append(row)

    metadata = {
        "experiment": "quickstart",
        "config": config_record(config),
        "splits": splits.summary(),
        "environment": environment_info(),
        "metric_definitions": {
            "UA": "100 * (1 - accuracy on the forget set)",
            "RA": "100 * accuracy on the retain set",
            "TA": "100 * accuracy on the test set",
            "forget_loss": "mean cross-entropy on the forget set (memorisation shows as a low value)",
            "test_loss": "mean cross-entropy on the test set",
            "gap": "mean |metric - retrain| over UA, RA, TA",
            "seconds": "wall-clock time of the run, compilation included",
        },
    }
    paths = write_table(rows, COLUMNS, out_dir, "results", metadata=metadata, digits=3)
    chart = bar_chart(rows, ["UA", "RA", "TA", "forget_loss"], os.path.join(out_dir, "results.png"),
                      title="Unlearning 10% of digits (MLP)")
    with open(paths["md"]) as handle:
        echo(handle.read().rstrip())
    echo(f"wrote {paths['md']}, {paths['csv']}, {paths['json']}, {chart}")
    return rows
