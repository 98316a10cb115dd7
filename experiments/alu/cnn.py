"""Experiment f: ALU on a small CNN (digits, 10 classes) — empirical only, no certificate claimed.

The Langevin certificates need a strongly convex, smooth loss; for a CNN the dynamics are the same
but nothing is certified (a non-convex certificate needs a bounded domain and the convergent
privacy analysis of Chien & Li 2024, alu.md §3). Protocol, noisy SGD with per-example clipping
and one fixed permutation per run (the update of the registered ``alu`` method): learn T epochs
on D_priv ∪ D_pub from a Flax initialisation; forget 10 % of the private set by K more epochs on
D′_priv ∪ D_pub (same permutation); retrain T epochs on D′_priv ∪ D_pub from a fresh
initialisation. The symmetric baseline is the same without public rows. Public data: half of the
held-out digits (the other half stays the test set). Forgotten rows are removed by giving them
weight 0 (a batch holding one averages over its other rows), so every phase of a setting runs the
same compiled program, in chunks of ``CHUNK`` epochs.

    python experiments/alu/cnn.py [--small] [--out results/alu]

Writes ``cnn.{md,csv,json}`` and ``cnn.png``.
"""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.alu import (  # noqa: E402
    LangevinDynamics, alu_data, chain_permutation, delete_private, pnsgd_run,
)
from jaxunlearn.data import load_digits, make_splits  # noqa: E402
from jaxunlearn.evaluate import evaluate_splits, prediction_agreement  # noqa: E402
from jaxunlearn.losses import cross_entropy  # noqa: E402
from jaxunlearn.models import create_model_fns  # noqa: E402
from jaxunlearn.train.steps import predict_logits  # noqa: E402

HYPER = {"learning_rate": 0.2, "sigma": 0.003, "weight_decay": 1e-3, "clip_norm": 1.0,
         "regularizer": "inside", "batch_size": 128}
CHUNK = 2


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    train, test = load_digits(test_fraction=0.5, seed=args.seed)
    splits = make_splits(train, test, forget_fraction=0.1, public_fraction=0.5, seed=args.seed)
    fns = create_model_fns("small_cnn", 10, channels=(8, 16), dense_size=32)
    sample = np.asarray(train.inputs[:1])
    init = jax.jit(lambda key: fns.init(key, sample)["params"])  # one compilation for all inits
    chunks, unlearn_chunks = (3, (1,)) if args.small else (20, (1, 2, 4))

    def loss_fn(params, x, y):
        logits, _ = fns.apply({"params": params}, x[None], False)
        return cross_entropy(logits, y[None], jnp.ones((1,), jnp.float32))

    dynamics = LangevinDynamics(loss_fn, step_size=HYPER["learning_rate"], sigma=HYPER["sigma"],
                                clip_norm=HYPER["clip_norm"],
                                regularization=HYPER["weight_decay"],
                                regularizer=HYPER["regularizer"])

    def run(params, data, count, seed, permutation):
        for chunk in range(count):  # one compiled program of CHUNK epochs, a fresh key per chunk
            params = pnsgd_run(dynamics, params, data, CHUNK, permutation, HYPER["batch_size"],
                               key=jax.random.fold_in(jax.random.key(seed), chunk)).params
        return params

    rows, series = [], {}
    for label, public in (("symmetric (no public)", False), ("ALU (public)", True)):
        data = (alu_data(train.inputs, train.labels, splits.public.inputs, splits.public.labels)
                if public else alu_data(train.inputs, train.labels))
        updated = delete_private(data, splits.forget_indices, adjacency="remove")
        order = chain_permutation(args.seed, len(data))
        learned = run(init(jax.random.key(args.seed)), data, chunks,
                      args.seed + 1, order)
        retrained = run(init(jax.random.key(args.seed + 2)), updated,
                        chunks, args.seed + 3, chain_permutation(args.seed + 3, len(data)))
        models = {"learned": (learned, 0), "retrained": (retrained, chunks * CHUNK)}
        unlearned = learned
        for done in range(1, max(unlearn_chunks) + 1):
            unlearned = run(unlearned, updated, 1, args.seed + 100 + done, order)
            if done in unlearn_chunks:
                models[f"unlearned K={done * CHUNK}"] = (unlearned, done * CHUNK)
        reference = predict_logits(fns.apply, {"params": retrained}, splits.test.inputs)
        gaps = []
        for name, (params, cost) in models.items():
            metrics = evaluate_splits(fns.apply, {"params": params}, splits)
            logits = predict_logits(fns.apply, {"params": params}, splits.test.inputs)
            rows.append({"setting": label, "model": name, "epochs": cost, "UA": metrics["UA"],
                         "RA": metrics["RA"], "TA": metrics["TA"],
                         "forget_loss": metrics["forget_loss"],
                         "agreement_with_retrained": float(prediction_agreement(
                             np.asarray(logits), np.asarray(reference)))})
            if name.startswith("unlearned"):
                gaps.append(rows[-1]["agreement_with_retrained"])
            print(f"{label} {name}: UA {metrics['UA']:.1f} TA {metrics['TA']:.1f}", flush=True)
        series[label] = ([k * CHUNK for k in unlearn_chunks], gaps)
    columns = ["setting", "model", "epochs", "UA", "RA", "TA", "forget_loss",
               "agreement_with_retrained"]
    common.write(rows, columns, args.out, "cnn", common.metadata(
        args, hyper=HYPER, learn_epochs=chunks * CHUNK,
        unlearn_epochs=[k * CHUNK for k in unlearn_chunks], public=len(splits.public),
        forget=len(splits.forget_indices), test=len(splits.test), certified=False), digits=2)
    plot = common.line_plot(series, os.path.join(args.out, "cnn.png"),
                            xlabel="unlearning epochs K",
                            ylabel="test agreement with the retrained model",
                            title=f"digits SmallCNN, T={chunks * CHUNK} epochs, "
                                  f"σ={HYPER['sigma']} (empirical, no certificate)")
    print(f"wrote {args.out}/cnn.* and {plot} in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
