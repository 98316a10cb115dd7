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
    public_source: Any = None  # the Dataset the public set was drawn from, when not the test set


def load_public_source(config: ExperimentConfig, train_set):
    """``config.data.public_source``'s training images resized to ``train_set``'s input shape
    (:func:`jaxunlearn.data.resize_like`), or None when the public set (if any) comes from the
    test set."""
    from jaxunlearn.data import load_dataset, resize_like

    if config.data.public_source is None:
        return None
    try:  # its own default location: data.data_dir is the task dataset's
        source, _ = load_dataset(config.data.public_source)
    except ValueError as error:
        raise ValueError(f"data.public_source: {error}") from None
    try:
        return resize_like(source, train_set)
    except ValueError as error:
        raise ValueError(f"data.public_source {config.data.public_source!r}: {error}") from None


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
    public_source = load_public_source(config, train_set)
    splits = make_splits(train_set, test_set, public_source=public_source,
                         **config.data.split_kwargs())
    module = get_model(
        config.model.name, train_set.num_classes, dtype=config.model.dtype, **config.model.options
    )
    return Setup(splits, from_linen(module), np.asarray(train_set.inputs[:1]), module,
                 public_source)


def load_trained(workdir: str, overrides: list[str] | tuple[str, ...] = (), *,
                 step: int | None = None, flag: str = "--from",
                 step_flag: str = "--restore-step") -> tuple[Any, Setup, dict]:
    """The config, data and trained variables of a ``jaxunlearn train`` work directory.

    Rebuilds the run from its ``run.json`` (config and subset), checks the saved ``splits.json``
    against the freshly made splits, and restores checkpoint ``step`` (default: the newest) into
    the same state structure the run trained with. ``flag`` and ``step_flag`` name the command-line
    options in error messages (a damaged newest checkpoint names the intact older steps).

    Returns:
      ``(config, setup, variables)``.
    """
    from jaxunlearn.cli_workdirs import config_from_record, read_run_record, require_train_workdir
    from jaxunlearn.config import apply_overrides
    from jaxunlearn.data import Splits
    from jaxunlearn.train import Checkpointer, create_train_state, state_variables
    from jaxunlearn.train import training_transformation
    from jaxunlearn.train.checkpoint import CheckpointError

    require_train_workdir(workdir, flag)
    record = read_run_record(workdir)
    config = config_from_record(record, os.path.join(workdir, "run.json"))
    config = apply_overrides(config, [o for o in overrides if o.startswith("data.data_dir=")])
    setup = prepare(config)
    setup.splits = Splits.load(os.path.join(workdir, "splits.json"), setup.splits.train,
                               setup.splits.test, public_source=setup.public_source)
    dataset = setup.splits.train if record["subset"] == "full" else setup.splits.retain_set
    variables = init_variables(setup, config.train.seed)
    tx = training_transformation(config.train, len(dataset), variables, setup.module,
                                 setup.sample_inputs)
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"))
    try:
        state, _ = checkpointer.restore(create_train_state(variables, tx, config.train.seed), step)
    except CheckpointError as error:
        raise CheckpointError(with_restore_hint(error, f"{flag} {workdir}", step_flag)) from error
    finally:
        checkpointer.close()
    return config, setup, state_variables(state)


def with_restore_hint(error: Exception, where: str, step_flag: str) -> str:
    """A checkpoint error's problem prefixed by ``where``, with the option that restores an
    intact older checkpoint (``--restore-step 23``) when there is one."""
    problem = getattr(error, "problem", str(error))
    intact = getattr(error, "intact_steps", [])
    if intact:
        return (f"{where}: {problem}; older checkpoints are intact (steps {intact}): add "
                f"{step_flag} {intact[-1]} to use the newest of them (nothing was changed)")
    return f"{where}: {problem} (nothing was changed)"


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
