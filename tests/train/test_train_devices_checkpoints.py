"""Data parallelism and checkpoints, with real subprocesses.

- The same run on 1 and on 4 (virtual CPU) devices gives the same parameters.
- A run killed with SIGKILL mid-training and resumed from its checkpoint gives bit-identical
  parameters to one that was never interrupted.
- A damaged or missing checkpoint gives a clear error and leaves the older ones intact.
"""

import hashlib
import os
import pathlib
import signal
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import from_arrays
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import Checkpointer, CheckpointError, train

SCRIPT = pathlib.Path(__file__).with_name("train_tiny_script.py")


def _environment(devices: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["JAX_PLATFORMS"] = "cpu"
    env["JAXUNLEARN_NO_PROGRESS"] = "1"
    return env


def _run(args, devices=1, **kwargs):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=_environment(devices), capture_output=True,
        text=True, timeout=300, **kwargs,
    )


def _load(path):
    with np.load(path) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


@pytest.mark.slow  # ~16 s: keeps the default suite under its 10-minute budget
def test_one_and_four_devices_give_the_same_parameters(tmp_path):
    one = _run(["--out", str(tmp_path / "one.npz")], devices=1)
    four = _run(["--out", str(tmp_path / "four.npz")], devices=4)
    assert one.returncode == 0, one.stderr
    assert four.returncode == 0, four.stderr
    assert "devices 1 " in one.stdout and "devices 4 " in four.stdout
    for a, b in zip(_load(tmp_path / "one.npz"), _load(tmp_path / "four.npz"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_batch_size_must_split_over_devices(tmp_path):
    code = (
        "import jax, numpy as np\n"
        "from jaxunlearn.config import TrainConfig\n"
        "from jaxunlearn.data import from_arrays\n"
        "from jaxunlearn.models import create_model_fns\n"
        "from jaxunlearn.train import train\n"
        "d = from_arrays(np.zeros((12, 2, 2, 1), np.float32), np.zeros(12, np.int32), num_classes=2)\n"
        "f = create_model_fns('logistic_regression', 2)\n"
        "v = f.init(jax.random.key(0), d.inputs[:1])\n"
        "try:\n    train(f.apply, v, d, TrainConfig(batch_size=6), progress=False)\n"
        "except ValueError as e:\n    print('ERROR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=_environment(4), capture_output=True,
                         text=True, timeout=120)
    assert "ERROR train.batch_size=6 must be divisible by the number of devices (4)" in out.stdout, (
        out.stdout + out.stderr
    )


@pytest.mark.slow  # ~22 s: keeps the default suite under its 10-minute budget
def test_killed_and_resumed_run_is_bit_identical(tmp_path):
    reference = _run(["--out", str(tmp_path / "reference.npz"), "--epochs", "6"])
    assert reference.returncode == 0, reference.stderr

    workdir = tmp_path / "work"
    args = ["--out", str(tmp_path / "resumed.npz"), "--epochs", "6", "--workdir", str(workdir),
            "--checkpoint-every", "5"]
    # 7 steps/epoch x 6 epochs = 42 steps; slow the steps down so the kill lands mid-run.
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), *args, "--sleep", "0.05", "--print-steps"],
        env=_environment(1), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    killed_at = None
    for line in process.stdout:
        if line.startswith("step ") and int(line.split()[1]) >= 17:
            process.send_signal(signal.SIGKILL)
            killed_at = int(line.split()[1])
            break
    process.wait(timeout=60)
    assert killed_at is not None, process.stderr.read()
    assert process.returncode == -signal.SIGKILL
    assert not (tmp_path / "resumed.npz").exists()
    saved = Checkpointer(workdir / "checkpoints").all_steps()
    assert saved and max(saved) < 42

    resumed = _run(args)
    assert resumed.returncode == 0, resumed.stderr
    resumed_from = int(resumed.stdout.split("resumed_from")[1].split()[0])
    assert 15 <= resumed_from < 42
    for a, b in zip(_load(tmp_path / "reference.npz"), _load(tmp_path / "resumed.npz"), strict=True):
        np.testing.assert_array_equal(a, b)


def _tiny_run(workdir, epochs=3, **overrides):
    rng = np.random.default_rng(0)
    dataset = from_arrays(rng.standard_normal((40, 2, 2, 1)).astype(np.float32),
                          rng.integers(0, 2, 40).astype(np.int32), num_classes=2)
    fns = create_model_fns("logistic_regression", 2)
    variables = fns.init(jax.random.key(0), jnp.asarray(dataset.inputs[:1]))
    config = TrainConfig(epochs=epochs, batch_size=8, max_checkpoints=5, **overrides)
    return lambda **kw: train(fns.apply, variables, dataset, config, workdir=str(workdir),
                              progress=False, **kw)


def _hash_tree(directory):
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(directory).rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode() + path.read_bytes())
    return digest.hexdigest()


def _largest_file(directory):
    return max((p for p in pathlib.Path(directory).rglob("*") if p.is_file()),
               key=lambda p: p.stat().st_size)


def test_corrupt_checkpoint_gives_clear_error_and_keeps_older_ones(tmp_path):
    run = _tiny_run(tmp_path)
    first = run()
    checkpoints = tmp_path / "checkpoints"
    steps = Checkpointer(checkpoints).all_steps()
    assert steps == [5, 10, 15]
    older_hashes = {s: _hash_tree(checkpoints / str(s)) for s in steps[:-1]}

    victim = _largest_file(checkpoints / "15")
    data = bytearray(victim.read_bytes())
    for i in range(0, len(data), 7):
        data[i] ^= 0xFF
    victim.write_bytes(bytes(data))

    with pytest.raises(CheckpointError, match=r"step 15 .*corrupt.*\[5, 10\]"):
        run()
    assert Checkpointer(checkpoints).all_steps() == steps
    for s, digest in older_hashes.items():
        assert _hash_tree(checkpoints / str(s)) == digest

    # the older checkpoint still restores, and continuing from it reproduces the run
    resumed = run(restore_step=10)
    assert resumed.resumed_from == 10
    set_aside = list((tmp_path / "checkpoints_superseded").iterdir())
    assert len(set_aside) == 1 and set_aside[0].name.startswith("15-")  # moved, not deleted
    jax.tree_util.tree_map(np.testing.assert_array_equal, first.variables, resumed.variables)


def test_missing_checkpoint_and_foreign_workdir_are_refused(tmp_path):
    run = _tiny_run(tmp_path)
    run()
    with pytest.raises(CheckpointError, match="no checkpoint for step 7.*available steps"):
        run(restore_step=7)
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        Checkpointer(tmp_path / "empty").restore({"x": np.zeros(2)})
    before = _hash_tree(tmp_path / "checkpoints")
    other = _tiny_run(tmp_path, learning_rate=0.5)
    with pytest.raises(CheckpointError, match="different run"):
        other()
    assert _hash_tree(tmp_path / "checkpoints") == before


def test_saved_variables_round_trip_and_are_never_overwritten(tmp_path):
    from jaxunlearn.train import load_variables, save_variables

    variables = {"params": {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}}
    other = {"params": {"w": jnp.zeros((2, 3)), "b": jnp.ones(3)}}
    path = tmp_path / "variables"
    save_variables(path, variables)
    restored = load_variables(path, other)
    jax.tree_util.tree_map(np.testing.assert_array_equal, restored, variables)
    save_variables(path, variables)  # the same variables again: accepted, nothing rewritten
    before = _hash_tree(path)
    with pytest.raises(CheckpointError, match="other variables"):
        save_variables(path, other)
    assert _hash_tree(path) == before
    victim = _largest_file(path)
    data = bytearray(victim.read_bytes())
    for i in range(0, len(data), 5):
        data[i] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt|digest"):
        load_variables(path, other)
    with pytest.raises(CheckpointError, match="no saved variables"):
        load_variables(tmp_path / "missing", other)
