"""The ``quickstart`` and ``train`` commands of ``jaxunlearn`` (parsers in :mod:`jaxunlearn.cli`)."""

from __future__ import annotations

import argparse
import json
import os


def only_data_dir(overrides: list[str], command: str) -> None:
    """Commands that read a train workdir take its data, split and model: --set may only say
    where the dataset files are now."""
    for override in overrides:
        if not override.startswith("data.data_dir="):
            raise ValueError(f"--set {override}: {command} takes the data, split and model from "
                             "the train workdir; only data.data_dir=DIR can be set here")


def check_step(value: int | None, flag: str) -> None:
    """A checkpoint step given on the command line is >= 0."""
    if value is not None and value < 0:
        raise ValueError(f"{flag} must be a checkpoint step >= 0, got {value}")


def quickstart_command(args: argparse.Namespace) -> int:
    """``jaxunlearn quickstart``; an --out holding the same quickstart is left as it is."""
    from jaxunlearn.cli_workdirs import differences, read_json, refuse_other_kind
    from jaxunlearn.config import apply_overrides
    from jaxunlearn.pipeline import config_record
    from jaxunlearn.quickstart import QuickstartConfig, run_quickstart

    config = apply_overrides(QuickstartConfig(), args.overrides)
    refuse_other_kind(args.out, "--out", "quickstart")
    results = os.path.join(args.out, "results.json")
    if os.path.exists(results):
        saved = read_json(results).get("metadata", {}).get("config")
        # as it reads back from JSON (tuples become lists); a field the saved record predates
        # counts as the same when it is None here (a newer optional setting left unset)
        current = json.loads(json.dumps(config_record(config), default=str))
        changed = differences(saved or {}, current)
        if saved is None or changed:
            raise ValueError(f"--out {args.out} holds a quickstart with another config "
                             f"({changed or 'no config recorded'}); use a new "
                             "--out (nothing was changed)")
        print(f"{args.out} already holds this quickstart; nothing was changed ({results}; "
              "give another --out to run it again)")
        return 0
    run_quickstart(config, args.out, progress=not args.no_progress)
    return 0


def _load_config(path: str):
    """``get_config()`` of a Python config file; a file that cannot be run names itself."""
    from jaxunlearn.config import load_config_file

    if os.path.isfile(path) and not path.endswith(".py"):
        raise ValueError(f"--config {path}: not a Python file; give a .py file whose "
                         "get_config() returns an ExperimentConfig")
    try:
        return load_config_file(path)
    except (FileNotFoundError, ValueError, TypeError):
        raise
    except Exception as error:  # the file's own code failed (a syntax error, a bad import, ...)
        raise ValueError(f"--config {path}: running it failed ({type(error).__name__}: "
                         f"{error}); fix the file") from error


def _train_config(args: argparse.Namespace):
    """The config to train and, with --from, the original's split file."""
    from jaxunlearn.cli_workdirs import config_from_record, read_run_record, require_train_workdir
    from jaxunlearn.config import ExperimentConfig, apply_overrides

    if (args.config is None) == (args.source is None):
        raise ValueError("give --config FILE (to train an original) or --from WORKDIR (to train "
                         "on that original's split), exactly one of them")
    if args.config is not None:
        config = apply_overrides(_load_config(args.config), args.overrides)
        if not isinstance(config, ExperimentConfig):
            raise TypeError(f"--config {args.config}: get_config() must return an "
                            f"ExperimentConfig, got {type(config).__name__}")
        return config, None
    require_train_workdir(args.source, "--from")
    if os.path.abspath(args.source) == os.path.abspath(args.workdir):
        raise ValueError(f"--from and --workdir are both {args.workdir}; give the reference a "
                         "new --workdir")
    for override in args.overrides:
        if not override.startswith(("train.", "data.data_dir=")):
            raise ValueError(f"--set {override}: with --from the data, split and model are "
                             f"{args.source}'s; only train.* (and data.data_dir) can be set")
    record = read_run_record(args.source)
    config = config_from_record(record, os.path.join(args.source, "run.json"))
    return apply_overrides(config, args.overrides), os.path.join(args.source, "splits.json")


def train_command(args: argparse.Namespace) -> int:
    from jaxunlearn.cli_workdirs import (
        config_from_record, differences, read_run_record, refuse_other_kind,
    )
    from jaxunlearn.config import to_dict
    from jaxunlearn.data import Splits
    from jaxunlearn.pipeline import init_variables, prepare, with_restore_hint, write_json
    from jaxunlearn.report import environment_info
    from jaxunlearn.train import train
    from jaxunlearn.train.checkpoint import Checkpointer, CheckpointError

    check_step(args.restore_step, "--restore-step")
    config, source_splits = _train_config(args)
    refuse_other_kind(args.workdir, "--workdir", "train")
    record = {"config": to_dict(config), "subset": args.subset}
    if args.source is not None:
        record["from"] = os.path.abspath(args.source)
    record_path = os.path.join(args.workdir, "run.json")
    if os.path.exists(record_path):
        saved = read_run_record(args.workdir)
        try:  # fields added since it was written compare at their defaults
            saved = {**saved, "config": to_dict(config_from_record(saved, record_path))}
        except ValueError:
            pass  # not rebuildable: it differs, and differences() says where
        if saved != record:
            raise ValueError(f"--workdir {args.workdir} holds another run ("
                             f"{differences(saved, record)}); use a new --workdir or the same "
                             "settings (nothing was changed)")
    if args.restore_step is not None and not Checkpointer(
            os.path.join(args.workdir, "checkpoints")).all_steps():
        raise ValueError(f"--restore-step {args.restore_step}: --workdir {args.workdir} has no "
                         "checkpoints yet; drop --restore-step to start the run")
    setup = prepare(config)
    if source_splits is not None:  # the original's split, as it saved it
        setup.splits = Splits.load(source_splits, setup.splits.train, setup.splits.test,
                                   public_source=setup.public_source)
    dataset = setup.splits.train if args.subset == "full" else setup.splits.retain_set
    splits_path = os.path.join(args.workdir, "splits.json")
    if not os.path.exists(record_path):  # a rerun leaves what it finds (it matched above)
        write_json(record_path, record)
    if not os.path.exists(splits_path):
        setup.splits.save(splits_path)
    try:
        result = train(
            setup.model_fns.apply, init_variables(setup, config.train.seed), dataset,
            config.train, workdir=args.workdir, restore_step=args.restore_step,
            progress=not args.no_progress, description=f"train ({args.subset})",
            module=setup.module, **training_target(setup),
        )
    except CheckpointError as error:
        raise CheckpointError(with_restore_hint(error, f"--workdir {args.workdir}",
                                                "--restore-step")) from error
    metrics_path = os.path.join(args.workdir, "metrics.json")
    if result.resumed_from is not None:
        if result.resumed_from >= result.total_steps and os.path.exists(metrics_path):
            print(f"{args.workdir} already holds this run, trained to step {result.resumed_from} "
                  f"of {result.total_steps}; nothing was changed ({metrics_path})")
            return 0
        print(f"resumed from step {result.resumed_from} of {result.total_steps} "
              f"({args.workdir}/checkpoints)")
    metrics = split_metrics(setup, result.variables)
    summary = {
        "metrics": metrics, "history": result.history, "seconds": result.seconds,
        "resumed_from": result.resumed_from, "environment": environment_info(), **record,
    }
    write_json(metrics_path, summary)
    summary_text = (
        f"UA {metrics['UA']:.2f}  RA {metrics['RA']:.2f}  TA {metrics['TA']:.2f}"
        if "UA" in metrics else "reconstruction error forget {forget_error:.4f}  retain "
        "{retain_error:.4f}  test {test_error:.4f}".format(**metrics))
    print(
        f"trained {config.model.name} on {config.data.name} ({args.subset}, {len(dataset)} examples): "
        f"{summary_text}  ({result.seconds:.1f} s) -> {args.workdir}"
    )
    return 0


def training_target(setup) -> dict:
    """``train`` arguments of an image-to-image model (reconstruction loss on the inputs), or {}."""
    from jaxunlearn.models import is_image_to_image

    if not is_image_to_image(setup.module):
        return {}
    from jaxunlearn.losses import reconstruction_mse

    return {"loss_fn": reconstruction_mse, "targets": "inputs"}


def split_metrics(setup, variables) -> dict:
    """UA/RA/TA for a classifier; reconstruction errors with OOD and membership scores for an
    image-to-image model (:func:`jaxunlearn.evaluate.generative.evaluate_reconstruction`)."""
    if training_target(setup):
        from jaxunlearn.evaluate.generative import evaluate_reconstruction

        return evaluate_reconstruction(setup.model_fns.apply, variables, setup.splits)
    from jaxunlearn.evaluate import evaluate_splits

    return evaluate_splits(setup.model_fns.apply, variables, setup.splits)


