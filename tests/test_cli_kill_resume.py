"""`jaxunlearn train` killed with SIGKILL mid-epoch and again in the middle of writing a
checkpoint, then resumed by the same command, ends with the parameters and the per-epoch history
of an uninterrupted run (issue 17)."""

import json
import os
import pathlib
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "configs" / "digits_mlp.py"
# 1,437 digits / 64 → 23 steps an epoch, 69 in all; a checkpoint every 5 steps, so the ones the
# killed runs leave behind fall inside an epoch
ARGS = ["train", "--config", str(CONFIG), "--set", "train.epochs=3", "--set",
        "train.checkpoint_every_steps=5", "--no-progress", "--no-compile-cache"]

# Runs the command line in a process that kills itself: "step N" right after training step N
# (its state only in memory), "write N" while checkpoint N is being written (every file of it is
# in Orbax's temporary directory, not yet committed).
KILLER = r"""
import os, signal, sys
from orbax.checkpoint._src.handlers import composite_checkpoint_handler as composite
from jaxunlearn.train import checkpoint, loop

mode, at = sys.argv[1], int(sys.argv[2])
saving = {"step": None}
save = checkpoint.Checkpointer.save
def tracked_save(self, step, *args, **kwargs):
    saving["step"] = int(step)
    return save(self, step, *args, **kwargs)
checkpoint.Checkpointer.save = tracked_save
finalize = composite.CompositeCheckpointHandler.finalize
def killing_finalize(self, directory):
    if mode == "write" and saving["step"] == at:
        os.kill(os.getpid(), signal.SIGKILL)
    return finalize(self, directory)
composite.CompositeCheckpointHandler.finalize = killing_finalize
make_train_step = loop.make_train_step
def killing_step(*args, **kwargs):
    step_fn = make_train_step(*args, **kwargs)
    def step(state, *rest):
        state, metrics = step_fn(state, *rest)
        if mode == "step" and int(state.step) == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return state, metrics
    return step
loop.make_train_step = killing_step
from jaxunlearn.cli import main
sys.exit(main(sys.argv[3:]))
"""


def _train(workdir, *kill):
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1")
    command = ([sys.executable, "-c", KILLER, *kill] if kill
               else [sys.executable, "-m", "jaxunlearn.cli"])
    return subprocess.run([*command, *ARGS, "--workdir", str(workdir)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=ROOT)


@pytest.mark.slow
def test_killed_twice_then_resumed_equals_an_uninterrupted_run(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert _train(whole).returncode == 0

    killed = _train(cut, "step", "32")  # mid-epoch 2; newest checkpoint: step 30
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(os.listdir(cut / "checkpoints")) == ["20", "25", "30"]
    assert not (cut / "metrics.json").exists()

    killed = _train(cut, "write", "40")  # resumes at 30, dies while writing 40 (mid-epoch 2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "35" in os.listdir(cut / "checkpoints")  # it resumed at 30 and saved 35
    assert "40" not in os.listdir(cut / "checkpoints")  # never committed

    resumed = _train(cut)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from step 35 of 69" in resumed.stdout

    from jaxunlearn.pipeline import load_trained

    for a, b in zip(jax.tree.leaves(load_trained(str(cut))[2]),
                    jax.tree.leaves(load_trained(str(whole))[2])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    cut_metrics = json.loads((cut / "metrics.json").read_text())
    whole_metrics = json.loads((whole / "metrics.json").read_text())
    assert [entry["epoch"] for entry in whole_metrics["history"]] == [1, 2, 3]
    assert cut_metrics["history"] == whole_metrics["history"]  # every epoch, both cut ones too
    assert cut_metrics["metrics"] == whole_metrics["metrics"]
    assert cut_metrics["resumed_from"] == 35 and whole_metrics["resumed_from"] is None
