"""Step time of SGD with each jaxunlearn add-on, as a ratio to the same step without it.

ResNet-18 on CIFAR-shaped data (batch 256) by default. Every add-on is measured against the step
that computes the same extra gradients without the add-on, so the ratio is the cost of the
transform itself:

- ``add_langevin_noise``, ``project_l2_ball``, ``clip_spectral_norm``: against plain SGD;
  ``clip_spectral_norm`` with and without FastClip's tracking (one warm power iteration per
  layer at every step that does not clip, ``track_every_step=True``);
- ``and_mask``: against SGD on the sum of the forget and retain gradients;
- the gradient statistics the PROB and focus masks need, against that same two-gradient step:
  K micro-batch gradients of each stream one after another beside the batch gradients (the
  step before issue 18), and computed together with the batch gradient as their mean (now);
- ``prob_mask``: against SGD on the same vmapped statistics;
- ``tilted_aggregate``: against SGD on the mean of the same per-example gradients.

Every gradient a step computes reaches its update (times a runtime zero), so XLA cannot remove
a baseline's unused gradients. Medians of ``--steps`` timed steps after warm-up, one process,
printed as a Markdown table and written as JSON.

    python experiments/benchmarks/transform_overhead.py
    python experiments/benchmarks/transform_overhead.py --model small_cnn --batch-size 32 --steps 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.losses import cross_entropy, per_example_cross_entropy
from jaxunlearn.models import from_linen, get_model
from jaxunlearn.report import report_benchmark
from jaxunlearn.transforms.grad_stats import grad_stats_from_samples, microbatch_gradients
from jaxunlearn.transforms import (
    add_langevin_noise,
    and_mask,
    clip_spectral_norm,
    microbatch_mean_stats,
    prob_mask,
    project_l2_ball,
    tilted_aggregate,
)
from jaxunlearn.spectral import record_layer_shapes


def _setup(model_name: str, batch_size: int, dtype: str):
    rng = np.random.default_rng(0)
    module = get_model(model_name, 10, dtype=dtype)
    fns = from_linen(module)

    def batch():
        return (jnp.asarray(rng.standard_normal((batch_size, 32, 32, 3)), jnp.float32),
                jnp.asarray(rng.integers(0, 10, batch_size), jnp.int32))

    forget, retain = batch(), batch()
    variables = fns.init(jax.random.key(0), forget[0][:1])
    layers = record_layer_shapes(module, variables, forget[0][:1], train=False)
    return fns, variables, forget, retain, layers


GRADIENT_WORK = ("plain", "both", "stats_sequential", "stats_parallel", "per_example")


def _consume(zero: jax.Array, *trees) -> jax.Array:
    """``zero`` (a runtime 0 that XLA cannot see through) times the sum of every leaf's squares:
    added to the update, it makes the step depend on work a baseline would otherwise let XLA
    remove (a square, because XLA folds a plain sum over per-example gradients back into one
    batch gradient)."""
    total = sum(jnp.sum(jnp.square(leaf)) for tree in trees
                for leaf in jax.tree_util.tree_leaves(tree))
    return zero * total


def make_step(fns, tx, gradients: str, num_microbatches: int, *, jit: bool = True) -> Callable:
    """The step whose gradient work is named by ``gradients``; every gradient it computes reaches
    the update, so XLA keeps it whether or not ``tx`` reads it (issue 18: a baseline that passed
    the retain gradient only to ``optax.sgd`` measured no retain gradient at all).

    - ``plain``: the forget-batch gradient;
    - ``both``: forget and retain gradients, the update their sum (``and_mask``'s inputs);
    - ``stats_sequential``: both batch gradients plus K-micro-batch statistics of each, the K
      gradients one after another (the step before issue 18);
    - ``stats_parallel``: the K micro-batch gradients of each stream together (vmap), the batch
      gradient their mean (the unlearning step's way without mutable state);
    - ``per_example``: per-example forget gradients (``tilted_aggregate``'s input).
    """
    if gradients not in GRADIENT_WORK:
        raise ValueError(f"gradients: expected one of {GRADIENT_WORK}, got {gradients!r}")

    def batch_loss(params, model_state, inputs, labels, train=True):
        logits, new_state = fns.apply({"params": params, **model_state}, inputs, train)
        weights = jnp.ones(labels.shape, jnp.float32)
        return cross_entropy(logits, labels, weights), new_state

    def step(params, model_state, opt_state, forget, retain, zero):
        extra, spent = {}, jnp.zeros(())

        def micro_loss(sign):
            return lambda p, m: sign * batch_loss(p, model_state, m[0], m[1], train=False)[0]

        if gradients == "per_example":
            def example_loss(p, example):
                logits, _ = fns.apply({"params": p, **model_state}, example[0][None], False)
                return per_example_cross_entropy(logits, example[1][None])[0]

            losses = jax.vmap(example_loss, (None, 0))(params, forget)
            per_example = jax.vmap(jax.grad(example_loss), (None, 0))(params, forget)
            grads = jax.tree_util.tree_map(lambda g: g.mean(0), per_example)
            extra = {"per_example_grads": per_example, "per_example_losses": losses}
            spent = _consume(zero, losses, per_example)
        elif gradients == "stats_parallel":
            stats = {}
            for name, data, sign in (("forget", forget, -1.0), ("retain", retain, 1.0)):
                _, micro = microbatch_gradients(micro_loss(sign), params, data, num_microbatches)
                stats[name] = grad_stats_from_samples(micro)
            grads = jax.tree_util.tree_map(jnp.add, stats["forget"].mean, stats["retain"].mean)
            extra = {"forget_stats": stats["forget"], "retain_stats": stats["retain"]}
            spent = _consume(zero, stats["forget"].m2, stats["retain"].m2)
        else:
            (_, model_state), grads = jax.value_and_grad(batch_loss, has_aux=True)(
                params, model_state, *forget)
            if gradients != "plain":
                retain_grads = jax.grad(lambda p: batch_loss(p, model_state, *retain)[0])(params)
                extra = {"forget_grads": grads, "retain_grads": retain_grads}
                grads = jax.tree_util.tree_map(jnp.add, grads, retain_grads)
            if gradients == "stats_sequential":
                forget_stats = microbatch_mean_stats(micro_loss(-1.0), params, forget,
                                                     num_microbatches, parallel=False)
                retain_stats = microbatch_mean_stats(micro_loss(1.0), params, retain,
                                                     num_microbatches, parallel=False)
                extra.update(forget_stats=forget_stats, retain_stats=retain_stats)
                spent = _consume(zero, forget_stats.mean, forget_stats.m2, retain_stats.mean,
                                 retain_stats.m2)
        updates, opt_state = tx.update(grads, opt_state, params, **extra)
        updates = jax.tree_util.tree_map(lambda u: u + spent.astype(u.dtype), updates)
        return optax.apply_updates(params, updates), model_state, opt_state

    return jax.jit(step, donate_argnums=(0, 1, 2)) if jit else step


def _time(fns, variables, forget, retain, tx, gradients, steps, warmup, microbatches):
    params = jax.tree_util.tree_map(jnp.copy, variables["params"])
    model_state = {k: jax.tree_util.tree_map(jnp.copy, v) for k, v in variables.items()
                   if k != "params"}
    opt_state = tx.init(params)
    step = make_step(fns, tx, gradients, microbatches)
    zero = jnp.zeros((), jnp.float32)
    for _ in range(warmup + 1):
        params, model_state, opt_state = step(params, model_state, opt_state, forget, retain,
                                              zero)
    jax.block_until_ready(params)
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        params, model_state, opt_state = step(params, model_state, opt_state, forget, retain,
                                              zero)
        jax.block_until_ready(params)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--microbatches", type=int, default=8, help="K for prob_mask statistics")
    parser.add_argument("--spectral-every", type=int, default=50,
                        help="clip_spectral_norm interval (FastClip's code clips every 50 steps)")
    parser.add_argument("--skip", default="", help="comma-separated variant names to skip")
    parser.add_argument("--out", default="results/benchmarks/transform_overhead.json")
    args = parser.parse_args()

    fns, variables, forget, retain, layers = _setup(args.model, args.batch_size, args.dtype)
    sgd = lambda: optax.sgd(0.01, momentum=0.9)  # noqa: E731
    variants = [
        # (name, transform, gradient work, baseline name)
        ("sgd", sgd(), "plain", None),
        ("sgd + add_langevin_noise", optax.chain(sgd(), add_langevin_noise(0.01, 0.01, key=0)),
         "plain", "sgd"),
        ("sgd + project_l2_ball", optax.chain(sgd(), project_l2_ball(1e4)), "plain", "sgd"),
        (f"sgd + clip_spectral_norm(every {args.spectral_every})",
         optax.chain(sgd(), clip_spectral_norm(1.0, layers, every_k_steps=args.spectral_every)),
         "plain", "sgd"),
        (f"sgd + clip_spectral_norm(every {args.spectral_every}, tracking)",
         optax.chain(sgd(), clip_spectral_norm(1.0, layers, every_k_steps=args.spectral_every,
                                               track_every_step=True)), "plain", "sgd"),
        ("sgd + clip_spectral_norm(every 1)",
         optax.chain(sgd(), clip_spectral_norm(1.0, layers, every_k_steps=1)), "plain", "sgd"),
        ("sgd, forget + retain grads", sgd(), "both", "sgd"),
        ("sgd + and_mask", optax.chain(and_mask(), sgd()), "both", "sgd, forget + retain grads"),
        (f"sgd, {args.microbatches}-micro-batch stats, sequential (before)", sgd(),
         "stats_sequential", "sgd, forget + retain grads"),
        (f"sgd, {args.microbatches}-micro-batch stats, vmapped", sgd(), "stats_parallel",
         "sgd, forget + retain grads"),
        ("sgd + prob_mask(0.45)", optax.chain(prob_mask(0.45), sgd()), "stats_parallel",
         f"sgd, {args.microbatches}-micro-batch stats, vmapped"),
        ("sgd, per-example grads", sgd(), "per_example", None),
        ("sgd + tilted_aggregate", optax.chain(tilted_aggregate(1.0), sgd()), "per_example",
         "sgd, per-example grads"),
    ]
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    rows = []
    medians: dict[str, float] = {}
    for name, tx, gradients, baseline in variants:
        if name in skipped or (baseline and baseline not in medians):
            continue
        seconds = _time(fns, variables, forget, retain, tx, gradients, args.steps, args.warmup,
                        args.microbatches)
        medians[name] = seconds
        rows.append({
            "variant": name, "median_step_ms": 1000 * seconds,
            "ratio_to_baseline": seconds / medians[baseline] if baseline else 1.0,
            "overhead_percent": 100 * (seconds / medians[baseline] - 1) if baseline else 0.0,
            "ratio_to_sgd": seconds / medians["sgd"] if "sgd" in medians else None,
            "baseline": baseline or "",
        })
        print(f"  {name}: {1000 * seconds:.1f} ms", flush=True)
    report_benchmark(
        rows, ["variant", "median_step_ms", "ratio_to_baseline", "overhead_percent",
               "ratio_to_sgd", "baseline"], args.out, arguments=vars(args), digits=2,
        title=f"{args.model}, batch {args.batch_size}, {args.dtype}")

if __name__ == "__main__":
    main()
