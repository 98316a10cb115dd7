"""End-to-end runs shared by the CLI: load and split data, build the model, train, evaluate."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any, Callable

import jax
import numpy as np

from jaxunlearn.config import ExperimentConfig, to_dict


@dataclasses.dataclass
class Setup:
    """Data splits and model functions for one experiment config."""

    splits: Any
    model_fns: Any
    sample_inputs: np.ndarray


def prepare(config: ExperimentConfig) -> Setup:
    """Load the dataset, split it as ``config.data`` says, and build the model functions."""
    from jaxunlearn.data import load_dataset, make_splits
    from jaxunlearn.models import create_model_fns

    kwargs = {"data_dir": config.data.data_dir} if config.data.data_dir else {}
    train_set, test_set = load_dataset(config.data.name, **kwargs)
    splits = make_splits(train_set, test_set, **config.data.split_kwargs())
    model_fns = create_model_fns(
        config.model.name, train_set.num_classes, dtype=config.model.dtype, **config.model.options
    )
    return Setup(splits, model_fns, np.asarray(train_set.inputs[:1]))


def init_variables(setup: Setup, seed: int) -> dict:
    """Fresh model variables from ``seed``."""
    return setup.model_fns.init(jax.random.key(seed), setup.sample_inputs)


def write_json(path: str, payload: dict) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2, default=str)


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``function`` and return its result with the wall-clock seconds it took."""
    started = time.perf_counter()
    result = function()
    jax.block_until_ready(getattr(result, "variables", result))
    return result, time.perf_counter() - started


def config_record(config: Any) -> dict:
    """The config as JSON-able dict, for result metadata."""
    return to_dict(config)
