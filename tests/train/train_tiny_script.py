"""A small training run used by the multi-device and kill-and-resume tests (run as a script).

    python train_tiny_script.py --out params.npz [--workdir DIR] [--sleep 0.02] [--print-steps]
"""

import argparse
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import from_arrays
from jaxunlearn.models import from_linen
from jaxunlearn.train import train


class TinyConvNet(nn.Module):
    """Conv + batch norm + dense: exercises cross-device batch statistics."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.Conv(8, (3, 3))(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
        x = nn.relu(x).mean(axis=(1, 2))
        return nn.Dense(4)(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--checkpoint-every", type=int, default=0)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--print-steps", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((200, 8, 8, 1)).astype(np.float32)
    labels = (inputs[:, :4].mean(axis=(1, 2, 3)) > 0).astype(np.int32) * 2 + (
        inputs[:, :, :4].mean(axis=(1, 2, 3)) > 0
    ).astype(np.int32)
    dataset = from_arrays(inputs, labels, num_classes=4, augmentation="crop_flip")
    fns = from_linen(TinyConvNet())
    variables = fns.init(jax.random.key(0), jnp.asarray(inputs[:2]))
    config = TrainConfig(
        epochs=args.epochs, batch_size=32, learning_rate=0.05, weight_decay=1e-4,
        checkpoint_every_steps=args.checkpoint_every,
    )

    def on_step(step, metrics):
        if args.print_steps:
            print(f"step {step}", flush=True)
        if args.sleep:
            time.sleep(args.sleep)

    result = train(fns.apply, variables, dataset, config, workdir=args.workdir, progress=False,
                   callbacks=[on_step])
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(result.variables)]
    np.savez(args.out, *leaves)
    print(f"devices {jax.device_count()} resumed_from {result.resumed_from}", flush=True)


if __name__ == "__main__":
    main()
