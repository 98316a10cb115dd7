"""``jaxunlearn <command>``: quickstart, train, unlearn, evaluate, report.

Examples::

    jaxunlearn quickstart --out quickstart_out
    jaxunlearn train --config experiments/configs/digits_mlp.py --workdir runs/digits \
        --set train.learning_rate=0.05 --set data.forget_classes=3
    jaxunlearn unlearn --from runs/digits --method random_label --addon prob_mask \
        --hp learning_rate=0.001 --hp momentum=0 --out runs/digits_rl_prob
    jaxunlearn unlearn --from runs/digits_logistic --method alu --public 0.5 --epsilon 1.0 \
        --hp sigma=0.05 --hp weight_decay=0.01 --out runs/digits_alu
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
    parser.add_argument(
        "--distributed", action="store_true",
        help="join a multi-process run with jax.distributed (processes from JAXUNLEARN_* "
             "variables or SLURM/Open MPI; see docs/distributed.md)",
    )


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
    unlearn.add_argument(
        "--public", default=None, metavar="FRACTION|key=value,...",
        help="public data for methods that use it (alu), drawn from the held-out test set: a "
             "fraction, or fraction=/size=, skew= (class skew), corruption= (noise std)")
    unlearn.add_argument(
        "--epsilon", type=float, default=None, metavar="TARGET",
        help="pick the number of unlearning steps K from the method's certificate for this "
             "target epsilon (alu; full-batch PNGD) and print the certificate")
    _common(unlearn)

    evaluate = commands.add_parser(
        "evaluate", help="compare unlearned models with the original and the retrained one")
    evaluate.add_argument("--original", required=True, help="`jaxunlearn train` workdir")
    evaluate.add_argument("--retrained", required=True,
                          help="`jaxunlearn train --subset retain` workdir (the reference)")
    evaluate.add_argument("--unlearned", action="append", default=[], required=True,
                          help="`jaxunlearn unlearn` output directory (repeatable)")
    evaluate.add_argument("--out", required=True,
                          help="where the table (md/csv/json) and the plots (bars, ROC) go")
    _common(evaluate)

    report = commands.add_parser(
        "report", help="combine result JSONs into one table and plots per experiment")
    report.add_argument("results", nargs="+", metavar="RESULTS",
                        help="result JSON files (as evaluate/quickstart write them) or "
                             "directories holding them")
    report.add_argument("--out", required=True, help="where the tables and plots go")
    report.add_argument("--metrics", default=None, metavar="M1,M2,...",
                        help="table columns and bar panels, e.g. UA,RA,TA,MIA (default: the "
                             "standard metrics present)")
    report.add_argument("--x", default=None, metavar="KEY",
                        help="trade-off plot: x key (dotted for nested fields, e.g. "
                             "hyperparams.sigma); needs --y")
    report.add_argument("--y", default=None, metavar="KEY", help="trade-off plot: y key")
    report.add_argument("--group", default=None, metavar="KEY",
                        help="trade-off plot: one line per value of KEY (default method)")
    report.add_argument("--annotate", default=None, metavar="KEY",
                        help="trade-off plot: write KEY's value at each point (e.g. epsilon)")
    report.add_argument("--xlog", action="store_true", help="trade-off plot: log x axis")
    report.add_argument("--ylog", action="store_true", help="trade-off plot: log y axis")
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
    splits_path = os.path.join(args.workdir, "splits.json")
    if not os.path.exists(record_path):  # a rerun leaves what it finds (it matched above)
        write_json(record_path, record)
    if not os.path.exists(splits_path):
        setup.splits.save(splits_path)
    result = train(
        setup.model_fns.apply, init_variables(setup, config.train.seed), dataset, config.train,
        workdir=args.workdir, restore_step=args.restore_step, progress=not args.no_progress,
        description=f"train ({args.subset})", module=setup.module, **_training_target(setup),
    )
    metrics_path = os.path.join(args.workdir, "metrics.json")
    if result.resumed_from is not None:
        if result.resumed_from >= result.total_steps and os.path.exists(metrics_path):
            print(f"{args.workdir} already holds this run, trained to step {result.resumed_from} "
                  f"of {result.total_steps}; nothing was changed ({metrics_path})")
            return 0
        print(f"resumed from step {result.resumed_from} of {result.total_steps} "
              f"({args.workdir}/checkpoints)")
    metrics = _split_metrics(setup, result.variables)
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


_PUBLIC_KEYS = {"fraction": "public_fraction", "size": "public_size",
                "skew": "public_class_skew", "corruption": "public_corruption"}


def _check_public_and_epsilon(args: argparse.Namespace, method) -> dict | None:
    """Checks --public and --epsilon before anything loads; returns make_splits' public kwargs."""
    if args.epsilon is not None:
        if getattr(method, "certify", None) is None:
            raise ValueError(f"--epsilon: method {method.name!r} carries no unlearning "
                             "certificate; use --method alu (Langevin unlearning with per-example "
                             "clipping; without --public it is the symmetric method)")
        if args.steps is not None or args.epochs is not None:
            raise ValueError("--epsilon picks the number of steps; drop --steps/--epochs")
        if not args.epsilon > 0:
            raise ValueError(f"--epsilon must be > 0, got {args.epsilon}")
    if args.public is None:
        return None
    if not getattr(method, "uses_public", False):
        raise ValueError(f"--public: method {method.name!r} does not use public data (alu does)")
    request = {}
    for item in args.public.split(","):
        key, equals, text = item.partition("=")
        if not equals:
            key, text = "fraction", item
        if key not in _PUBLIC_KEYS:
            raise ValueError(f"--public: unknown key {key!r}; use {sorted(_PUBLIC_KEYS)}")
        try:
            request[_PUBLIC_KEYS[key]] = int(text) if key == "size" else float(text)
        except ValueError:
            raise ValueError(f"--public: {key}={text!r} is not a number") from None
    if ("public_fraction" in request) == ("public_size" in request):
        raise ValueError("--public: give a fraction or size= (exactly one)")
    return request


def _with_public(config, splits, request: dict):
    """The trained run's splits (same forget set) with a public set drawn from the test set."""
    from jaxunlearn.data import load_dataset, make_splits

    kwargs = {"data_dir": config.data.data_dir} if config.data.data_dir else {}
    _, test_set = load_dataset(config.data.name, **kwargs)
    return make_splits(splits.train, test_set, forget_indices=splits.forget_indices,
                       seed=config.data.seed, **request)


def _certified_steps(method, hyperparams: dict, splits, epsilon: float) -> tuple[int, dict]:
    """K from the method's certificate for ``epsilon``; full batch, as the certificate assumes."""
    num_public = 0 if splits.public is None else len(splits.public)
    size = len(splits.retain_indices) + num_public
    if hyperparams.get("batch_size", size) < size:
        raise ValueError(f"--epsilon certifies full-batch noisy GD: drop --hp batch_size or set "
                         f"it >= {size} (retain + public)")
    hyperparams["batch_size"] = size
    certificate = method.certify(
        method.hyperparameters(hyperparams), num_private=len(splits.train),
        num_public=num_public, num_deleted=len(splits.forget_indices), target_epsilon=epsilon)
    certificate = {key: value.item() if hasattr(value, "item") else value  # NumPy scalars
                   for key, value in certificate.items()}
    steps = certificate["steps"]
    print(f"certificate: K = {steps} full-batch steps give ({certificate['epsilon']:.4g}, "
          f"{certificate['delta']:.3g})-unlearning of {len(splits.forget_indices)} of "
          f"{len(splits.train)} private examples with {num_public} public ones (alpha = "
          f"{certificate['alpha']:.4g}, Renyi {certificate['renyi']:.4g}, eps0 "
          f"{certificate['eps0_at_alpha']:.4g}, sensitivity {certificate['sensitivity']:.3g}); it "
          "holds for an m-strongly convex, (1/4 + m)-smooth loss (logistic regression on unit-norm "
          "features) whose model was learned by the same dynamics")
    if steps == 0:
        print("certificate: K = 0 already meets the target; running 1 step")
    return max(steps, 1), certificate


_RECONSTRUCTION_COLUMNS = ("method", "forget_error", "retain_error", "test_error", "ood_auroc",
                           "mia_auc", "seconds")
_RECONSTRUCTION_GAP = ("forget_error", "retain_error", "test_error")


def _training_target(setup) -> dict:
    """``train`` arguments of an image-to-image model (reconstruction loss on the inputs), or {}."""
    from jaxunlearn.models import is_image_to_image

    if not is_image_to_image(setup.module):
        return {}
    from jaxunlearn.losses import reconstruction_mse

    return {"loss_fn": reconstruction_mse, "targets": "inputs"}


def _split_metrics(setup, variables) -> dict:
    """UA/RA/TA for a classifier; reconstruction errors with OOD and membership scores for an
    image-to-image model (:func:`jaxunlearn.evaluate.generative.evaluate_reconstruction`)."""
    if _training_target(setup):
        from jaxunlearn.evaluate.generative import evaluate_reconstruction

        return evaluate_reconstruction(setup.model_fns.apply, variables, setup.splits)
    from jaxunlearn.evaluate import evaluate_splits

    return evaluate_splits(setup.model_fns.apply, variables, setup.splits)


def _unlearn(args: argparse.Namespace) -> int:
    from jaxunlearn.evaluate import gap_to_reference
    from jaxunlearn.methods import get_method, unlearn
    from jaxunlearn.methods.addons import resolve_addons
    from jaxunlearn.pipeline import load_trained, write_json
    from jaxunlearn.report import environment_info, format_markdown_table
    from jaxunlearn.train import save_variables

    method = get_method(args.method)
    hyperparams = _parse_hyperparams(args.hyperparams)
    method.hyperparameters(hyperparams)  # unknown or bad values fail before anything runs
    resolve_addons(args.addons, method, None, require_module=False)
    public_request = _check_public_and_epsilon(args, method)
    config, setup, variables = load_trained(args.source, args.overrides)
    original_bound = getattr(config.train, "spectral_max_norm", 0) or 0
    if ("spectral_max_norm" in method.hyperparameters() and original_bound
            and "spectral_max_norm" not in hyperparams):
        # AMUN on a FastClip original keeps clipping at the original's bound (the authors' recipe)
        hyperparams["spectral_max_norm"] = float(original_bound)
        print(f"{method.name}: the original was trained with spectral clipping at "
              f"{original_bound:g}; unlearning keeps clipping at that bound "
              "(--hp spectral_max_norm=0 turns it off)")
    if public_request is not None:
        setup.splits = _with_public(config, setup.splits, public_request)
    steps, certificate = args.steps, None
    if args.epsilon is not None:
        steps, certificate = _certified_steps(method, hyperparams, setup.splits, args.epsilon)
    result = unlearn(
        setup.model_fns, variables, setup.splits, method, steps=steps, epochs=args.epochs,
        addons=args.addons, key=args.key, hyperparams=hyperparams, module=setup.module,
        progress=not args.no_progress, workdir=args.out,
    )
    image_to_image = bool(_training_target(setup))
    row = {"method": "+".join([method.name, *args.addons]),
           **_split_metrics(setup, result.variables),
           "seconds": result.log["seconds"]}
    columns = (list(_RECONSTRUCTION_COLUMNS) if image_to_image
               else ["method", "UA", "RA", "TA", "forget_loss", "seconds"])
    if args.reference:
        _, _, reference = load_trained(args.reference, args.overrides)
        row["gap"] = gap_to_reference(row, _split_metrics(setup, reference),
                                      *((_RECONSTRUCTION_GAP,) if image_to_image else ()))
        columns.insert(-1, "gap")
    save_variables(os.path.join(args.out, "variables"), result.variables)
    write_json(os.path.join(args.out, "metrics.json"), {
        "row": row, "log": result.log, "source": args.source, "reference": args.reference,
        "public": args.public, "certificate": certificate, "environment": environment_info()})
    print(format_markdown_table([row], columns, digits=3))
    print(f"wrote {os.path.join(args.out, 'metrics.json')}, the unlearned variables and "
          f"checkpoints under {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from jaxunlearn.cli_evaluate import evaluate_command

    return evaluate_command(args)


def _report(args: argparse.Namespace) -> int:
    from jaxunlearn.cli_evaluate import report_command

    return report_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxunlearn`` console script."""
    from jaxunlearn.train.checkpoint import CheckpointError

    args = _build_parser().parse_args(argv)
    if getattr(args, "distributed", False):  # before anything touches the devices
        from jaxunlearn.distributed import initialize_command_line

        initialize_command_line(args.command)
    handlers = {"quickstart": _quickstart, "train": _train, "unlearn": _unlearn,
                "evaluate": _evaluate, "report": _report}
    try:
        return handlers[args.command](args)
    except (ValueError, TypeError, FileNotFoundError, CheckpointError) as error:
        print(f"jaxunlearn {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
