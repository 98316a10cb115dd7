"""The masks paper's Figure-5 protocol (Dine, Furon, Faure, arXiv 2511.02435; caption quoted in
our notes: SRL as the base method, CIFAR-10 / VGG16, 50 % random forgetting): SRL with each
add-on (no mask, SalUn's mask, AND, PROB, focus), and UA, RA, TA and MIA-efficacy measured after
every unlearning epoch, as curves beside the retrained model's values.

    python experiments/masks/curves.py --data fashion_mnist_mem     # 3 seeds, the memorising setting
    python experiments/masks/curves.py --data digits --seeds 0 --epochs 3

Writes ``<out>/curves_<setting>.{json,md,png}``: per add-on and epoch the mean ± std over seeds
(epoch 0 is the original), the retrained model's values, and the seconds of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time

import numpy as np

from jaxunlearn.compare import DATASETS, SETTINGS, method_hyperparams, standard_experiment
from jaxunlearn.compare import trained_pairs
from jaxunlearn.evaluate import evaluate_models
from jaxunlearn.methods import unlearn
from jaxunlearn.report import environment_info, format_markdown_table

MASKS = ("none", "salun_mask", "and_mask", "prob_mask", "focus_mask")
METRICS = ("UA", "RA", "TA", "MIA")
TUNED_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs" / "tuned"


def _metrics(apply_fn, variables, retrained, splits) -> dict:
    rows = evaluate_models(apply_fn, {"model": variables, "retrain": retrained}, splits)
    row = next(r for r in rows if r["method"] == "model")
    return {metric: float(row[metric]) for metric in METRICS}


def plot(curves: dict, reference: dict, path: str, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axes = plt.subplots(1, len(METRICS), figsize=(3.2 * len(METRICS), 3.0),
                                constrained_layout=True)
    for axis, metric in zip(axes, METRICS):
        for mask, by_epoch in curves.items():
            epochs = np.arange(len(by_epoch["mean"][metric]))
            mean, std = np.asarray(by_epoch["mean"][metric]), np.asarray(by_epoch["std"][metric])
            axis.plot(epochs, mean, marker="o", markersize=3, label=mask)
            axis.fill_between(epochs, mean - std, mean + std, alpha=0.15)
        axis.axhline(reference[metric], color="black", linestyle="--", linewidth=1,
                     label="retrain")
        axis.set_title(metric)
        axis.set_xlabel("unlearning epoch")
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes[0].legend(fontsize=7)
    figure.suptitle(title, fontsize=9)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion_mnist_mem", choices=DATASETS)
    parser.add_argument("--setting", default="random50", choices=tuple(SETTINGS))
    parser.add_argument("--method", default="srl")
    parser.add_argument("--masks", default=",".join(MASKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=None,
                        help="unlearning epochs (default: the tuned choice, else the method's)")
    parser.add_argument("--original-epochs", type=int, default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default=None, help="default results/masks_<data>")
    args = parser.parse_args(argv)
    masks = [m for m in args.masks.split(",") if m]
    if not masks or any(m not in MASKS for m in masks):
        parser.error(f"--masks: {masks} must be non-empty and among {list(MASKS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs: need ≥ 1, got {args.epochs}")
    out = args.out or f"results/masks_{args.data}"
    experiment = standard_experiment(args.data, args.setting, epochs=args.original_epochs)
    setup, pairs = trained_pairs(experiment, seeds, cache_dir=args.cache_dir)
    apply_fn, splits = setup.model_fns.apply, setup.splits
    reference = {m: float(np.mean([_metrics(apply_fn, r, r, splits)[m] for _, r in pairs]))
                 for m in METRICS}
    curves, seconds = {}, {}
    for mask in masks:
        label = args.method if mask == "none" else f"{args.method}+{mask}"
        hyper = method_hyperparams(label, args.data, args.setting, TUNED_DIR)
        if args.epochs:
            hyper["epochs"] = args.epochs
        per_seed, seconds[mask] = [], []
        for seed, (original, retrained) in zip(seeds, pairs):
            start = _metrics(apply_fn, original, retrained, splits)
            started = time.perf_counter()
            result = unlearn(setup.model_fns, original, splits, args.method,
                             addons=() if mask == "none" else (mask,), hyperparams=hyper,
                             key=seed, module=setup.module, progress=False,
                             epoch_callback=lambda epoch, variables, r=retrained: _metrics(
                                 apply_fn, variables, r, splits))
            seconds[mask].append(time.perf_counter() - started)
            per_seed.append([start] + [{m: entry[m] for m in METRICS}
                                       for entry in result.log["history"]])
            print(f"{label} seed {seed}: {len(per_seed[-1]) - 1} epochs, "
                  f"{seconds[mask][-1]:.1f} s (with per-epoch evaluation)", flush=True)
        curves[mask] = {stat: {m: getattr(np, stat)(
            [[epoch[m] for epoch in run] for run in per_seed], axis=0,
            **({"ddof": 1} if stat == "std" and len(seeds) > 1 else {})).tolist()
            for m in METRICS} for stat in ("mean", "std")}
    os.makedirs(out, exist_ok=True)
    stem = os.path.join(out, f"curves_{args.setting}")
    with open(f"{stem}.json", "w") as handle:
        json.dump({"curves": curves, "retrain": reference, "seconds": seconds,
                   "metadata": {"experiment": "masks_curves", "arguments": vars(args),
                                "environment": environment_info()}}, handle, indent=1)
    rows = []
    for mask, by_epoch in curves.items():
        for epoch in range(len(by_epoch["mean"]["UA"])):
            rows.append({"add-on": mask, "epoch": epoch, **{
                m: f"{by_epoch['mean'][m][epoch]:.2f} ± {by_epoch['std'][m][epoch]:.2f}"
                for m in METRICS}})
    rows.append({"add-on": "retrain", "epoch": "", **{m: f"{reference[m]:.2f}" for m in METRICS}})
    title = (f"{args.method} + add-ons, {args.data}, {args.setting}: metrics after each "
             f"unlearning epoch (mean ± std of {len(seeds)} seeds)")
    with open(f"{stem}.md", "w") as handle:
        handle.write(f"# {title}\n\n" + format_markdown_table(rows, ["add-on", "epoch", *METRICS])
                     + "\n")
    plot(curves, reference, f"{stem}.png", title)
    print(open(f"{stem}.md").read())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
