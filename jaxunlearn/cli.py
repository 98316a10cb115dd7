"""``jaxunlearn <command>``: quickstart, train.

Examples::

    jaxunlearn quickstart --out quickstart_out
    jaxunlearn train --config experiments/configs/digits_mlp.py --workdir runs/digits \
        --set train.learning_rate=0.05 --set data.forget_classes=3
    jaxunlearn unlearn --from runs/digits --method random_label --addon prob_mask \
        --hp learning_rate=0.001 --hp momentum=0 --out runs/digits_rl_prob
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
        help="override a config field, e.g. --set train.learning_rate=0.05 (repeatable)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxunlearn", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    quick = commands.add_parser(
        "quickstart", help="train, retrain, unlearn (FT, GA) and evaluate on digits in seconds"
    )
    quick.add_argument("--out", default="quickstart_out", help="output directory")
    _common(quick)

    train = commands.add_parser("train", help="train and checkpoint a model (resumes if possible)")
    train.add_argument("--config", required=True, help="Python file with get_config()")
    train.add_argument("--workdir", required=True, help="where checkpoints and results go")
    train.add_argument(
        "--subset", choices=("full", "retain"), default="full",
        help="train the original model on the full training set, or the reference on the retain set",
    )
    train.add_argument("--restore-step", type=int, default=None, help="resume from this step")
    _common(train)

    unlearn = commands.add_parser("unlearn", help="unlearn the forget set from a trained model")
    unlearn.add_argument("--from", dest="source", required=True,
                         help="workdir of `jaxunlearn train` holding the original model")
    unlearn.add_argument("--method", required=True, help="a name from jaxunlearn.methods.METHODS")
    unlearn.add_argument("--addon", dest="addons", action="append", default=[],
                         metavar="NAME[:key=value,...]", help="add-on (repeatable), e.g. prob_mask")
    unlearn.add_argument("--hp", dest="hyperparams", action="append", default=[],
                         metavar="KEY=VALUE", help="method hyperparameter override (repeatable)")
    unlearn.add_argument("--steps", type=int, default=None)
    unlearn.add_argument("--epochs", type=int, default=None)
    unlearn.add_argument("--key", type=int, default=0, help="seed of the unlearning run")
    unlearn.add_argument("--reference", default=None,
                         help="workdir of the retrained reference (`train --subset retain`) for the gap")
    unlearn.add_argument("--out", required=True, help="where the checkpoint and metrics go")
    _common(unlearn)

    evaluate = commands.add_parser(
        "evaluate", help="compare unlearned models with the original and the retrained one")
    evaluate.add_argument("--original", required=True, help="`jaxunlearn train` workdir")
    evaluate.add_argument("--retrained", required=True,
                          help="`jaxunlearn train --subset retain` workdir (the reference)")
    evaluate.add_argument("--unlearned", action="append", default=[], required=True,
                          help="`jaxunlearn unlearn` output directory (repeatable)")
    evaluate.add_argument("--out", required=True, help="where the table and plot go")
    _common(evaluate)
    return parser


def _parse_hyperparams(items: list[str]) -> dict:
    values = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals:
            raise ValueError(f"--hp {item!r} must look like key=value")
        try:
            values[key] = int(text)
        except ValueError:
            try:
                values[key] = float(text)
            except ValueError:
                values[key] = {"true": True, "false": False}.get(text.lower(), text)
    return values


def _quickstart(args: argparse.Namespace) -> int:
    from jaxunlearn.config import apply_overrides
    from jaxunlearn.quickstart import QuickstartConfig, run_quickstart

    config = apply_overrides(QuickstartConfig(), args.overrides)
    run_quickstart(config, args.out, progress=not args.no_progress)
    return 0


def _train(args: argparse.Namespace) -> int:
    from jaxunlearn.config import ExperimentConfig, apply_overrides, load_config_file, to_dict
    from jaxunlearn.evaluate import evaluate_splits
    from jaxunlearn.pipeline import init_variables, prepare, write_json
    from jaxunlearn.report import environment_info
    from jaxunlearn.train import train

    config = apply_overrides(load_config_file(args.config), args.overrides)
    if not isinstance(config, ExperimentConfig):
        raise TypeError(f"--config must return an ExperimentConfig, got {type(config).__name__}")
    record = {"config": to_dict(config), "subset": args.subset}
    record_path = os.path.join(args.workdir, "run.json")
    if os.path.exists(record_path):
        with open(record_path) as handle:
            saved = json.load(handle)
        if saved != record:
            raise ValueError(
                f"--workdir {args.workdir} holds a run with a different config or subset; "
                "use a new --workdir (nothing was changed)"
            )
    setup = prepare(config)
    dataset = setup.splits.train if args.subset == "full" else setup.splits.retain_set
    write_json(record_path, record)
    setup.splits.save(os.path.join(args.workdir, "splits.json"))
    result = train(
        setup.model_fns.apply, init_variables(setup, config.train.seed), dataset, config.train,
        workdir=args.workdir, restore_step=args.restore_step, progress=not args.no_progress,
        description=f"train ({args.subset})", module=setup.module,
    )
    metrics = evaluate_splits(setup.model_fns.apply, result.variables, setup.splits)
    summary = {
        "metrics": metrics, "history": result.history, "seconds": result.seconds,
        "resumed_from": result.resumed_from, "environment": environment_info(), **record,
    }
    write_json(os.path.join(args.workdir, "metrics.json"), summary)
    print(
        f"trained {config.model.name} on {config.data.name} ({args.subset}, {len(dataset)} examples): "
        f"UA {metrics['UA']:.2f}  RA {metrics['RA']:.2f}  TA {metrics['TA']:.2f}  "
        f"({result.seconds:.1f} s) -> {args.workdir}"
    )
    return 0


def _unlearn(args: argparse.Namespace) -> int:
    from jaxunlearn.evaluate import evaluate_splits, gap_to_reference
    from jaxunlearn.methods import get_method, unlearn
    from jaxunlearn.methods.addons import resolve_addons
    from jaxunlearn.pipeline import load_trained, write_json
    from jaxunlearn.report import environment_info, format_markdown_table
    from jaxunlearn.train import save_variables

    method = get_method(args.method)
    hyperparams = _parse_hyperparams(args.hyperparams)
    method.hyperparameters(hyperparams)  # unknown or bad values fail before anything runs
    resolve_addons(args.addons, method, None, require_module=False)
    config, setup, variables = load_trained(args.source, args.overrides)
    result = unlearn(
        setup.model_fns, variables, setup.splits, method, steps=args.steps, epochs=args.epochs,
        addons=args.addons, key=args.key, hyperparams=hyperparams, module=setup.module,
        progress=not args.no_progress, workdir=args.out,
    )
    row = {"method": "+".join([method.name, *args.addons]),
           **evaluate_splits(setup.model_fns.apply, result.variables, setup.splits),
           "seconds": result.log["seconds"]}
    columns = ["method", "UA", "RA", "TA", "forget_loss", "seconds"]
    if args.reference:
        _, _, reference = load_trained(args.reference, args.overrides)
        row["gap"] = gap_to_reference(
            row, evaluate_splits(setup.model_fns.apply, reference, setup.splits))
        columns.insert(-1, "gap")
    save_variables(os.path.join(args.out, "variables"), result.variables)
    write_json(os.path.join(args.out, "metrics.json"), {
        "row": row, "log": result.log, "source": args.source, "reference": args.reference,
        "environment": environment_info()})
    print(format_markdown_table([row], columns, digits=3))
    print(f"wrote {os.path.join(args.out, 'metrics.json')}, the unlearned variables and "
          f"checkpoints under {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from jaxunlearn.config import to_dict
    from jaxunlearn.evaluate.suite import evaluate_models
    from jaxunlearn.pipeline import load_trained
    from jaxunlearn.report import bar_chart, environment_info, write_table
    from jaxunlearn.train import load_variables

    for directory in args.unlearned:
        if not os.path.isdir(os.path.join(directory, "variables")):
            raise FileNotFoundError(f"--unlearned {directory}: no saved variables; is it the "
                                    "--out of `jaxunlearn unlearn`?")
    config, setup, original = load_trained(args.original, args.overrides)
    retrained_config, _, retrained = load_trained(args.retrained, args.overrides)
    if retrained_config.data != config.data or retrained_config.model != config.model:
        raise ValueError("--retrained was trained on other data or another model than --original")
    models = {"original": original, "retrain": retrained}
    for directory in args.unlearned:
        with open(os.path.join(directory, "metrics.json")) as handle:
            name = json.load(handle)["row"]["method"]
        models[name] = load_variables(os.path.join(directory, "variables"), original)
    rows = evaluate_models(setup.model_fns.apply, models, setup.splits)
    columns = ["method", "UA", "RA", "TA", "MIA", "agreement", "tv_forget", "forget_loss", "gap"]
    paths = write_table(rows, columns, args.out, "evaluation", digits=3, metadata={
        "original": args.original, "retrained": args.retrained, "unlearned": args.unlearned,
        "config": to_dict(config), "environment": environment_info()})
    chart = bar_chart(rows, ["UA", "RA", "TA", "MIA"], os.path.join(args.out, "evaluation.png"),
                      title="Unlearned vs retrained")
    with open(paths["md"]) as handle:
        print(handle.read().rstrip())
    print(f"wrote {paths['md']}, {paths['json']}, {chart}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxunlearn`` console script."""
    from jaxunlearn.train.checkpoint import CheckpointError

    args = _build_parser().parse_args(argv)
    handlers = {"quickstart": _quickstart, "train": _train, "unlearn": _unlearn,
                "evaluate": _evaluate}
    try:
        return handlers[args.command](args)
    except (ValueError, TypeError, FileNotFoundError, CheckpointError) as error:
        print(f"jaxunlearn {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
