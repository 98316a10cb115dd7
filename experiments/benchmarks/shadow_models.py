"""Shadow-model pool training: M models vmapped in one compiled program vs M sequential runs.

Both paths run the same recipe (`jaxunlearn.evaluate.shadows`): model m trains on its LiRA
half of the pool (balanced `membership_masks`), with its own initialisation, data order and
augmentation keys. `train_many` vmaps the whole training (a scan over epochs of a scan over steps)
over the model axis; `train_sequential` runs the single-model program once per model. Reports
wall-clock seconds of each path with compilation excluded (a warm-up call compiles) and with it
included (the first call), their ratio, and the largest parameter difference between the two
pools, as a table and as JSON.

    python experiments/benchmarks/shadow_models.py                            # 64 models
    python experiments/benchmarks/shadow_models.py --models 4 --epochs 1      # smoke (CPU)
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import Dataset, load_digits
from jaxunlearn.evaluate.shadows import membership_masks
from jaxunlearn.train.pools import train_many, train_sequential
from jaxunlearn.models import create_model_fns
from jaxunlearn.report import report_benchmark


def make_pool(data: str, pool_size: int, seed: int) -> Dataset:
    """The shadow pool: scikit-learn digits, or random CIFAR-shaped (32, 32, 3) images."""
    if data == "digits":
        train, _ = load_digits(seed=seed)
        size = min(pool_size, len(train))
        return Dataset(train.inputs[:size], train.labels[:size], train.num_classes, name="digits")
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((pool_size, 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, pool_size).astype(np.int32)
    return Dataset(inputs, labels, 10, name="cifar_shaped_random", augmentation="crop_flip")


def timed(function):
    started = time.perf_counter()
    result = jax.block_until_ready(function())
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--model", default="mlp", help="a registry name, e.g. mlp, small_cnn")
    parser.add_argument("--data", default="digits", choices=("cifar_shaped", "digits"))
    parser.add_argument("--pool-size", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/benchmarks/shadow_models.json")
    args = parser.parse_args()

    pool = make_pool(args.data, args.pool_size, args.seed)
    fns = create_model_fns(args.model, pool.num_classes)
    in_mask = membership_masks(args.models, len(pool), args.seed)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, seed=args.seed)
    arguments = dict(model_fns=fns, dataset=pool, in_mask=in_mask, config=config)

    # First calls compile (the sequential warm-up trains model 0 only); later calls reuse the
    # cached programs.
    _, vmapped_first = timed(lambda: train_many(**arguments))
    vmapped, vmapped_seconds = timed(lambda: train_many(**arguments))
    _, sequential_first = timed(lambda: train_sequential(**arguments, model_indices=[0]))
    sequential, sequential_seconds = timed(lambda: train_sequential(**arguments))
    difference = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                     for a, b in zip(jax.tree.leaves(vmapped), jax.tree.leaves(sequential)))

    members = in_mask.sum(axis=1)
    common = {"model": args.model, "data": pool.name, "models": args.models,
              "epochs": args.epochs, "pool": len(pool), "mean_members": float(members.mean())}
    rows = [
        {**common, "path": "vmapped (one program)", "seconds": vmapped_seconds,
         "seconds_with_compile": vmapped_first,
         "models_per_minute": 60 * args.models / vmapped_seconds},
        {**common, "path": "sequential", "seconds": sequential_seconds,
         "seconds_with_compile": sequential_seconds - sequential_seconds / args.models
         + sequential_first,
         "models_per_minute": 60 * args.models / sequential_seconds},
    ]
    for row in rows:
        row["speedup_vs_sequential"] = sequential_seconds / row["seconds"]
        row["speedup_with_compile"] = rows[1]["seconds_with_compile"] / row["seconds_with_compile"]
        row["max_param_difference"] = difference
    report_benchmark(
        rows, ["path", "model", "models", "epochs", "pool", "seconds", "seconds_with_compile",
               "models_per_minute", "speedup_vs_sequential", "speedup_with_compile"],
        args.out, arguments=vars(args), digits=2,
        title=f"{args.models} shadow {args.model} models, {args.epochs} epochs on {pool.name}")
    print(f"vmapped vs sequential: {rows[0]['speedup_vs_sequential']:.2f}x "
          f"(max parameter difference {difference:.2e})")


if __name__ == "__main__":
    main()
