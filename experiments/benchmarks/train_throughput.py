"""Training throughput: images/s of one full ResNet-18 step on CIFAR-shaped data.

One step = device-side gather + crop/flip augmentation + forward + backward + SGD (momentum,
weight decay) update + batch-norm update, exactly the step `jaxunlearn train` runs. Reports the
median over timed steps after warm-up, for float32 and bfloat16 compute, on one device and, where
there are more, on all of them, as a table and as JSON. Data parallelism keeps `--batch-size`
images per device (weak scaling), so the scaling efficiency of `n` devices is their images/s over
`n` times the images/s of one device (1.0 is perfect).

    python experiments/benchmarks/train_throughput.py                 # the full benchmark
    python experiments/benchmarks/train_throughput.py --steps 3 --warmup 1 --batch-size 32   # smoke
    python experiments/benchmarks/train_throughput.py --distributed   # one process per host
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn import distributed
from jaxunlearn.config import TrainConfig
from jaxunlearn.models import create_model_fns
from jaxunlearn.report import report_benchmark
from jaxunlearn.train import (
    create_train_state,
    epoch_order,
    make_mesh,
    make_optimizer,
    make_train_step,
    replicate,
)


def measure(model: str, dtype: str, batch_size: int, steps: int, warmup: int, dataset_size: int,
            devices=None):
    mesh = make_mesh(devices)
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((dataset_size, 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, dataset_size).astype(np.int32)
    fns = create_model_fns(model, 10, dtype=dtype)
    variables = fns.init(jax.random.key(0), inputs[:1])
    config = TrainConfig(batch_size=batch_size, learning_rate=0.1, schedule="constant")
    per_epoch = -(-dataset_size // batch_size)
    tx = make_optimizer(config, per_epoch, per_epoch)
    state = replicate(create_train_state(variables, tx, seed=0), mesh)
    device_inputs = replicate(jnp.asarray(inputs), mesh)
    device_labels = replicate(jnp.asarray(labels), mesh)
    step = make_train_step(
        fns.apply, tx, num_examples=dataset_size, batch_size=batch_size, mesh=mesh,
        augmentation="crop_flip",
    )
    order = epoch_order(state.key, 0, dataset_size, batch_size)
    compile_started = time.perf_counter()
    state, metrics = step(state, order, device_inputs, device_labels)
    jax.block_until_ready(metrics)
    compile_seconds = time.perf_counter() - compile_started
    for _ in range(warmup):
        state, metrics = step(state, order, device_inputs, device_labels)
    jax.block_until_ready(metrics)
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        state, metrics = step(state, order, device_inputs, device_labels)
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    return {
        "model": model, "dtype": dtype, "batch_size": batch_size, "devices": mesh.size,
        "median_step_ms": 1000 * median, "images_per_second": batch_size / median,
        "timed_steps": steps, "warmup_steps": warmup, "compile_seconds": compile_seconds,
        "final_loss": float(metrics["loss"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=30, help="timed steps (median reported)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--dataset-size", type=int, default=4096)
    parser.add_argument("--out", default="results/benchmarks/train_throughput.json")
    parser.add_argument("--devices", default="1,all",
                        help="device counts to measure ('all' = every device), --batch-size "
                             "images per device")
    parser.add_argument("--distributed", action="store_true",
                        help="join a multi-process run first (docs/distributed.md); 'all' then "
                             "spans every host, smaller counts are this host's devices")
    args = parser.parse_args()
    if args.distributed:
        distributed.initialize()
    counts = sorted({jax.device_count() if text == "all" else int(text)
                     for text in args.devices.split(",")})
    rows = []
    for count in counts:
        # Counts up to this host's devices run locally; 'all' runs on every process's devices.
        devices = jax.devices() if count == jax.device_count() else jax.local_devices()[:count]
        if len(devices) != count:
            raise SystemExit(f"--devices: cannot measure {count} devices (this host has "
                             f"{jax.local_device_count()}, all hosts {jax.device_count()})")
        group = [measure(args.model, dtype, args.batch_size * count, args.steps, args.warmup,
                         args.dataset_size, devices) for dtype in args.dtypes.split(",")]
        for row in group:
            row["speedup_vs_first"] = row["images_per_second"] / group[0]["images_per_second"]
            single = row if count == 1 else next(
                (r for r in rows if r["devices"] == 1 and r["dtype"] == row["dtype"]), None)
            row["scaling_efficiency"] = (row["images_per_second"]
                                         / (count * single["images_per_second"]) if single else None)
        rows.extend(group)
    if distributed.is_main_process():
        report_benchmark(
            rows, ["model", "dtype", "batch_size", "devices", "median_step_ms", "images_per_second",
                   "speedup_vs_first", "scaling_efficiency", "compile_seconds"], args.out,
            arguments=vars(args), title=f"{args.model} train step")

if __name__ == "__main__":
    main()
