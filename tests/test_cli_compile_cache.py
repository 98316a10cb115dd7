"""Repeated commands reuse compiled programs through JAX's persistent compilation cache: a second
`jaxunlearn train` of the same model finds every program in the cache (it adds no entry) and
prints the same numbers; --no-compile-cache leaves the cache alone."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "configs" / "digits_mlp.py"


def _train(workdir, cache, *extra):
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1",
               JAXUNLEARN_CACHE_DIR=str(cache))
    env.pop("JAXUNLEARN_NO_COMPILE_CACHE", None)  # tests/conftest.py turns it off elsewhere
    result = subprocess.run(
        [sys.executable, "-m", "jaxunlearn.cli", "train", "--config", str(CONFIG), "--workdir",
         str(workdir), "--set", "train.epochs=1", *extra], capture_output=True, text=True,
        timeout=300, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads((workdir / "metrics.json").read_text())


def _entries(cache):
    return sorted(path.name for path in (cache / "jax").iterdir())


@pytest.mark.slow
def test_a_repeated_command_compiles_nothing_new(tmp_path):
    cache = tmp_path / "cache"
    first = _train(tmp_path / "first", cache)
    entries = _entries(cache)
    assert len(entries) >= 3  # init, the train step, evaluation at least
    second = _train(tmp_path / "second", cache)
    assert _entries(cache) == entries  # every program came from the cache
    assert second["metrics"] == first["metrics"] and second["history"] == first["history"]

    off = tmp_path / "off_cache"
    assert _train(tmp_path / "third", off, "--no-compile-cache")["metrics"] == first["metrics"]
    assert not off.exists()
