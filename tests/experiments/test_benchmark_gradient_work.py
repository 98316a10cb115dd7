"""transform_overhead.py's baselines keep every gradient they compute (issue 18).

XLA removes computations whose results are unused. Counted in compiled FLOPs (XLA's own cost
analysis, deterministic; no timing), a step that computes the retain gradient too must cost
about twice the forget-gradient step, and the statistics steps more again; a step that computes a
second gradient and drops it, as the old baseline did, costs the same as one gradient.
"""

import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import optax
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "transform_overhead", ROOT / "experiments/benchmarks/transform_overhead.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def _flops(function, *args) -> float:
    return float(jax.jit(function).lower(*args).compile().cost_analysis()["flops"])


@pytest.fixture(scope="module")
def tiny():
    fns, variables, forget, retain, _ = bench._setup("small_cnn", 8, "float32")
    params = variables["params"]
    model_state = {k: v for k, v in variables.items() if k != "params"}
    return fns, params, model_state, forget, retain


def _step_flops(tiny, gradients, tx=None):
    fns, params, model_state, forget, retain = tiny
    tx = tx or optax.sgd(0.1)
    step = bench.make_step(fns, tx, gradients, 4, jit=False)
    return _flops(step, params, model_state, tx.init(params), forget, retain, jnp.zeros(()))


def test_every_gradient_a_baseline_computes_is_kept(tiny):
    plain = _step_flops(tiny, "plain")
    both = _step_flops(tiny, "both")
    sequential = _step_flops(tiny, "stats_sequential")
    parallel = _step_flops(tiny, "stats_parallel")
    assert 1.7 * plain < both < 2.3 * plain  # two batch gradients
    # plus the micro-batch gradients (XLA counts a loop body once: one micro-batch per stream)
    assert sequential > 1.2 * both
    assert parallel > 1.7 * plain            # the K micro-batch gradients of both streams


def test_a_dropped_gradient_is_removed_so_the_check_can_fail(tiny):
    """What the old baseline did: the retain gradient computed, handed to nothing that reads it."""
    fns, params, model_state, forget, retain = tiny

    def loss(p, data):
        logits, _ = fns.apply({"params": p, **model_state}, data[0], False)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, data[1]))

    def dropped(p):
        forget_grads, _ = jax.grad(loss)(p, forget), jax.grad(loss)(p, retain)
        return forget_grads

    def kept(p):
        return jax.tree_util.tree_map(jnp.add, jax.grad(loss)(p, forget), jax.grad(loss)(p, retain))

    one = _flops(lambda p: jax.grad(loss)(p, forget), params)
    assert _flops(dropped, params) == pytest.approx(one, rel=0.01)
    assert _flops(kept, params) > 1.7 * one


def test_unknown_gradient_work_is_named(tiny):
    fns, *_ = tiny
    with pytest.raises(ValueError, match="gradients"):
        bench.make_step(fns, optax.sgd(0.1), "retain", 4)
