"""One process of a multi-process run, or the single-process reference (run as a script).

    python distributed_script.py --out DIR [--workdir DIR] [--stop-after STEP] [--tasks ...]

With ``JAXUNLEARN_NUM_PROCESSES`` (and the coordinator address and process id) in the
environment, the process joins the others through :func:`jaxunlearn.distributed.initialize`;
without, it runs alone on however many host devices ``XLA_FLAGS`` gives it. Every process writes
what it computed (gathered to full values) to ``DIR/process<i>.npz`` and prints one
``RESULT {...}`` line, so the test can compare the processes with each other and with the
reference.

Tasks: ``train`` (the loop with Orbax checkpoints in ``--workdir``), ``unlearn`` (NegGrad+ from
the trained model, checkpointed too), ``many`` (``train_many`` of 8 models sharded on the model
axis, and their ``model_outputs``), ``variables`` (``save_variables``/``load_variables``).
"""

import argparse
import json
import os
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn import distributed
from jaxunlearn.config import TrainConfig
from jaxunlearn.data import from_arrays, make_splits
from jaxunlearn.models import from_linen
from jaxunlearn.train.sharding import to_host


class TinyNet(nn.Module):
    """Dense + batch norm + dense: batch statistics cross devices and processes."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.Dense(16)(x.reshape((x.shape[0], -1)))
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
        return nn.Dense(4)(nn.relu(x))


def _data(count: int, seed: int):
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((count, 8, 8, 1)).astype(np.float32)
    labels = (inputs[:, :4].mean(axis=(1, 2, 3)) > 0).astype(np.int32) * 2 + (
        inputs[:, :, :4].mean(axis=(1, 2, 3)) > 0
    ).astype(np.int32)
    return from_arrays(inputs, labels, num_classes=4, augmentation="crop_flip")


def _flat(prefix: str, tree) -> dict:
    """Full values of every leaf (gathered from all processes), keyed by their path."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(to_host(tree))
    return {f"{prefix}{jax.tree_util.keystr(path)}": np.asarray(leaf) for path, leaf in leaves}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--stop-after", type=int, default=0,
                        help="stop after this training step and wait to be killed")
    parser.add_argument("--tasks", default="train,unlearn,many,variables")
    args = parser.parse_args()
    tasks = set(args.tasks.split(","))

    info = distributed.initialize() if os.environ.get(distributed.NUM_PROCESSES_ENV) else None
    index = jax.process_index()
    arrays, result = {}, {"process": index, "processes": jax.process_count(),
                          "devices": jax.device_count(),
                          "local_devices": jax.local_device_count(),
                          "initialized": info is not None}

    from jaxunlearn.train import load_variables, save_variables, train

    train_set, test_set = _data(96, 0), _data(32, 1)
    fns = from_linen(TinyNet())
    variables = fns.init(jax.random.key(0), jnp.asarray(train_set.inputs[:2]))
    config = TrainConfig(epochs=args.epochs, batch_size=16, learning_rate=0.05, weight_decay=1e-4,
                         checkpoint_every_steps=5)

    def stop(step, metrics):
        if step == args.stop_after:  # wait here to be killed (SIGKILL: no cleanup at all)
            jax.block_until_ready(metrics)
            print(f"STOPPED at step {step}", flush=True)
            time.sleep(300)
            os._exit(3)

    seconds, started = {}, time.perf_counter()

    def lap(name):
        nonlocal started
        seconds[name] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()

    lap("setup")
    trained = variables
    if "train" in tasks:
        workdir = os.path.join(args.workdir, "train") if args.workdir else None
        run = train(fns.apply, variables, train_set, config, workdir=workdir, progress=False,
                    callbacks=[stop])
        trained = run.variables
        arrays.update(_flat("train", run.variables))
        result["resumed_from"] = run.resumed_from
        result["history"] = run.history
        result["params_sharding"] = str(jax.tree_util.tree_leaves(run.variables)[0].sharding)
        lap("train")

    if "unlearn" in tasks:
        from jaxunlearn.methods import unlearn

        splits = make_splits(train_set, test_set, forget_fraction=0.25, seed=0)
        workdir = os.path.join(args.workdir, "unlearn") if args.workdir else None
        done = unlearn(fns, trained, splits, "neggrad_plus", steps=8, key=1, progress=False,
                       hyperparams={"batch_size": 16, "forget_batch_size": 8},
                       workdir=workdir)
        arrays.update(_flat("unlearn", done.variables))
        result["unlearn_history"] = done.log["history"]
        lap("unlearn")

    if "many" in tasks:
        from jaxunlearn.evaluate import membership_masks, model_outputs
        from jaxunlearn.train import train_many

        mask = membership_masks(8, len(train_set), 0)
        many_config = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05)
        stacked, history = train_many(fns, train_set, mask, many_config, return_history=True)
        leaf = jax.tree_util.tree_leaves(stacked)[0]
        result["many_sharding"] = str(leaf.sharding)
        result["many_local_models"] = sum(shard.data.shape[0] for shard in leaf.addressable_shards)
        arrays.update(_flat("many", stacked))
        arrays["many_history"] = history
        arrays["many_outputs"] = model_outputs(fns.apply, stacked, test_set.inputs, batch_size=16)
        lap("many")

    if "variables" in tasks and args.workdir:
        path = os.path.join(args.workdir, "variables")
        save_variables(path, trained)
        save_variables(path, trained)  # the same variables again: accepted by every process
        loaded = load_variables(path, variables)
        arrays.update(_flat("loaded", loaded))
        lap("variables")

    os.makedirs(args.out, exist_ok=True)
    np.savez(os.path.join(args.out, f"process{index}.npz"), **arrays)
    result["seconds"] = seconds
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
