"""The ``alu`` method through ``unlearn()`` and the CLI: it trains on retain ∪ public, never reads
the forget set, equals Langevin unlearning without public data, and fails early and clearly."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib

import jax
import numpy as np
import pytest

from jaxunlearn import cli
from jaxunlearn.certify import langevin_steps_for_target
from jaxunlearn.data import from_arrays, load_digits, make_splits
from jaxunlearn.methods import METHODS, unlearn
from jaxunlearn.methods.alu import _dataset
from jaxunlearn.models import create_model_fns
from tests.methods.method_helpers import assert_trees_close

ROOT = pathlib.Path(__file__).resolve().parents[2]
POISON = float(np.finfo(np.float32).max)


@pytest.fixture(scope="module")
def digits():
    train, test = load_digits()
    fns = create_model_fns("mlp", 10, hidden_sizes=(16,))
    variables = fns.init(jax.random.key(0), np.asarray(train.inputs[:1]))
    splits = make_splits(train, test, forget_fraction=0.1, public_fraction=0.5, seed=0)
    return fns, variables, splits


def _poisoned(splits):
    """The same splits with every forget input set to 3.4e38: reading one gives NaN."""
    inputs = np.array(splits.train.inputs, copy=True)
    inputs[splits.forget_indices] = POISON
    train = from_arrays(inputs, splits.train.labels, num_classes=10, name="poisoned")
    return dataclasses.replace(splits, train=train)


def _leaves(variables):
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(variables["params"])]


def test_alu_trains_on_retain_and_public_and_never_reads_the_forget_set(digits):
    fns, variables, splits = digits
    result = unlearn(fns, variables, _poisoned(splits), "alu", steps=3, key=0, progress=False)
    log = result.log
    json.dumps(log)
    assert log["method"] == "alu" and log["steps"] == 3 and log["history"][-1]["step"] == 3
    assert log["public_size"] == len(splits.public) > 0
    assert log["retain_size"] == len(splits.retain_indices)
    assert log["steps_per_epoch"] == -(-(len(splits.retain_indices) + len(splits.public)) // 256)
    assert all(np.all(np.isfinite(leaf)) for leaf in _leaves(result.variables))
    assert not all(np.allclose(a, b) for a, b in zip(_leaves(result.variables),
                                                      _leaves(variables)))


@pytest.mark.parametrize("public_weight", ["uniform", 0.25])
def test_the_method_objective_is_retain_then_public_rows(digits, public_weight):
    _, _, splits = digits
    hyper = METHODS["alu"].hyperparameters({"public_weight": public_weight})
    data, num_public = _dataset(splits, hyper)
    retain, public = len(splits.retain_indices), len(splits.public)
    assert num_public == public and len(data) == retain + public
    np.testing.assert_array_equal(np.asarray(data.inputs[retain:]), splits.public.inputs)
    np.testing.assert_array_equal(np.asarray(data.labels[:retain]), splits.retain_set.labels)
    weights = np.asarray(data.weights)
    if public_weight == "uniform":
        np.testing.assert_allclose(weights, 1 / (retain + public), rtol=1e-6)
    else:
        np.testing.assert_allclose(weights[retain:].sum(), 0.25, rtol=1e-5)


def test_without_public_data_alu_is_langevin_unlearning(digits):
    """Full batch, no clipping (M huge), regulariser after the clip, no noise: the update is the
    ``langevin`` method's −η(∇CE + λθ); the noise itself is checked against a float64 reference in
    tests/alu/test_alu_dynamics.py."""
    fns, variables, splits = digits
    no_public = dataclasses.replace(splits, public=None, public_indices=None)
    common = {"learning_rate": 0.5, "sigma": 0.0, "weight_decay": 0.01, "batch_size": 4096}
    alu = unlearn(fns, variables, no_public, "alu", steps=3, progress=False,
                  hyperparams={**common, "clip_norm": 1e9, "regularizer": "after"})
    langevin = unlearn(fns, variables, no_public, "langevin", steps=3, progress=False,
                       hyperparams=common)
    for a, b in zip(_leaves(alu.variables), _leaves(langevin.variables)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(_leaves(alu.variables),
                                                      _leaves(variables)))


@pytest.mark.parametrize("kwargs, pattern", [
    ({"hyperparams": {"momentum": 0.9}}, "alu has no momentum"),
    ({"hyperparams": {"public_weight": 1.5}}, "public_weight must be 'uniform' or a public"),
    ({"hyperparams": {"regularizer": "before"}}, "regularizer must be one of"),
    ({"hyperparams": {"clip_norm": 0.0}}, "clip_norm must be > 0"),
    ({"hyperparams": {"sigma": -0.1}}, "sigma must be >= 0"),
    ({"addons": ("prob_mask",)}, "alu takes no add-ons"),
    ({"tx": object()}, "takes no optimizer"),
])
def test_bad_requests_fail_before_compiling(digits, kwargs, pattern):
    fns, variables, splits = digits
    with pytest.raises(ValueError, match=pattern):
        unlearn(fns, variables, splits, "alu", steps=1, progress=False, **kwargs)


def test_certify_picks_the_smallest_certified_k():
    method = METHODS["alu"]
    hyper = method.hyperparameters({"sigma": 0.05, "weight_decay": 0.01,
                                    "learning_rate": 1 / 0.26})
    result = method.certify(hyper, num_private=1000, num_public=3000, num_deleted=10,
                            target_epsilon=1.0)
    assert result["steps"] == langevin_steps_for_target(
        1.0, sigma=0.05, n_private=1000, n_public=3000, num_deleted=10, strong_convexity=0.01,
        step_size=1 / 0.26, adjacency="remove")
    assert result["epsilon"] <= 1.0 and result["sensitivity"] == pytest.approx(20 / 4000)
    with pytest.raises(ValueError, match="weight_decay .* must be > 0"):
        method.certify({**hyper, "weight_decay": 0.0}, num_private=10, num_public=0,
                       num_deleted=1, steps=3)


@pytest.mark.parametrize("extra, pattern", [
    (["--method", "finetune", "--epsilon", "1"], "method 'finetune' carries no unlearning "
                                                 "certificate; use --method alu"),
    (["--method", "langevin", "--epsilon", "1"], "method 'langevin' carries no unlearning"),
    (["--method", "finetune", "--public", "0.3"], "method 'finetune' does not use public data"),
    (["--method", "alu", "--epsilon", "1", "--steps", "3"], "--epsilon picks the number of steps"),
    (["--method", "alu", "--epsilon", "-1"], "--epsilon must be > 0"),
    (["--method", "alu", "--public", "share=0.3"], "--public: unknown key 'share'"),
    (["--method", "alu", "--public", "size=0.3"], "--public: size='0.3' is not a number"),
    (["--method", "alu", "--public", "fraction=0.3,size=10"], "exactly one"),
])
def test_cli_errors_come_before_anything_is_loaded(tmp_path, capsys, extra, pattern):
    code = cli.main(["unlearn", "--from", str(tmp_path / "missing"), "--out",
                     str(tmp_path / "out"), "--no-progress", *extra])
    assert code == 2
    assert pattern in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


LOGISTIC_CONFIG = '''
from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def get_config():
    return ExperimentConfig(
        data=DataConfig(name="digits", forget_fraction=None, forget_indices=(0, 1, 2), seed=0),
        model=ModelConfig(name="logistic_regression"),
        train=TrainConfig(epochs=1, batch_size=128, learning_rate=0.1, augment=False),
    )
'''


@pytest.mark.slow
def test_cli_unlearns_with_public_data_and_a_certified_k(tmp_path, capsys):
    config = tmp_path / "logistic.py"
    config.write_text(LOGISTIC_CONFIG)
    workdir, out = tmp_path / "run", tmp_path / "alu"
    assert cli.main(["train", "--config", str(config), "--workdir", str(workdir),
                     "--no-progress"]) == 0
    capsys.readouterr()
    hp = ["--hp", "sigma=0.05", "--hp", "weight_decay=0.01", "--hp", "learning_rate=3.8"]
    code = cli.main(["unlearn", "--from", str(workdir), "--method", "alu", "--public",
                     "fraction=0.3,skew=1", "--epsilon", "2", *hp, "--out", str(out),
                     "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "certificate: K = " in printed and "| alu |" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    certificate = metrics["certificate"]
    assert certificate["epsilon"] <= 2.0 and certificate["steps"] >= 1
    assert metrics["log"]["steps"] == certificate["steps"] and metrics["log"]["full_batch"]
    assert metrics["log"]["public_size"] == round(0.3 * 360) and metrics["public"]
    assert os.path.isdir(out / "variables")
    code = cli.main(["unlearn", "--from", str(workdir), "--method", "alu", "--epsilon", "2",
                     "--hp", "batch_size=64", *hp, "--out", str(tmp_path / "small_batch"),
                     "--no-progress"])
    assert code == 2 and "certifies full-batch noisy GD" in capsys.readouterr().err


def _numpy_alu(variables, inputs, labels, weights, order, batch_size, steps, *, eta, clip, m,
               regularizer):
    """Float64 reference of ALU's noiseless update on softmax regression: per-example gradients
    of CE (x ⊗ (p − e_y), p − e_y) plus m·θ inside or after the clip to global norm ``clip``,
    a_i-weighted mean over each batch (a_i normalised within it), θ ← θ − η g, batches cut from
    ``order`` in sequence and cycled."""
    w = np.asarray(variables["params"]["linear"]["kernel"], np.float64)
    b = np.asarray(variables["params"]["linear"]["bias"], np.float64)
    x = np.asarray(inputs, np.float64).reshape(len(inputs), -1)
    per_epoch = -(-len(order) // batch_size)
    for t in range(steps):
        rows = order[(t % per_epoch) * batch_size:][:batch_size]
        a = weights[rows] / weights[rows].sum()
        gw, gb = np.zeros_like(w), np.zeros_like(b)
        for i, ai in zip(rows, a):
            z = x[i] @ w + b
            p = np.exp(z - z.max())
            p /= p.sum()
            p[labels[i]] -= 1.0
            dw, db = np.outer(x[i], p), p
            if regularizer == "inside":
                dw, db = dw + m * w, db + m * b
            scale = min(1.0, clip / np.sqrt((dw ** 2).sum() + (db ** 2).sum()))
            gw, gb = gw + ai * scale * dw, gb + ai * scale * db
        if regularizer == "after":
            gw, gb = gw + m * w, gb + m * b
        w, b = w - eta * gw, b - eta * gb
    return w, b


@pytest.mark.parametrize("batch_size, regularizer", [(4096, "inside"), (100, "after")])
def test_alu_on_the_engine_matches_a_float64_reference(digits, batch_size, regularizer):
    """Softmax regression, σ = 0, a small clip that binds, public mass 0.25: ``unlearn``'s
    engine run equals per-example-clipped GD in float64, at full batch (every row, one step per
    epoch) and with mini-batches cut from the run's one fixed permutation, the same every epoch
    (4 epochs of 3 batches here, the last one short)."""
    from jaxunlearn.alu import alu_data, chain_permutation
    from jaxunlearn.train.keys import alu_order_key

    train, test = load_digits()  # a small problem for the Python reference: 216 + 80 rows
    small = make_splits(train.subset(np.arange(240)), test, forget_fraction=0.1, public_size=80,
                        seed=0)
    fns = create_model_fns("logistic_regression", 10)
    variables = fns.init(jax.random.key(3), np.asarray(train.inputs[:1]))
    full = batch_size >= len(small.retain_indices) + 80
    hyper = {"learning_rate": 0.7, "sigma": 0.0, "clip_norm": 0.5, "weight_decay": 0.02,
             "regularizer": regularizer, "public_weight": 0.25, "batch_size": batch_size}
    steps = 1 if full else 12
    result = unlearn(fns, variables, small, "alu", steps=steps, key=5, progress=False,
                     hyperparams=hyper)
    data = alu_data(small.retain_set.inputs, small.retain_set.labels, small.public.inputs,
                    small.public.labels, 0.25)
    order = np.asarray(chain_permutation(alu_order_key(5), len(data)))
    w, b = _numpy_alu(variables, data.inputs, np.asarray(data.labels),
                      np.asarray(data.weights, np.float64), order, min(batch_size, len(data)),
                      steps, eta=0.7, clip=0.5, m=0.02, regularizer=regularizer)
    linear = result.variables["params"]["linear"]
    np.testing.assert_allclose(np.asarray(linear["kernel"]), w, rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(np.asarray(linear["bias"]), b, rtol=2e-4, atol=2e-6)
    assert result.log["full_batch"] == full and len(data) == 296
    assert result.log["steps_per_epoch"] == (1 if full else 3)


def test_alu_pools_vmap_and_match_one_run_each(digits):
    """``unlearn_many`` runs ALU's models in one vmapped program (the D_r ∪ D_pub stream is
    shared, each model keeps its own permutation); model m equals ``unlearn(key=keys[m])``,
    noise included."""
    from jaxunlearn.methods import unlearn_many
    from jaxunlearn.train import stack_models

    fns, variables, splits = digits
    others = fns.init(jax.random.key(1), np.asarray(splits.train.inputs[:1]))
    hyper = {"sigma": 0.05, "batch_size": 128}
    pool = unlearn_many(fns, stack_models([variables, others]), splits, "alu", keys=[0, 4],
                        steps=4, hyperparams=hyper, progress=False, sequential_fallback=False)
    assert all(log["vmapped"] for log in pool.logs)
    for index, (start, key) in enumerate([(variables, 0), (others, 4)]):
        single = unlearn(fns, start, splits, "alu", steps=4, key=key, hyperparams=hyper,
                         progress=False)
        assert_trees_close(pool[index].variables["params"], single.variables["params"],
                           rtol=1e-5, atol=1e-6)


class _Interrupted(Exception):
    pass


def test_an_interrupted_alu_run_resumes_bit_identically_and_records_epoch_curves(digits,
                                                                                 tmp_path):
    """On the engine, ALU checkpoints per epoch (noise counter and fixed permutation included)
    and takes ``epoch_callback``: an interrupted run, resumed, equals an uninterrupted one."""
    fns, variables, splits = digits
    hyper = {"sigma": 0.05, "batch_size": 256, "epochs": 2}
    seen = []
    whole = unlearn(fns, variables, splits, "alu", key=2, hyperparams=hyper, progress=False,
                    epoch_callback=lambda epoch, v: seen.append(epoch) or {"epoch_seen": epoch})
    per_epoch = whole.log["steps_per_epoch"]
    assert seen == [1, 2] and whole.log["history"][1]["epoch_seen"] == 2

    def stop(step, metrics):
        if step == per_epoch + 1:
            raise _Interrupted

    with pytest.raises(_Interrupted):
        unlearn(fns, variables, splits, "alu", key=2, hyperparams=hyper, progress=False,
                workdir=str(tmp_path), callbacks=(stop,))
    resumed = unlearn(fns, variables, splits, "alu", key=2, hyperparams=hyper, progress=False,
                      workdir=str(tmp_path))
    assert resumed.log["resumed_from"] == per_epoch
    for a, b in zip(_leaves(resumed.variables), _leaves(whole.variables)):
        np.testing.assert_array_equal(a, b)
