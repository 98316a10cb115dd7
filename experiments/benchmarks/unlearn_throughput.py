"""Unlearning throughput: images/s of each method's step on CIFAR-shaped data (ResNet-18).

Runs every registered method (``trw`` on a class forget set, the others on a random 10% one)
through the real ``jaxunlearn.methods.unlearn`` loop on synthetic 32x32x3 data, and times each
step from a callback that waits for the step's result. Images per step are the examples the step
reads: the retain batch, plus the forget batch for methods with an unlearning term. Reports the
median after warm-up (the first step includes compilation), as a table and JSON.

    python experiments/benchmarks/unlearn_throughput.py                       # ResNet-18, bf16
    python experiments/benchmarks/unlearn_throughput.py --model small_cnn --batch-size 32 --steps 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import numpy as np

from jaxunlearn.data import from_arrays, make_splits
from jaxunlearn.methods import METHODS, unlearn
from jaxunlearn.models import from_linen, get_model
from jaxunlearn.report import report_benchmark


def _splits(size: int, classes_forget: bool):
    rng = np.random.default_rng(0)
    def dataset(n):
        return from_arrays(rng.standard_normal((n, 32, 32, 3)).astype(np.float32),
                           rng.integers(0, 10, n).astype(np.int32), num_classes=10,
                           augmentation="crop_flip")
    train, test = dataset(size), dataset(max(size // 5, 64))
    if classes_forget:
        return make_splits(train, test, forget_classes=[3])
    return make_splits(train, test, forget_fraction=0.1)


def measure(name, module, splits, batch_size, steps, warmup):
    fns = from_linen(module)
    variables = fns.init(jax.random.key(0), splits.train.inputs[:1])
    times: list[float] = []
    last = [time.perf_counter()]

    def on_step(step, metrics):
        jax.block_until_ready(metrics)
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    hyper = {"batch_size": batch_size}
    if name == "amun":
        hyper.update(pgd_steps=5, max_rounds=4, initial_epsilon=0.5)
    if METHODS[name].primary == "forget":
        hyper["forget_batch_size"] = batch_size
    result = unlearn(fns, variables, splits, name, steps=warmup + steps, hyperparams=hyper,
                     progress=False, callbacks=[on_step])
    median = statistics.median(times[warmup:])
    hyper_used = result.log["hyperparams"]
    images = 0
    if METHODS[name].retain_term is not None:
        images += hyper_used["batch_size"]
    if METHODS[name].forget_term is not None:
        images += hyper_used["forget_batch_size"]
    return {"method": name, "images_per_step": images, "median_step_ms": 1000 * median,
            "images_per_second": images / median, "first_step_s": times[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dataset-size", type=int, default=5120)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--methods", default=",".join(sorted(METHODS)))
    parser.add_argument("--out", default="results/benchmarks/unlearn_throughput.json")
    args = parser.parse_args()
    module = get_model(args.model, 10, dtype=args.dtype)
    random_splits = _splits(args.dataset_size, classes_forget=False)
    class_splits = _splits(args.dataset_size, classes_forget=True)
    rows = []
    for name in args.methods.split(","):
        splits = class_splits if METHODS[name].class_unlearning else random_splits
        rows.append(measure(name, module, splits, args.batch_size, args.steps, args.warmup))
        print(f"  {name}: {rows[-1]['images_per_second']:.0f} img/s", flush=True)
    report_benchmark(
        rows, ["method", "images_per_step", "median_step_ms", "images_per_second",
               "first_step_s"], args.out, arguments=vars(args),
        title=f"{args.model}, {args.dtype}, batch {args.batch_size}")

if __name__ == "__main__":
    main()
