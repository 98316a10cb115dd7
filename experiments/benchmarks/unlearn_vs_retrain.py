"""Unlearning time vs retraining time at equal gap to the retrained model.

Trains the original model on digits (or Fashion-MNIST), retrains on the retain set as the
reference, then runs each method for a growing number of epochs and records the average gap to
the retrained model (mean |metric − retrain| over UA, RA, TA and MIA-efficacy, SalUn's "Avg. Gap")
and the wall-clock seconds of each run. A method's cost at a target gap is the time of its
cheapest run whose gap is within the target; the table reports it as a fraction of the retraining
time (below 1: cheaper than retraining). Seconds include compilation for every run alike; each
run is repeated ``--repeats`` times and the median is reported.

    python experiments/benchmarks/unlearn_vs_retrain.py
    python experiments/benchmarks/unlearn_vs_retrain.py --methods finetune --epochs 1,2 --repeats 1
"""

from __future__ import annotations

import argparse
import statistics

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from jaxunlearn.evaluate import evaluate_models
from jaxunlearn.methods import unlearn
from jaxunlearn.pipeline import init_variables, prepare, timed
from jaxunlearn.quickstart import DIGITS_HYPERPARAMS
from jaxunlearn.report import report_benchmark
from jaxunlearn.train import train


def _median_seconds(run, repeats):
    results = [timed(run) for _ in range(repeats)]
    return results[-1][0], statistics.median(seconds for _, seconds in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="digits", choices=("digits", "fashion_mnist"))
    parser.add_argument("--methods", default="finetune,neggrad_plus,random_label,salun,amun")
    parser.add_argument("--epochs", default="1,2,3,5", help="epochs tried per method")
    parser.add_argument("--train-epochs", type=int, default=30)
    parser.add_argument("--target-gap", type=float, default=1.0,
                        help="gap (points) a run must reach to count")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="results/benchmarks/unlearn_vs_retrain.json")
    args = parser.parse_args()
    methods = [name for name in args.methods.split(",") if name]
    epoch_grid = sorted({int(value) for value in args.epochs.split(",") if value})
    if not methods or not epoch_grid or min(epoch_grid) < 1:
        parser.error("--methods and --epochs need at least one entry; epochs must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    train_config = TrainConfig(epochs=args.train_epochs, batch_size=64, learning_rate=0.05,
                               weight_decay=5e-4)
    experiment = ExperimentConfig(
        data=DataConfig(name=args.data, forget_fraction=0.1, seed=0),
        model=ModelConfig(name="mlp", options={"hidden_sizes": [256, 256]}),
        train=train_config)
    setup = prepare(experiment)
    fns, splits = setup.model_fns, setup.splits
    original = train(fns.apply, init_variables(setup, 0), splits.train, train_config,
                     progress=False).variables
    reference = {"epochs": train_config.epochs, "learning_rate": train_config.learning_rate,
                 "batch_size": train_config.batch_size, "weight_decay": train_config.weight_decay}
    retrained, retrain_seconds = _median_seconds(
        lambda: unlearn(fns, original, splits, "retrain", hyperparams=reference, progress=False),
        args.repeats)
    models = {"retrain": retrained.variables}
    seconds = {}
    for method in methods:
        for epochs in epoch_grid:
            hyper = dict(DIGITS_HYPERPARAMS.get(method, {}), epochs=epochs)
            result, median = _median_seconds(
                lambda: unlearn(fns, original, splits, method, hyperparams=hyper, progress=False),
                args.repeats)
            models[f"{method}@{epochs}"], seconds[f"{method}@{epochs}"] = result.variables, median
    gaps = {row["method"]: row["gap"]
            for row in evaluate_models(fns.apply, models, splits, reference="retrain")}

    rows = [{"method": "retrain", "epochs": train_config.epochs, "gap": 0.0,
             "seconds": retrain_seconds, "fraction_of_retrain": 1.0,
             "reaches_target": True}]
    for method in methods:
        reached = [f"{method}@{e}" for e in epoch_grid if gaps[f"{method}@{e}"] <= args.target_gap]
        best = min(reached, key=seconds.get) if reached else f"{method}@{epoch_grid[-1]}"
        rows.append({"method": method, "epochs": int(best.split("@")[1]), "gap": gaps[best],
                     "seconds": seconds[best], "fraction_of_retrain": seconds[best] / retrain_seconds,
                     "reaches_target": bool(reached)})
    report_benchmark(
        rows, ("method", "epochs", "gap", "seconds", "fraction_of_retrain", "reaches_target"),
        args.out, digits=3, arguments=vars(args),
        title=(f"Unlearning vs retraining on {args.data} (MLP, 10% forgotten): the cheapest run "
               f"within gap {args.target_gap}, median of {args.repeats}"))


if __name__ == "__main__":
    main()
