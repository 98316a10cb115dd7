"""The feasible-update masks grid (Dine, Furon, Faure, arXiv 2511.02435): base methods × add-ons
{no mask, SalUn mask, AND, PROB, focus}, for random 10 % and 50 % forgetting and class forgetting,
over several seeds, against the model retrained without the forget set.

The paper's claim: restricting a first-order unlearning method's update to coordinates where the
forget and retain gradients probably agree (the AND and PROB masks, Eqs. of its §3) brings the
unlearned model closer to the retrained one than the unmasked method, across base methods and
forgetting settings. Every base method that has both an unlearning and a retain term (so that g_U
and g_C exist) runs with every mask from the same originals; the originals and references of all
seeds train vmapped.

    python experiments/masks/grid.py                                  # Fashion-MNIST, 3 seeds
    python experiments/masks/grid.py --data digits                    # the same on digits
    python experiments/masks/grid.py --data fashion_mnist_mem         # the memorising setting
    python experiments/masks/grid.py --settings random10 --methods random_label,srl \\
        --masks none,prob_mask
    python experiments/masks/grid.py --small                          # the test suite's setting

Writes, per setting, ``grid_<setting>.{md,csv,json,png}`` (mean ± std of UA/RA/TA/MIA/gap per
method+mask), ``grid_<setting>_per_seed.json`` and ``grid_<setting>_gap.{md,png}`` (the gap to
retraining as a method × mask table and heatmap, the best mask of each method boxed). The tables
carry the paper's metric families beside the gap: MIA-efficacy, relative unlearning accuracy
(``rel_UA``, our reading: the share of the retrained model's UA gain reached), the accuracy cost
(``RA_cost``, ``TA_cost``, points lost against the original) and the runtime (``seconds``;
``grid_<setting>_seconds.md`` tabulates it per base method and mask).
"""

from __future__ import annotations

import argparse
import os
import pathlib

import numpy as np

from jaxunlearn.compare import (
    DATASETS,
    SETTINGS,
    Variant,
    add_relative_metrics,
    aggregate_rows,
    compare_methods,
    method_hyperparams,
    standard_experiment,
    write_comparison,
)
from jaxunlearn.methods import METHODS
from jaxunlearn.report import environment_info, format_markdown_table, heatmap

MASKS = ("none", "salun_mask", "and_mask", "prob_mask", "focus_mask")
BASE_METHODS = ("neggrad_plus", "random_label", "srl", "scrub")
TUNED_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs" / "tuned"


def two_term_methods() -> list[str]:
    """Registered methods with both an unlearning and a retain term (what the masks need),
    excluding class-only and image-to-image methods."""
    return sorted(name for name, method in METHODS.items()
                  if method.forget_term is not None and method.retain_term is not None
                  and not method.class_unlearning and not name.startswith("i2i"))


def variant_label(method: str, mask: str) -> str:
    return method if mask == "none" else f"{method}+{mask}"


def gap_table(aggregated: list[dict], methods: list[str], masks: list[str],
              metric: str = "gap"):
    """Mean and std of ``metric`` (the gap to retraining) as (methods × masks) arrays, NaN where
    absent."""
    rows = {row["method"]: row for row in aggregated}
    mean = np.full((len(methods), len(masks)), np.nan)
    std = np.full_like(mean, np.nan)
    for i, method in enumerate(methods):
        for j, mask in enumerate(masks):
            row = rows.get(variant_label(method, mask))
            if row is not None and f"{metric}_mean" in row:
                mean[i, j], std[i, j] = row[f"{metric}_mean"], row[f"{metric}_std"]
    return mean, std


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion_mnist", choices=DATASETS)
    parser.add_argument("--settings", default=",".join(SETTINGS),
                        help=f"comma-separated, from {list(SETTINGS)}")
    parser.add_argument("--methods", default=",".join(BASE_METHODS),
                        help="base methods (any of: %s)" % ", ".join(two_term_methods()))
    parser.add_argument("--masks", default=",".join(MASKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--forget-class", type=int, default=None,
                        help="class-forgetting setting: default 6 (shirt) on Fashion-MNIST, 3 on "
                             "digits")
    parser.add_argument("--epochs", type=int, default=None, help="original training epochs")
    parser.add_argument("--unlearn-epochs", type=int, default=None,
                        help="override every method's epochs")
    parser.add_argument("--small", action="store_true",
                        help="digits, 1 seed, few epochs, random10 only")
    parser.add_argument("--out", default=None, help="default results/masks_<data>")
    parser.add_argument("--cache-dir", default=None,
                        help="keep the originals and references there (shared by settings and "
                             "reruns)")
    args = parser.parse_args(argv)
    if args.small:
        args.data, args.seeds = "digits", "0"
        args.settings = args.settings if args.settings != ",".join(SETTINGS) else "random10"
        args.epochs, args.unlearn_epochs = args.epochs or 5, args.unlearn_epochs or 1
    out = args.out or f"results/masks_{args.data}"
    settings = [s for s in args.settings.split(",") if s]
    methods = [m for m in args.methods.split(",") if m]
    masks = [m for m in args.masks.split(",") if m]
    seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown or not settings:
        parser.error(f"--settings: unknown {unknown}; choose from {list(SETTINGS)}")
    allowed = two_term_methods()
    if not methods or any(m not in allowed for m in methods):
        parser.error(f"--methods: {methods} must be non-empty and among {allowed}")
    if not masks or any(m not in MASKS for m in masks):
        parser.error(f"--masks: {masks} must be non-empty and among {list(MASKS)}")
    digits = args.data == "digits"
    forget_class = args.forget_class if args.forget_class is not None else (3 if digits else 6)

    for setting in settings:
        experiment = standard_experiment(args.data, setting, forget_class=forget_class,
                                         epochs=args.epochs)
        variants = []
        for method in methods:
            for mask in masks:
                label = variant_label(method, mask)
                # a masked variant's own tuned choice if there is one, else its base method's
                hyper = method_hyperparams(label, args.data, setting, TUNED_DIR)
                if args.unlearn_epochs:
                    hyper["epochs"] = args.unlearn_epochs
                variants.append(Variant(method, addons=() if mask == "none" else (mask,),
                                        hyperparams=hyper or None, name=label))
        print(f"== {args.data}, {setting}: {len(variants)} variants × {len(seeds)} seed(s)",
              flush=True)
        per_seed, aggregated, record = compare_methods(experiment, variants, seeds=seeds,
                                                       cache_dir=args.cache_dir)
        relative = {row["method"]: row
                    for row in aggregate_rows(per_seed, add_relative_metrics(per_seed))}
        aggregated = [{**row, **{k: v for k, v in relative[row["method"]].items()
                                 if k not in ("method", "seeds")}} for row in aggregated]
        forgotten = (f"class {forget_class}" if SETTINGS[setting] is None
                     else f"{SETTINGS[setting]:.0%} random")
        title = f"{args.data}: {forgotten} forgotten (mean of {len(seeds)} seeds)"
        metadata = {"experiment": "masks_grid", "setting": setting, "arguments": vars(args),
                    "tuned": (TUNED_DIR / f"{args.data}_{setting}.json").exists(),
                    "masks": masks, "methods": methods, "environment": environment_info()}
        paths = write_comparison(out, f"grid_{setting}", per_seed, aggregated, record,
                                 title=title, metadata=metadata,
                                 chart_metrics=("UA", "TA", "MIA", "gap"))
        mean, std = gap_table(aggregated, methods, masks)
        reference = {row["method"]: row for row in aggregated}
        table_rows = [{"method": method, **{mask: (f"{mean[i, j]:.2f} ± {std[i, j]:.2f}"
                                                   if np.isfinite(mean[i, j]) else "")
                                             for j, mask in enumerate(masks)}}
                      for i, method in enumerate(methods)]
        gap_md = os.path.join(out, f"grid_{setting}_gap.md")
        with open(gap_md, "w") as handle:
            handle.write(f"# Gap to retraining, {title}\n\n"
                         f"original model: {reference['original']['gap']}\n\n"
                         + format_markdown_table(table_rows, ["method", *masks]) + "\n")
        seconds, seconds_std = gap_table(aggregated, methods, masks, "seconds")
        with open(os.path.join(out, f"grid_{setting}_seconds.md"), "w") as handle:
            handle.write(f"# Seconds per unlearning run, {title}\n\n"
                         "(compilation and each variant's tuned epochs included)\n\n"
                         + format_markdown_table([
                             {"method": method, **{mask: (f"{seconds[i, j]:.1f}"
                                                          if np.isfinite(seconds[i, j]) else "")
                                                   for j, mask in enumerate(masks)}}
                             for i, method in enumerate(methods)], ["method", *masks]) + "\n")
        heatmap(mean, methods, masks, os.path.join(out, f"grid_{setting}_gap.png"), errors=std,
                title=f"gap to retraining (lower is better), {title}",
                colorbar_label="gap to retrain")
        print(open(paths["md"]).read())
        print(open(gap_md).read(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
