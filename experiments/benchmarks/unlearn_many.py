"""Unlearning M models: one vmapped program (`unlearn_many`) vs M sequential `unlearn` runs.

The originals are M digits MLPs trained in one program (`train_many`, seeds 0..M-1). Each method
unlearns a random 10% forget set from all of them, model m with key m, both ways:
`jaxunlearn.methods.unlearn` once per model, and `jaxunlearn.methods.unlearn_many` once for the
stack (the same per-model recipe, its step vmapped over the model axis). Both build and compile
their step on every call, so a run's wall time (`seconds_with_compile`) includes compilation and
the method's `prepare`. The steady-state time (`steady_seconds`) sums the steps after each run's
first (which compiles), timed from a callback that waits for the step's result, as
`unlearn_throughput.py` does. Reports medians over `--repeats`, the ratios sequential / vmapped
and the largest parameter difference between the two paths, as a table and as JSON.

    python experiments/benchmarks/unlearn_many.py                      # M = 4, 50 steps
    python experiments/benchmarks/unlearn_many.py --small              # under 2 minutes on CPU
    python experiments/benchmarks/unlearn_many.py --models 16 --methods finetune
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import numpy as np

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import load_digits, make_splits
from jaxunlearn.train import train_many, unstack_model
from jaxunlearn.methods import unlearn, unlearn_many
from jaxunlearn.models import create_model_fns
from jaxunlearn.report import report_benchmark


class StepClock:
    """A callback timing each step (it waits for the step's result): ``steady`` sums the steps
    after each run's first."""

    def __init__(self):
        self.steady, self.last = 0.0, None

    def start(self):
        self.last = time.perf_counter()

    def __call__(self, step, metrics):
        jax.block_until_ready(metrics)
        now = time.perf_counter()
        if step > 1:
            self.steady += now - self.last
        self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--methods", default="finetune,random_label")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", default="64,64", help="hidden sizes of the MLP")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--train-epochs", type=int, default=5)
    parser.add_argument("--small", action="store_true",
                        help="CPU smoke settings: 20 steps, 3 repeats, one hidden layer of 32")
    parser.add_argument("--out", default="results/benchmarks/unlearn_many.json")
    args = parser.parse_args()
    if args.small:
        args.steps, args.repeats, args.hidden, args.train_epochs = 20, 3, "32", 2

    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    fns = create_model_fns("mlp", 10, hidden_sizes=tuple(int(h) for h in args.hidden.split(",")))
    config = TrainConfig(epochs=args.train_epochs, batch_size=64, learning_rate=0.05)
    stacked = jax.block_until_ready(train_many(
        fns, train_set, np.ones((args.models, len(train_set)), bool), config,
        seeds=list(range(args.models))))
    keys = list(range(args.models))
    hyper = {"batch_size": args.batch_size}

    def sequential(method, clock):
        results = []
        for index, key in enumerate(keys):
            clock.start()
            results.append(unlearn(fns, unstack_model(stacked, index), splits, method, key=key,
                                   steps=args.steps, hyperparams=hyper, progress=False,
                                   callbacks=[clock]).variables)
        return results

    def vmapped(method, clock):
        clock.start()
        return unlearn_many(fns, stacked, splits, method, keys=keys, steps=args.steps,
                            hyperparams=hyper, progress=False, callbacks=[clock])

    rows = []
    for method in args.methods.split(","):
        seconds = {"sequential": ([], []), "vmapped": ([], [])}
        for _ in range(args.repeats):
            for path, run in (("sequential", sequential), ("vmapped", vmapped)):
                clock = StepClock()
                started = time.perf_counter()
                result = jax.block_until_ready(run(method, clock))
                seconds[path][0].append(time.perf_counter() - started)
                seconds[path][1].append(clock.steady)
                if path == "sequential":
                    reference = result
                else:
                    assert all(log["vmapped"] for log in result.logs)
                    difference = max(
                        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                        for index, variables in enumerate(reference)
                        for a, b in zip(jax.tree.leaves(variables),
                                        jax.tree.leaves(result[index].variables)))
        medians = {path: (statistics.median(total), statistics.median(steady))
                   for path, (total, steady) in seconds.items()}
        for path in ("sequential", "vmapped"):
            total, steady = medians[path]
            rows.append({
                "method": method, "path": path, "models": args.models, "steps": args.steps,
                "seconds_with_compile": total, "steady_seconds": steady,
                "speedup_with_compile": medians["sequential"][0] / total,
                "steady_speedup": medians["sequential"][1] / steady,
                "max_param_difference": difference,
            })
    report_benchmark(
        rows, ["method", "path", "models", "steps", "seconds_with_compile", "steady_seconds",
               "speedup_with_compile", "steady_speedup", "max_param_difference"],
        args.out, arguments=vars(args), digits=3,
        title=f"Unlearning {args.models} digits MLPs ({args.hidden}), {args.steps} steps: "
              f"sequential unlearn vs vmapped unlearn_many, median of {args.repeats}")
    for row in rows[1::2]:
        print(f"{row['method']}: vmapped vs sequential {row['speedup_with_compile']:.2f}x with "
              f"compilation, {row['steady_speedup']:.2f}x steady (max parameter difference "
              f"{row['max_param_difference']:.2e})")


if __name__ == "__main__":
    main()
