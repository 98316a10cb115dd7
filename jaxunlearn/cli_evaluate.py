"""The ``evaluate`` and ``report`` commands of ``jaxunlearn`` (parsers in :mod:`jaxunlearn.cli`).

``evaluate`` puts the original, the retrained and every unlearned model side by side (UA / RA /
TA / MIA-efficacy / agreement / TV distance / gap, and a threshold attack's ROC); ``report``
combines result JSONs into one table and plots per experiment.
"""

from __future__ import annotations

import argparse
import json
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


def evaluate_command(args: argparse.Namespace) -> int:
    """``jaxunlearn evaluate``: every model next to the retrained one, with plots."""
    from jaxunlearn.config import to_dict
    from jaxunlearn.evaluate.suite import evaluate_models
    from jaxunlearn.pipeline import load_trained
    from jaxunlearn.report import bar_chart, environment_info, roc_plot, write_table
    from jaxunlearn.report.records import EVALUATION_METRIC_DEFINITIONS, THRESHOLD_ATTACK
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
    unlearned_runs = []
    for directory in args.unlearned:
        with open(os.path.join(directory, "metrics.json")) as handle:
            record = json.load(handle)
        name = record["row"]["method"]
        models[name] = load_variables(os.path.join(directory, "variables"), original)
        log = {k: v for k, v in record.get("log", {}).items() if k != "history"}
        unlearned_runs.append({"directory": os.path.abspath(directory), "method": name,
                               "log": log, **{k: record[k] for k in
                                              ("source", "reference", "public", "certificate")
                                              if k in record}})
    rows = evaluate_models(setup.model_fns.apply, models, setup.splits)
    rocs = attack_rocs(setup, models)
    for row in rows:
        roc = rocs[row["method"]]
        row["attack_AUC"] = roc["auc"]
        row["attack_TPR@1%"] = roc["tpr_at_fpr"]["0.01"]
        row["attack_TPR@0.1%"] = roc["tpr_at_fpr"]["0.001"]
        row["roc"] = roc
    columns = ["method", "UA", "RA", "TA", "MIA", "agreement", "tv_forget", "gap", "attack_AUC",
               "attack_TPR@1%", "forget_loss"]
    metadata = {
        "experiment": "evaluate",
        "columns": columns,
        "original": os.path.abspath(args.original),
        "retrained": os.path.abspath(args.retrained),
        "unlearned": [os.path.abspath(d) for d in args.unlearned],
        "unlearned_runs": unlearned_runs,
        "config": to_dict(config), "retrained_config": to_dict(retrained_config),
        "overrides": list(args.overrides), "splits": setup.splits.summary(),
        "environment": environment_info(),
        "metric_definitions": EVALUATION_METRIC_DEFINITIONS,
    }
    paths = write_table(rows, columns, args.out, "evaluation", digits=3, metadata=metadata)
    chart = bar_chart(rows, ["UA", "RA", "TA", "MIA", "attack_AUC"],
                      os.path.join(args.out, "evaluation.png"),
                      title="Unlearned vs retrained (dashed line = retrained model)")
    roc = roc_plot({name: rocs[name] for name in models},
                   os.path.join(args.out, "evaluation_roc.png"),
                   title=f"MIA per model: {THRESHOLD_ATTACK}")
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
