"""The ``unlearn`` command of ``jaxunlearn`` (parser in :mod:`jaxunlearn.cli`)."""

from __future__ import annotations

import argparse
import os

from jaxunlearn.cli_train import check_step, only_data_dir, split_metrics, training_target


def _check_public_and_epsilon(args: argparse.Namespace, method) -> dict | None:
    """Checks --public and --epsilon before anything loads; returns make_splits' public kwargs
    (the method reads its own public-set option, :meth:`~jaxunlearn.methods.alu.ALUMethod.
    public_request`)."""
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
    return method.public_request(args.public, "--public")


def _with_public(config, splits, request: dict):
    """The trained run's splits (same forget set) with a public set drawn from the test set."""
    from jaxunlearn.data import load_dataset, make_splits

    kwargs = {"data_dir": config.data.data_dir} if config.data.data_dir else {}
    _, test_set = load_dataset(config.data.name, **kwargs)
    return make_splits(splits.train, test_set, forget_indices=splits.forget_indices,
                       seed=config.data.seed, **request)


def _certified_steps(method, hyperparams: dict, splits, epsilon: float) -> tuple[int, dict]:
    """K from the method's certificate for ``epsilon`` (full batch), printed."""
    from jaxunlearn.certify import describe_certificate

    steps, certificate, resolved = method.certified_steps(hyperparams, splits, epsilon)
    hyperparams.update(resolved)
    num_public = 0 if splits.public is None else len(splits.public)
    print("certificate: " + describe_certificate(
        certificate, num_deleted=len(splits.forget_indices), num_private=len(splits.train),
        num_public=num_public))
    if certificate["steps"] == 0:
        print("certificate: K = 0 already meets the target; running 1 step")
    return steps, certificate


RECONSTRUCTION_COLUMNS = ["method", "forget_error", "retain_error", "test_error", "ood_auroc",
                          "mia_auc", "seconds"]
_REFERENCE = "(reference)"  # the retrained model's name in the rows (no method has it)


def _request(args: argparse.Namespace, hyperparams: dict) -> dict:
    """What identifies an unlearning run: recorded in --out/unlearn.json when it finishes."""
    def absolute(path):
        return None if path is None else os.path.abspath(path)

    return {"command": "unlearn", "from": absolute(args.source), "restore_step": args.restore_step,
            "method": args.method, "addons": list(args.addons), "hyperparams": dict(hyperparams),
            "steps": args.steps, "epochs": args.epochs, "key": args.key,
            "public": args.public, "epsilon": args.epsilon, "reference": absolute(args.reference),
            "reference_step": args.reference_step, "overrides": list(args.overrides)}


def _check_out(args: argparse.Namespace, request: dict) -> bool:
    """Whether --out already holds this finished run; refuses one that holds another."""
    from jaxunlearn.cli_workdirs import UNLEARN_RECORD, differences, read_json, refuse_other_kind

    refuse_other_kind(args.out, "--out", "unlearn", allowed=("checkpoints",))
    record_path = os.path.join(args.out, UNLEARN_RECORD)
    if not os.path.exists(record_path):
        if os.path.exists(os.path.join(args.out, "variables")):
            raise ValueError(f"--out {args.out} holds a `jaxunlearn unlearn` output without "
                             f"{UNLEARN_RECORD} (an earlier version's); use a new --out "
                             "(nothing was changed)")
        return False
    saved = read_json(record_path)
    if saved != request:
        raise ValueError(f"--out {args.out} holds another unlearning run ("
                         f"{differences(saved, request)}); use a new --out (nothing was changed)")
    return os.path.exists(os.path.join(args.out, "metrics.json"))


def _rows_against_reference(setup, variables: dict, reference: dict, label: str):
    """The unlearned model's row with MIA and the gap (or, for an image-to-image model,
    ood_gap and to_retrain) against the retrained reference, and its table columns."""
    if training_target(setup):
        from jaxunlearn.cli_evaluate import reconstruction_rows

        row = reconstruction_rows(setup, {label: variables, _REFERENCE: reference},
                                  reference=_REFERENCE)[0]
        row.pop("roc")
        return row, ["method", "forget_error", "retain_error", "test_error", "ood_auroc",
                     "ood_gap", "to_retrain", "seconds"]
    from jaxunlearn.evaluate import evaluate_models

    row = evaluate_models(setup.model_fns.apply, {label: variables, _REFERENCE: reference},
                          setup.splits, reference=_REFERENCE)[0]
    return row, ["method", "UA", "RA", "TA", "MIA", "forget_loss", "gap", "seconds"]


def unlearn_command(args: argparse.Namespace) -> int:
    """``jaxunlearn unlearn``: restore the original, unlearn, measure, write --out."""
    from jaxunlearn.cli_workdirs import (
        UNLEARN_RECORD,
        check_reference,
        read_run_record,
        require_train_workdir,
    )
    from jaxunlearn.methods import get_method, unlearn
    from jaxunlearn.methods.addons import resolve_addons
    from jaxunlearn.pipeline import load_trained, write_json
    from jaxunlearn.report import environment_info, format_markdown_table
    from jaxunlearn.train import save_variables
    from jaxunlearn.train.checkpoint import CheckpointError

    only_data_dir(args.overrides, "unlearn")
    for flag, value in (("--steps", args.steps), ("--epochs", args.epochs)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}")
    check_step(args.restore_step, "--restore-step")
    check_step(args.reference_step, "--reference-step")
    if args.reference_step is not None and args.reference is None:
        raise ValueError("--reference-step needs --reference")
    method = get_method(args.method)
    try:  # parsed by the config parser and validated once; bad values fail before anything runs
        hyperparams = method.parse_hyperparameters(args.hyperparams)
    except (ValueError, TypeError) as error:
        # "--hp learning_rate: expected a number…", "--hp 'lr' must look like key=value"
        raise type(error)(f"--hp {str(error).removeprefix('hyperparams: ')}") from None
    resolve_addons(args.addons, method, None, require_module=False)
    public_request = _check_public_and_epsilon(args, method)
    require_train_workdir(args.source, "--from")
    if args.reference is not None:
        require_train_workdir(args.reference, "--reference")
    request = _request(args, hyperparams)
    if _check_out(args, request):
        print(f"{args.out} already holds this run; nothing was changed "
              f"({os.path.join(args.out, 'metrics.json')})")
        return 0
    config, setup, variables = load_trained(args.source, args.overrides, step=args.restore_step)
    reference = None
    if args.reference is not None:
        _, reference_setup, reference = load_trained(
            args.reference, args.overrides, step=args.reference_step, flag="--reference",
            step_flag="--reference-step")
        check_reference((args.source, read_run_record(args.source), setup.splits),
                        (args.reference, read_run_record(args.reference),
                         reference_setup.splits), ("--from", "--reference"))
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
    try:
        result = unlearn(
            setup.model_fns, variables, setup.splits, method, steps=steps, epochs=args.epochs,
            addons=args.addons, key=args.key, hyperparams=method.hyper(hyperparams),
            module=setup.module,
            progress=not args.no_progress, workdir=args.out,
        )
    except CheckpointError as error:
        raise CheckpointError(f"--out {args.out}: {getattr(error, 'problem', error)}; give a new "
                              "--out (nothing was changed)") from error
    if result.log.get("resumed_from") is not None:
        print(f"resumed from step {result.log['resumed_from']} of {result.log['steps']} "
              f"({args.out}/checkpoints)")
    label = "+".join([method.name, *args.addons])
    if reference is None:
        row = {"method": label, **split_metrics(setup, result.variables)}
        columns = (list(RECONSTRUCTION_COLUMNS) if training_target(setup)
                   else ["method", "UA", "RA", "TA", "forget_loss", "seconds"])
    else:
        row, columns = _rows_against_reference(setup, result.variables, reference, label)
    row["seconds"] = result.log["seconds"]
    save_variables(os.path.join(args.out, "variables"), result.variables)
    write_json(os.path.join(args.out, "metrics.json"), {
        "row": row, "columns": columns, "log": result.log, "source": args.source,
        "reference": args.reference, "public": args.public, "certificate": certificate,
        "environment": environment_info()})
    write_json(os.path.join(args.out, UNLEARN_RECORD), request)  # last: the run is complete
    print(format_markdown_table([row], columns, digits=3))
    print(f"wrote {os.path.join(args.out, 'metrics.json')}, the unlearned variables and "
          f"checkpoints under {args.out}")
    return 0
