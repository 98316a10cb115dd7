"""The experiments' small CNN on CPU: our jitted training and unlearning steps against the same
network in PyTorch eager, in one process, as ratios of medians.

The network is :class:`jaxunlearn.models.small_cnn.SmallCNN` (conv3x3-32, ReLU, 2x2 max-pool,
conv3x3-64, ReLU, 2x2 max-pool, dense 128, ReLU, dense 10) on Fashion-MNIST-shaped batches
(28×28×1), SGD with momentum 0.9. Two steps are timed in each framework:

- **train**: one cross-entropy step on a batch;
- **unlearn**: NegGrad+'s step, the gradient of β·CE(retain batch) − (1 − β)·CE(forget batch),
  two forward/backward passes (what every two-stream method of ``jaxunlearn.methods`` does).

Our steps are timed twice: as the model is now (the 2x2 pool as the maximum of four strided
sub-grids, the 3x3 convolutions' kernel gradient as one matmul per tap,
:func:`jaxunlearn.models._layers.conv_general_dilated`, the convolutional stack run as two
independent half-batches that XLA:CPU executes at once) and as it was before issue 16 (Flax's
windowed ``nn.max_pool``, whose gradient is XLA's select-and-scatter, XLA's convolution
gradients, one branch). The rounds interleave the variants so that load on the machine hits them alike. PyTorch is an
optional, benchmark-only dependency (``pip install torch``); without it the script times ours
only.

    python experiments/benchmarks/cpu_vs_torch.py
    python experiments/benchmarks/cpu_vs_torch.py --batch-size 128 --steps 30 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.models import small_cnn
from jaxunlearn.models.small_cnn import SmallCNN
from jaxunlearn.report import report_benchmark


def _windowed_pool(images):
    window = tuple(2 if size >= 2 else 1 for size in images.shape[1:3])
    return nn.max_pool(images, window_shape=window, strides=window, padding="VALID")


def _jax_steps(batch_size: int, before: bool, seed: int = 0) -> dict[str, Callable]:
    """Jitted train and unlearn steps; ``before``: with the model's pooling and convolution as
    they were before issue 16 (Flax's windowed pool, XLA's convolution gradients)."""
    module = SmallCNN(num_classes=10)
    rng = np.random.default_rng(seed)
    batches = [(jnp.asarray(rng.random((batch_size, 28, 28, 1)), jnp.float32),
                jnp.asarray(rng.integers(0, 10, batch_size), jnp.int32)) for _ in range(2)]
    params = module.init(jax.random.key(seed), batches[0][0][:1])["params"]
    tx = optax.sgd(0.01, momentum=0.9)

    def loss(p, batch):
        logits = module.apply({"params": p}, batch[0], True)
        return optax.softmax_cross_entropy_with_integer_labels(logits, batch[1]).mean()

    def train(p, opt, forget, retain):
        del forget
        updates, opt = tx.update(jax.grad(loss)(p, retain), opt, p)
        return optax.apply_updates(p, updates), opt

    def unlearn(p, opt, forget, retain):
        grads = jax.grad(lambda q: 0.8 * loss(q, retain) - 0.2 * loss(q, forget))(p)
        updates, opt = tx.update(grads, opt, p)
        return optax.apply_updates(p, updates), opt

    steps = {}
    original = (small_cnn.max_pool_2x2, small_cnn.conv_general_dilated,
                small_cnn._HALVES_MIN_BATCH)
    try:
        if before:
            small_cnn.max_pool_2x2 = _windowed_pool
            small_cnn.conv_general_dilated = jax.lax.conv_general_dilated
            small_cnn._HALVES_MIN_BATCH = 2**62  # the whole batch in one branch
        for name, function in (("train", train), ("unlearn", unlearn)):
            step = jax.jit(function, donate_argnums=(0, 1))
            state = [jax.tree.map(jnp.copy, params), tx.init(params)]
            state = list(step(*state, *batches))  # traced (and compiled) now, with this pool
            jax.block_until_ready(state)

            def run(step=step, state=state):
                state[:] = step(*state, *batches)
                jax.block_until_ready(state[0])

            steps[name] = run
    finally:
        (small_cnn.max_pool_2x2, small_cnn.conv_general_dilated,
         small_cnn._HALVES_MIN_BATCH) = original
    return steps


def _torch_steps(batch_size: int, threads: int, seed: int = 0) -> dict[str, Callable] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    batches = [(torch.from_numpy(rng.random((batch_size, 1, 28, 28), dtype=np.float32)),
                torch.from_numpy(rng.integers(0, 10, batch_size))) for _ in range(2)]
    criterion = torch.nn.CrossEntropyLoss()

    def train():
        optimizer.zero_grad()
        criterion(model(batches[1][0]), batches[1][1]).backward()
        optimizer.step()

    def unlearn():
        optimizer.zero_grad()
        loss = (0.8 * criterion(model(batches[1][0]), batches[1][1])
                - 0.2 * criterion(model(batches[0][0]), batches[0][1]))
        loss.backward()
        optimizer.step()

    return {"train": train, "unlearn": unlearn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="timed rounds (medians)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    parser.add_argument("--out", default="results/benchmarks/cpu_vs_torch.json")
    args = parser.parse_args()

    variants = {"jax (now)": _jax_steps(args.batch_size, before=False),
                "jax (before issue 16)": _jax_steps(args.batch_size, before=True)}
    torch_steps = _torch_steps(args.batch_size, args.threads)
    if torch_steps is None:
        print("PyTorch is not installed (pip install torch): timing ours only")
    else:
        variants["pytorch eager"] = torch_steps
    times = {(variant, step): [] for variant in variants for step in ("train", "unlearn")}
    for round_index in range(args.warmup + args.steps):
        for (variant, step), samples in times.items():
            started = time.perf_counter()
            variants[variant][step]()
            if round_index >= args.warmup:
                samples.append(time.perf_counter() - started)
    medians = {key: statistics.median(samples) for key, samples in times.items()}
    rows = []
    for (variant, step), seconds in medians.items():
        row = {"step": step, "variant": variant, "median_ms": 1000 * seconds,
               "images_per_s": args.batch_size * (2 if step == "unlearn" else 1) / seconds,
               "ratio_to_ours": seconds / medians[("jax (now)", step)]}
        if "pytorch eager" in variants:
            row["speed_vs_pytorch"] = medians[("pytorch eager", step)] / seconds
        rows.append(row)
    columns = ["step", "variant", "median_ms", "images_per_s", "ratio_to_ours"]
    if "pytorch eager" in variants:
        columns.append("speed_vs_pytorch")
    report_benchmark(sorted(rows, key=lambda row: row["step"]), columns, args.out,
                     arguments=vars(args), digits=2,
                     title=f"small CNN, batch {args.batch_size}, 28×28×1, CPU "
                           f"({jax.devices()[0].device_kind})")


if __name__ == "__main__":
    main()
