"""Digests of every engine path, to show that a refactor moved no number.

    python experiments/engine_digests.py before.json        # on the old commit
    python experiments/engine_digests.py after.json         # on the new one
    python experiments/engine_digests.py --compare before.json after.json

Runs about 40 small programs on CPU (a minute on 2 cores): ``train`` (an MLP; interrupted at a
mid-epoch checkpoint and resumed; a CNN with crop_flip augmentation; a batch-norm + dropout
network; an image-to-image model), every kind of ``unlearn`` (18 methods and add-ons, an
interrupted and resumed run, batch norm with gradient-statistics add-ons), the pools
(``train_original_and_retrained``, ``train_many``, ``train_sequential``) and ``unlearn_many``,
and writes a SHA-256 of each result's variables with its per-epoch history. ``--compare`` lists
the paths whose digests or histories differ (exit code 1 if any).
"""

import dataclasses
import hashlib
import json
import sys
import tempfile

import flax.linen as nn
import jax
import numpy as np

from jaxunlearn import losses
from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from jaxunlearn.data import Dataset, make_splits
from jaxunlearn.methods import unlearn, unlearn_many
from jaxunlearn.models import from_linen
from jaxunlearn.pipeline import init_variables, prepare
from jaxunlearn.train import train, train_many, train_original_and_retrained, train_sequential


class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train=False):
        x = nn.Conv(4, (3, 3))(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
        x = nn.relu(x).reshape((x.shape[0], -1))
        x = nn.Dropout(0.2, deterministic=not train)(x)
        return nn.Dense(4)(x)

class AE(nn.Module):
    @nn.compact
    def __call__(self, x, train=False):
        h = nn.relu(nn.Conv(4, (3, 3))(x))
        h = nn.Dropout(0.1, deterministic=not train)(h)
        return nn.Conv(1, (3, 3))(h)

def digest(tree):
    h = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(jax.device_get(tree)):
        h.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    return h.hexdigest()[:16]


def main(path):
    out = {}

    def rec(name, tree, extra=None):
        out[name] = {"params": digest(tree), "extra": extra}
        print(name, out[name]["params"], flush=True)

    exp = ExperimentConfig(data=DataConfig(name="digits", forget_fraction=0.1, seed=0),
                           model=ModelConfig(name="mlp", options={"hidden_sizes": [64]}),
                           train=TrainConfig(epochs=3, batch_size=64, learning_rate=0.05, weight_decay=5e-4))
    setup = prepare(exp); splits, fns = setup.splits, setup.model_fns
    r = train(fns.apply, init_variables(setup, 0), splits.train, exp.train, progress=False)
    rec("train_mlp", r.variables, r.history)
    # mid-epoch checkpoints, interrupted and resumed
    cfg = dataclasses.replace(exp.train, checkpoint_every_steps=7)
    with tempfile.TemporaryDirectory() as d:
        class Stop(Exception): pass
        def cb(step, m):
            if step == 17: raise Stop
        try:
            train(fns.apply, init_variables(setup, 0), splits.train, cfg, progress=False, workdir=d, callbacks=[cb])
        except Stop: pass
        r2 = train(fns.apply, init_variables(setup, 0), splits.train, cfg, progress=False, workdir=d)
        rec("train_mlp_resumed", r2.variables, r2.history)
    # cnn with augmentation and dropout-free conv
    exp_cnn = dataclasses.replace(exp, model=ModelConfig(name="small_cnn"),
                                  train=dataclasses.replace(exp.train, epochs=1, augment=True))
    setup_c = prepare(exp_cnn)
    train_aug = dataclasses.replace(setup_c.splits.train, augmentation="crop_flip")
    rc = train(setup_c.model_fns.apply, init_variables(setup_c, 1), train_aug, exp_cnn.train, progress=False)
    rec("train_cnn_aug", rc.variables, rc.history)
    orig = r.variables
    hp = {"epochs": 2, "batch_size": 64}
    for m, addons, extra_hp in [("finetune", (), {}), ("gradient_ascent", (), {"learning_rate": 0.01}),
                                ("neggrad_plus", (), {}), ("random_label", (), {}), ("salun", (), {}),
                                ("scrub", (), {}), ("srl", (), {}), ("l1_sparse", (), {}),
                                ("amun", (), {"epochs": 1}), ("boundary_shrink", (), {"epochs": 1}),
                                ("retrain", (), {"epochs": 2}),
                                ("random_label", ("and_mask",), {}), ("random_label", ("prob_mask",), {}),
                                ("neggrad_plus", ("focus_mask",), {}), ("finetune", ("langevin_noise",), {}),
                                ("finetune", ("salun_mask",), {}),
                                ("langevin", (), {"epochs": 1}), ("alu", (), {})]:
        h = {**hp, **extra_hp} if m not in ("amun", "alu") else {k: v for k, v in extra_hp.items()}
        try:
            res = unlearn(fns, orig, splits, m, addons=addons, hyperparams=h, key=3, progress=False,
                          module=setup.module)
        except Exception as e:
            print("ERR", m, addons, repr(e)[:200]); out[f"unlearn_{m}{addons}"] = repr(e)[:200]; continue
        rec(f"unlearn_{m}{'+'.join(('',) + addons)}", res.variables,
            [{k: v for k, v in e.items()} for e in res.log.get("history", [])])
    with tempfile.TemporaryDirectory() as d:
        class Stop(Exception): pass
        def cb(step, m):
            if step == 5: raise Stop
        try:
            unlearn(fns, orig, splits, "neggrad_plus", hyperparams=hp, key=3, progress=False, workdir=d, callbacks=[cb])
        except Stop: pass
        res = unlearn(fns, orig, splits, "neggrad_plus", hyperparams=hp, key=3, progress=False, workdir=d)
        rec("unlearn_neggrad_resumed", res.variables, res.log["history"])
    origs, retr = train_original_and_retrained(fns, splits, exp.train, original_seeds=[1, 2], retrain_seeds=[3, 4])
    rec("pool_originals", origs); rec("pool_retrained", retr)
    mask = np.zeros((2, len(splits.train)), bool); mask[0, ::2] = True; mask[1, 1::2] = True
    v, hist = train_many(fns, splits.train, mask, exp.train, seeds=7, return_history=True)
    rec("train_many", v, np.asarray(hist).tolist())
    v, hist = train_sequential(fns, splits.train, mask, exp.train, seeds=7, return_history=True)
    rec("train_sequential", v, np.asarray(hist).tolist())
    for m in ("finetune", "random_label", "salun", "neggrad_plus"):
        res = unlearn_many(fns, origs, splits, m, keys=[5, 6], hyperparams=hp, progress=False, module=setup.module)
        rec(f"unlearn_many_{m}", res.variables, [x.log.get("history") for x in res])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (200, 8, 8, 1)).astype(np.float32); y = rng.integers(0, 4, 200).astype(np.int32)
    train_set = Dataset(x[:160], y[:160], 4, augmentation="crop_flip"); test_set = Dataset(x[160:], y[160:], 4)
    splits = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    module = Net(); fns = from_linen(module)
    cfg = TrainConfig(epochs=2, batch_size=32, learning_rate=0.05, weight_decay=5e-4, augment=True)
    v0 = fns.init(jax.random.key(0), x[:1])
    r = train(fns.apply, v0, train_set, cfg, progress=False); rec("bn_train", r.variables, r.history)
    mask = np.ones((2, 160), bool); mask[0, :40] = False
    v, h = train_many(fns, train_set, mask, cfg, seeds=3, return_history=True); rec("bn_pool", v, np.asarray(h).tolist())
    hp = {"epochs": 2, "batch_size": 32}
    for m, addons in [("finetune", ()), ("neggrad_plus", ()), ("scrub", ()), ("srl", ()), ("neggrad_plus", ("prob_mask",)), ("random_label", ("and_mask",)), ("amun", ())]:
        h2 = hp if m != "amun" else {"epochs": 1}
        res = unlearn(fns, r.variables, splits, m, addons=addons, hyperparams=h2, key=1, progress=False, module=module)
        rec(f"bn_unlearn_{m}{addons}", res.variables, res.log["history"])
    res = unlearn_many(fns, v, splits, "finetune", keys=[1, 2], hyperparams=hp, progress=False, module=module)
    rec("bn_unlearn_many_finetune", res.variables)
    ae = AE(); afns = from_linen(ae)
    ds = Dataset(x[:160], y[:160], 4)
    r = train(afns.apply, afns.init(jax.random.key(1), x[:1]), ds, cfg, progress=False, loss_fn=losses.reconstruction_mse, targets="inputs")
    rec("ae_train", r.variables, r.history)
    with open(path, "w") as handle:
        json.dump(out, handle, indent=1, default=float)


def compare(first, second):
    a, b = (json.load(open(p)) for p in (first, second))
    moved = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    print(f"{len(moved)} of {len(set(a) | set(b))} paths differ" + (f": {moved}" if moved else ""))
    return 1 if moved else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare"]:
        sys.exit(compare(*sys.argv[2:4]))
    main(sys.argv[1])
