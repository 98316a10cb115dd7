"""The feasible-update masks grid (Dine, Furon, Faure 2025): every base method with both an
unlearning and a retain term, × {no mask, SalUn mask, AND, PROB, focus}, as one loop over the
method and add-on registries.

    python experiments/masks/grid.py                          # digits, 10% random forgetting
    python experiments/masks/grid.py --methods random_label,srl --masks none,prob_mask

Writes ``results/masks_grid/grid.{md,csv,json}`` (UA/RA/TA, forget loss, gap to retrain, seconds).
"""

from __future__ import annotations

import argparse
import time

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from jaxunlearn.evaluate import evaluate_splits, gap_to_reference
from jaxunlearn.methods import METHODS, unlearn
from jaxunlearn.pipeline import init_variables, prepare
from jaxunlearn.quickstart import DIGITS_HYPERPARAMS
from jaxunlearn.report import environment_info, write_table
from jaxunlearn.train import train

MASKS = ("none", "salun_mask", "and_mask", "prob_mask", "focus_mask")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    two_term = sorted(name for name, method in METHODS.items()
                      if method.forget_term is not None and method.retain_term is not None
                      and not method.class_unlearning)
    parser.add_argument("--methods", default=",".join(two_term))
    parser.add_argument("--masks", default=",".join(MASKS))
    parser.add_argument("--forget-fraction", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=None, help="override every method's epochs")
    parser.add_argument("--out", default="results/masks_grid")
    args = parser.parse_args()

    experiment = ExperimentConfig(
        data=DataConfig(name="digits", forget_fraction=args.forget_fraction),
        model=ModelConfig(name="mlp", options={"hidden_sizes": [256, 256]}),
        train=TrainConfig(epochs=30, batch_size=64, learning_rate=0.05),
    )
    setup = prepare(experiment)
    splits, fns = setup.splits, setup.model_fns
    original = train(fns.apply, init_variables(setup, 0), splits.train, experiment.train,
                     progress=False)
    retrained = unlearn(fns, original.variables, splits, "retrain", progress=False,
                        hyperparams={"epochs": 30, "learning_rate": 0.05})
    reference = evaluate_splits(fns.apply, retrained.variables, splits)
    rows = [{"method": "retrain", "mask": "", **reference, "gap": 0.0}]
    for name in args.methods.split(","):
        for mask in args.masks.split(","):
            addons = () if mask == "none" else (mask,)
            started = time.perf_counter()
            result = unlearn(fns, original.variables, splits, name, addons=addons,
                             epochs=args.epochs, hyperparams=DIGITS_HYPERPARAMS.get(name),
                             progress=False)
            metrics = evaluate_splits(fns.apply, result.variables, splits)
            rows.append({"method": name, "mask": mask, **metrics,
                         "gap": gap_to_reference(metrics, reference),
                         "seconds": time.perf_counter() - started})
            print(f"  {name:>14} + {mask:<10} gap {rows[-1]['gap']:.3f}", flush=True)
    paths = write_table(rows, ["method", "mask", "UA", "RA", "TA", "forget_loss", "gap", "seconds"],
                        args.out, "grid", digits=3,
                        metadata={"experiment": "masks_grid", "arguments": vars(args),
                                  "environment": environment_info()})
    print(open(paths["md"]).read())


if __name__ == "__main__":
    main()
