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
    module: Any = None


def prepare(config: ExperimentConfig) -> Setup:
    """Load the dataset, split it as ``config.data`` says, and build the model functions."""
    from jaxunlearn.data import load_dataset, make_splits, stratified_subset
    from jaxunlearn.models import from_linen, get_model

    kwargs = {"data_dir": config.data.data_dir} if config.data.data_dir else {}
    train_set, test_set = load_dataset(config.data.name, **kwargs)
    for name, size in (("train_size", config.data.train_size),
                       ("test_size", config.data.test_size)):
        loaded = train_set if name == "train_size" else test_set
        if size is not None and size > len(loaded):
            raise ValueError(f"data.{name}: {size} exceeds the {len(loaded)} examples of "
                             f"{config.data.name!r}")
    train_set = stratified_subset(train_set, config.data.train_size, config.data.seed, salt=0)
    test_set = stratified_subset(test_set, config.data.test_size, config.data.seed, salt=1)
    splits = make_splits(train_set, test_set, **config.data.split_kwargs())
    module = get_model(
        config.model.name, train_set.num_classes, dtype=config.model.dtype, **config.model.options
    )
    return Setup(splits, from_linen(module), np.asarray(train_set.inputs[:1]), module)


def load_trained(workdir: str, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Any, Setup, dict]:
    """The config, data and newest trained variables of a ``jaxunlearn train`` work directory.

    Rebuilds the run from its ``run.json`` (config and subset), checks the saved ``splits.json``
    against the freshly made splits, and restores the newest checkpoint into the same state
    structure the run trained with.

    Returns:
      ``(config, setup, variables)``.
    """
    from jaxunlearn.config import ExperimentConfig, DataConfig, ModelConfig, TrainConfig
    from jaxunlearn.config import apply_overrides
    from jaxunlearn.data import Splits
    from jaxunlearn.train import Checkpointer, create_train_state, state_variables
    from jaxunlearn.train import training_transformation

    record_path = os.path.join(workdir, "run.json")
    if not os.path.isfile(record_path):
        raise FileNotFoundError(f"--from {workdir}: no run.json; is it a `jaxunlearn train` workdir?")
    with open(record_path) as handle:
        record = json.load(handle)
    saved = record["config"]
    config = ExperimentConfig(
        data=DataConfig(**{k: tuple(v) if isinstance(v, list) else v
                           for k, v in saved["data"].items()}),
        model=ModelConfig(**saved["model"]),
        train=TrainConfig(**{k: tuple(v) if isinstance(v, list) else v
                             for k, v in saved["train"].items()}),
    )
    config = apply_overrides(config, [o for o in overrides if o.startswith("data.data_dir=")])
    setup = prepare(config)
    setup.splits = Splits.load(os.path.join(workdir, "splits.json"), setup.splits.train,
                               setup.splits.test)
    dataset = setup.splits.train if record["subset"] == "full" else setup.splits.retain_set
    variables = init_variables(setup, config.train.seed)
    tx = training_transformation(config.train, len(dataset), variables, setup.module,
                                 setup.sample_inputs)
    state, _ = Checkpointer(os.path.join(workdir, "checkpoints")).restore(
        create_train_state(variables, tx, config.train.seed))
    return config, setup, state_variables(state)


def init_variables(setup: Setup, seed: int) -> dict:
    """Fresh model variables from ``seed``."""
    return setup.model_fns.init(jax.random.key(seed), setup.sample_inputs)


def write_json(path: str, payload: dict) -> None:
    """Write ``payload`` as JSON at ``path`` (its directory is made on every process, the file is
    written by process 0 alone in a multi-process run)."""
    from jaxunlearn.distributed import is_main_process

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if not is_main_process():
        return
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
