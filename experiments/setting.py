"""What there is to unlearn: the accuracy and membership leakage of an experiment recipe's
originals (``jaxunlearn.compare.standard_experiment``), e.g. the memorising Fashion-MNIST setting.

    python experiments/setting.py --data fashion_mnist_mem          # 3 seeds
    python experiments/setting.py --data digits --seeds 0

Per seed: train and test accuracy of the original and of the model retrained without a random
10 %, and two membership signals of the original on its training images against test images
(as many of each): the AUC of a loss-threshold attack (Yeom et al., CSF 2018; 50 % = no leakage)
and its advantage TPR − FPR at the best threshold. Writes ``<out>/setting.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from jaxunlearn.compare import DATASETS, standard_experiment, trained_pairs
from jaxunlearn.evaluate.roc import auc, roc_curve
from jaxunlearn.evaluate.signals import cross_entropy_loss
from jaxunlearn.report import environment_info, format_markdown_table
from jaxunlearn.train import predict_logits


def _losses(apply_fn, variables, dataset) -> np.ndarray:
    logits = np.asarray(predict_logits(apply_fn, variables, dataset.inputs), np.float64)
    return cross_entropy_loss(logits, dataset.labels)  # float64: memorised losses are tiny


def _accuracy(apply_fn, variables, dataset) -> float:
    logits = predict_logits(apply_fn, variables, dataset.inputs)
    return 100.0 * float(np.mean(np.argmax(logits, -1) == np.asarray(dataset.labels)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion_mnist_mem", choices=DATASETS)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=None, help="original training epochs")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default="results/setting")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    experiment = standard_experiment(args.data, "random10", epochs=args.epochs)
    setup, pairs = trained_pairs(experiment, seeds, cache_dir=args.cache_dir)
    apply_fn, splits = setup.model_fns.apply, setup.splits
    count = min(len(splits.train), len(splits.test))
    members = splits.train.subset(np.arange(count))
    nonmembers = splits.test.subset(np.arange(count))
    rows = []
    for seed, (original, retrained) in zip(seeds, pairs):
        losses = np.concatenate([_losses(apply_fn, original, members),
                                 _losses(apply_fn, original, nonmembers)])
        is_member = np.concatenate([np.ones(count, bool), np.zeros(count, bool)])
        fpr, tpr, _ = roc_curve(-losses, is_member)
        rows.append({
            "seed": seed,
            "train_accuracy": _accuracy(apply_fn, original, splits.train),
            "test_accuracy": _accuracy(apply_fn, original, splits.test),
            "retrain_forget_accuracy": _accuracy(apply_fn, retrained, splits.forget_set),
            "retrain_test_accuracy": _accuracy(apply_fn, retrained, splits.test),
            "loss_attack_auc": 100.0 * auc(-losses, is_member),
            "loss_attack_advantage": 100.0 * float(np.max(tpr - fpr)),
        })
    columns = list(rows[0])
    summary = {"seed": "mean", **{k: float(np.mean([r[k] for r in rows])) for k in columns[1:]}}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "setting.json"), "w") as handle:
        json.dump({"rows": rows, "mean": summary, "train_size": len(splits.train),
                   "test_size": len(splits.test), "experiment": repr(experiment),
                   "metadata": {"arguments": vars(args), "environment": environment_info()}},
                  handle, indent=1)
    table = format_markdown_table(
        [{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()}
         for row in [*rows, summary]], columns)
    text = (f"# The originals of {args.data}: {len(splits.train)} training / "
            f"{len(splits.test)} test images\n\n{table}\n\n"
            "retrain_*: the model retrained without a random 10 % (its forget accuracy is what "
            "unlearning should reach). loss_attack_*: members = training images, non-members = "
            "test images, equally many.\n")
    with open(os.path.join(args.out, "setting.md"), "w") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
