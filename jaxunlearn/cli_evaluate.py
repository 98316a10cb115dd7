"""The ``evaluate`` and ``report`` commands of ``jaxunlearn`` (parsers in :mod:`jaxunlearn.cli`).

``evaluate`` puts the original, the retrained and every unlearned model side by side (UA / RA /
TA / MIA-efficacy / agreement / TV distance / gap, and a threshold attack's ROC) — or, for an
image-to-image model, the reconstruction errors on forget / retain / test, the OOD score of the
forget set, its distance to the retrained model's and the reconstruction-error attack's ROC;
``report`` combines result JSONs into one table and plots per experiment.
"""

from __future__ import annotations

import argparse
import os


def attack_rocs(setup, models: dict) -> dict[str, dict]:
    """Per model, the ROC of "member iff φ ≥ t" over all t, with φ = z_y − logsumexp_{j≠y} z_j
    on the forget set (members) and the test set (non-members)."""
    import numpy as np

    from jaxunlearn.evaluate import logit_confidence
    from jaxunlearn.report.records import THRESHOLD_ATTACK, roc_record
    from jaxunlearn.train.steps import predict_logits

    forget, test = setup.splits.forget_set, setup.splits.test
    is_member = np.r_[np.ones(len(forget), bool), np.zeros(len(test), bool)]
    rocs = {}
    for name, variables in models.items():
        scores = np.concatenate([
            logit_confidence(predict_logits(setup.model_fns.apply, variables, split.inputs),
                             split.labels) for split in (forget, test)])
        rocs[name] = roc_record(scores, is_member, attack="threshold_logit_confidence",
                                description=THRESHOLD_ATTACK)
    return rocs


BELOW_CHANCE_NOTE = (
    "The retrained model's attack AUC is below 0.5 when a whole class is forgotten: it never "
    "learned that class, so its confidence on the forget set is lower than on test data (mostly "
    "classes it learned), and the attack calls forget examples non-members. An unlearned model "
    "should match the retrained model's curve, not the diagonal.")

RECONSTRUCTION_COLUMNS = ["method", "forget_error", "retain_error", "test_error", "ood_auroc",
                          "ood_gap", "to_retrain", "attack_AUC", "attack_TPR@1%"]
RECONSTRUCTION_DEFINITIONS = {
    "forget_error": "mean per-image squared reconstruction error on the forget set",
    "ood_auroc": "AUROC of the reconstruction error separating forget from test images "
                 "(0.5: the forget set looks like unseen data)",
    "ood_gap": "|ood_auroc − the retrained model's ood_auroc|",
    "to_retrain": "mean per-image squared distance between the model's and the retrained "
                  "model's reconstructions of the forget set",
    "attack_AUC": "threshold membership attack on −reconstruction error, forget (members) vs "
                  "test (non-members)",
}


def reconstruction_rows(setup, models: dict, reference: str = "retrain") -> list[dict]:
    """Per image-to-image model: the reconstruction metrics
    (:func:`jaxunlearn.evaluate.generative.evaluate_reconstruction`), ``ood_gap`` and
    ``to_retrain`` against ``reference``, and the attack's ROC record (``roc``)."""
    import numpy as np

    from jaxunlearn.evaluate.generative import (
        evaluate_reconstruction,
        output_distance,
        reconstruct,
        split_errors,
    )
    from jaxunlearn.report.records import roc_record

    apply_fn, splits = setup.model_fns.apply, setup.splits
    forget = splits.forget_set.inputs
    reference_outputs = reconstruct(apply_fn, models[reference], forget)
    rows = []
    for name, variables in models.items():
        errors = split_errors(apply_fn, variables, splits)
        row = {"method": name, **evaluate_reconstruction(apply_fn, variables, splits,
                                                         errors=errors)}
        is_member = np.r_[np.ones(len(errors["forget"]), bool), np.zeros(len(errors["test"]),
                                                                          bool)]
        row["roc"] = roc_record(-np.concatenate([errors["forget"], errors["test"]]), is_member,
                                attack="threshold_reconstruction_error",
                                description=RECONSTRUCTION_DEFINITIONS["attack_AUC"])
        row["attack_AUC"] = row["roc"]["auc"]
        row["attack_TPR@1%"] = row["roc"]["tpr_at_fpr"]["0.01"]
        row["to_retrain"] = output_distance(reconstruct(apply_fn, variables, forget),
                                            reference_outputs)
        rows.append(row)
    reference_auroc = next(row["ood_auroc"] for row in rows if row["method"] == reference)
    for row in rows:
        row["ood_gap"] = abs(row["ood_auroc"] - reference_auroc)
    return rows


def evaluate_command(args: argparse.Namespace) -> int:
    """``jaxunlearn evaluate``: every model next to the retrained one, with plots."""
    from jaxunlearn.config import to_dict
    from jaxunlearn.evaluate.suite import evaluate_models
    from jaxunlearn.models import is_image_to_image
    from jaxunlearn.pipeline import load_trained
    from jaxunlearn.report import bar_chart, environment_info, roc_plot, write_table
    from jaxunlearn.report.records import EVALUATION_METRIC_DEFINITIONS, THRESHOLD_ATTACK
    from jaxunlearn.train import load_variables

    from jaxunlearn.cli_train import check_step, only_data_dir
    from jaxunlearn.cli_workdirs import (
        KINDS,
        UNLEARN_RECORD,
        check_reference,
        differences,
        read_json,
        read_run_record,
        refuse_other_kind,
        require_train_workdir,
        workdir_kind,
    )

    only_data_dir(args.overrides, "evaluate")
    check_step(args.original_step, "--original-step")
    check_step(args.retrained_step, "--retrained-step")
    require_train_workdir(args.original, "--original")
    require_train_workdir(args.retrained, "--retrained")
    for directory in args.unlearned:
        kind = workdir_kind(directory)
        if kind not in ("unlearn", None, "files"):
            raise ValueError(f"--unlearned {directory} holds {KINDS[kind]}, not a `jaxunlearn "
                             "unlearn` output; give the --out of `jaxunlearn unlearn`")
        if not os.path.isfile(os.path.join(directory, "metrics.json")) or not os.path.isdir(
                os.path.join(directory, "variables")):
            raise FileNotFoundError(f"--unlearned {directory}: no metrics.json and variables; "
                                    "give the --out of a finished `jaxunlearn unlearn`")
        record_path = os.path.join(directory, UNLEARN_RECORD)
        source = read_json(record_path).get("from") if os.path.exists(record_path) else None
        if source is not None and source != os.path.abspath(args.original):
            raise ValueError(f"--unlearned {directory} was unlearned from {source}, not from "
                             f"--original {args.original}; evaluate it with its own original")
    refuse_other_kind(args.out, "--out", "evaluate")
    request = {"original": os.path.abspath(args.original), "original_step": args.original_step,
               "retrained": os.path.abspath(args.retrained),
               "retrained_step": args.retrained_step,
               "unlearned": [os.path.abspath(d) for d in args.unlearned],
               "overrides": list(args.overrides)}
    table_path = os.path.join(args.out, "evaluation.json")
    if os.path.exists(table_path):
        saved = read_json(table_path).get("metadata", {}).get("request")
        if saved == request:
            print(f"{args.out} already holds this evaluation; nothing was changed ({table_path})")
            return 0
        raise ValueError(f"--out {args.out} holds another evaluation ("
                         f"{differences(saved or {}, request)}); use a new --out (nothing was "
                         "changed)")
    config, setup, original = load_trained(args.original, args.overrides,
                                           step=args.original_step, flag="--original",
                                           step_flag="--original-step")
    retrained_config, retrained_setup, retrained = load_trained(
        args.retrained, args.overrides, step=args.retrained_step, flag="--retrained",
        step_flag="--retrained-step")
    check_reference((args.original, read_run_record(args.original), setup.splits),
                    (args.retrained, read_run_record(args.retrained), retrained_setup.splits),
                    ("--original", "--retrained"))
    models = {"original": original, "retrain": retrained}
    unlearned_runs = []
    for directory in args.unlearned:
        record = read_json(os.path.join(directory, "metrics.json"))
        name = record["row"]["method"]
        models[name] = load_variables(os.path.join(directory, "variables"), original)
        log = {k: v for k, v in record.get("log", {}).items() if k != "history"}
        unlearned_runs.append({"directory": os.path.abspath(directory), "method": name,
                               "log": log, **{k: record[k] for k in
                                              ("source", "reference", "public", "certificate")
                                              if k in record}})
    image_to_image = is_image_to_image(setup.module)
    if image_to_image:
        rows = reconstruction_rows(setup, models)
        rocs = {row["method"]: row["roc"] for row in rows}
        columns, bars = RECONSTRUCTION_COLUMNS, ["forget_error", "retain_error", "ood_auroc",
                                                 "attack_AUC"]
        definitions, attack = RECONSTRUCTION_DEFINITIONS, "threshold on −reconstruction error"
    else:
        rows = evaluate_models(setup.model_fns.apply, models, setup.splits)
        rocs = attack_rocs(setup, models)
        for row in rows:
            roc = rocs[row["method"]]
            row["attack_AUC"] = roc["auc"]
            row["attack_TPR@1%"] = roc["tpr_at_fpr"]["0.01"]
            row["attack_TPR@0.1%"] = roc["tpr_at_fpr"]["0.001"]
            row["roc"] = roc
        columns = ["method", "UA", "RA", "TA", "MIA", "agreement", "tv_forget", "gap",
                   "attack_AUC", "attack_TPR@1%", "forget_loss"]
        bars = ["UA", "RA", "TA", "MIA", "attack_AUC"]
        definitions, attack = EVALUATION_METRIC_DEFINITIONS, THRESHOLD_ATTACK
    metadata = {
        "experiment": "evaluate",
        "request": request,
        "columns": columns,
        "original": os.path.abspath(args.original),
        "retrained": os.path.abspath(args.retrained),
        "unlearned": [os.path.abspath(d) for d in args.unlearned],
        "unlearned_runs": unlearned_runs,
        "config": to_dict(config), "retrained_config": to_dict(retrained_config),
        "overrides": list(args.overrides), "splits": setup.splits.summary(),
        "environment": environment_info(),
        "metric_definitions": definitions,
        "image_to_image": image_to_image,
    }
    roc_title = f"MIA per model: {attack}"
    if rocs["retrain"]["auc"] < 0.4 and not image_to_image:
        roc_title += (". The retrained model's AUC below 0.5 is expected: it never learned "
                      "the forgotten class, so it is less confident on it than on test data; "
                      "compare each curve with the retrained model's, not with the diagonal")
        metadata["roc_note"] = BELOW_CHANCE_NOTE
    paths = write_table(rows, columns, args.out, "evaluation", digits=3, metadata=metadata)
    chart = bar_chart(rows, bars,
                      os.path.join(args.out, "evaluation.png"),
                      title="Unlearned vs retrained (dashed line = retrained model)")
    roc = roc_plot({name: rocs[name] for name in models},
                   os.path.join(args.out, "evaluation_roc.png"), title=roc_title)
    with open(paths["md"]) as handle:
        print(handle.read().rstrip())
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['json']}, {chart}, {roc}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """``jaxunlearn report``: combine result JSONs into tables and plots."""
    from jaxunlearn.report import report

    metrics = None
    if args.metrics is not None:
        metrics = [name.strip() for name in args.metrics.split(",") if name.strip()]
        if not metrics:
            raise ValueError("--metrics: name at least one metric, e.g. UA,RA,TA,MIA")
    if (args.x is None) != (args.y is None):
        raise ValueError("--x and --y: give both for a trade-off plot, or neither")
    written = report(args.results, args.out, metrics=metrics, x=args.x, y=args.y,
                     group=args.group, annotate=args.annotate, xlog=args.xlog, ylog=args.ylog)
    for name, result in written.items():
        if len(written) > 1:
            print(f"## {name}\n")
        print(result["markdown"])
        print(f"wrote {', '.join([*result['table'].values(), *result['plots']])}\n")
    return 0
