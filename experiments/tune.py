"""Tune the baselines' learning rate and epochs for one dataset and forgetting setting, on a
selection seed that the reported experiments do not use.

The papers tune every baseline per setting (SalUn, TRW and AMUN sweep the learning rate, e.g.
GA's 1e-4 default is the class-wise CIFAR-10 value); at their defaults some baselines do nothing
on a small model (GA) and others destroy it (NegGrad+). For each method this runs a grid of
learning rates × epochs from the same original (trained with ``--seed``, default 100, disjoint
from the experiments' seeds 0, 1, 2), scores every run by its gap to the model retrained without
the forget set (mean |Δ| of UA, RA, TA, MIA-efficacy) and keeps the smallest. With ``--write``
the choice goes to ``experiments/configs/tuned/<data>_<setting>.json``, which
``experiments/trw/run.py``, ``experiments/amun/run.py`` and ``experiments/masks/grid.py`` read.

    python experiments/tune.py --data digits --setting class --write
    python experiments/tune.py --data digits --setting class --methods gradient_ascent \\
        --learning-rates 1e-3,1e-2 --epochs 2,5
    python experiments/tune.py --data digits --setting class --methods scrub+and_mask \\
        --learning-rates times:1,3 --epochs 5 --write   # a masked variant around its base's rate
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import sys

import numpy as np

from jaxunlearn.compare import (
    DATASETS,
    SETTINGS,
    Variant,
    compare_methods,
    load_tuned,
    method_hyperparams,
    standard_experiment,
)
from jaxunlearn.methods import ADDONS, METHODS
from jaxunlearn.report import environment_info, write_table

TUNED_DIR = pathlib.Path(__file__).resolve().parent / "configs" / "tuned"
METHODS_BY_SETTING = {
    "class": ("finetune", "gradient_ascent", "neggrad_plus", "random_label", "salun", "scrub",
              "trw", "uam", "scar", "l2ul"),
    "random10": ("finetune", "gradient_ascent", "neggrad_plus", "random_label", "salun", "scrub",
                 "srl", "amun", "amun_retain_adv", "amun_forget_adv", "amun_adv_only",
                 "boundary_shrink", "boundary_expanding"),
}
# AMUN is tuned on its authors' axes (``Ali-E/AMUN``'s ``hyperparam_tune.py``): the learning rate
# and the period of its ×0.1 step decay, for 10 epochs.
AMUN_METHODS = ("amun", "amun_retain_adv", "amun_forget_adv", "amun_adv_only")
AMUN_LEARNING_RATES = "0.1,0.05,0.01,0.005,1e-3,1e-4,1e-5"
METHODS_BY_SETTING["random50"] = METHODS_BY_SETTING["random10"]
# ``--learning-rates auto``: each method family's own range, three points a factor ~3 apart,
# found on the memorising Fashion-MNIST setting (one 1e-3…3e-2 sweep put every relabelling
# method at its lowest point and every descent method at its highest)
AUTO_LEARNING_RATES = {
    "random_label": "1e-4,3e-4,1e-3", "srl": "1e-4,3e-4,1e-3", "salun": "1e-4,3e-4,1e-3",
    "scrub": "1e-4,3e-4,1e-3", "gradient_ascent": "1e-5,3e-5,1e-4", "trw": "3e-5,1e-4,3e-4",
    "finetune": "1e-2,3e-2,1e-1", "neggrad_plus": "1e-2,3e-2,1e-1", "l1_sparse": "1e-2,3e-2,1e-1",
    "uam": "1e-2,3e-2,1e-1",
    # SCAR: Adam, its authors' 5e-4 and two larger (one full-batch step per epoch here)
    "scar": "5e-4,2e-3,1e-2",
    # ℓ2-UL: SGD, its authors' 1e-3 (CIFAR-10) and a decade either side
    "l2ul": "1e-4,1e-3,1e-2",
    "amun": "0.1,0.01,1e-3",
    # Boundary Unlearning: the authors' code runs both at 1e-5 (CIFAR, many forget batches);
    # AMUN's code tunes them over 0.1 … 1e-5
    "boundary_shrink": "1e-3,1e-2,1e-1", "boundary_expanding": "1e-3,1e-2,1e-1",
}


# Unlearning epochs tried when ``--epochs`` is not given: SCAR, one step per surrogate batch
# where the others make a pass over D_r, gets its authors' cap of 30 epochs and a third of it;
# ℓ2-UL, whose code stops as soon as every forget image is misclassified (its ascent on D_f
# erodes the rest after that), also 3
DEFAULT_EPOCHS = (2, 5)
METHOD_EPOCHS = {"scar": (10, 30), "l2ul": (2, 3, 5)}


# A method's own third axis, tried at every learning rate and epoch count: UAM's radius ρ (its
# authors publish none; SAM's customary 0.05 and two larger ones, since a larger ρ is what
# pushes the forget loss up)
METHOD_AXES = {"uam": ("rho", (0.05, 0.5, 2.0))}


def _floats(text: str, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v]
    except ValueError:
        raise SystemExit(f"{name}: expected comma-separated numbers, got {text!r}") from None
    if not values or any(not (v > 0) for v in values):
        raise SystemExit(f"{name}: need positive numbers, got {text!r}")
    return values


def _edge_point(method: str, rates: list[float], rows: list[dict], grid: dict) -> float | None:
    """The next learning rate beyond the edge of ``rates`` where ``method``'s smallest finite gap
    lies (ratio of the two edge rates), or None when the best is inside, the edge point diverged
    on every second-axis value, or fewer than two rates were tried."""
    ordered = sorted(set(rates))
    if len(ordered) < 2:
        return None
    gaps: dict[float, float] = {}
    for row in rows:
        if grid.get(row["method"], (None,))[0] != method:
            continue
        rate = grid[row["method"]][1]["learning_rate"]
        gap = float(row["gap"])
        gaps[rate] = min(gaps.get(rate, np.inf), gap if np.isfinite(gap) else np.inf)
    finite = {rate: gap for rate, gap in gaps.items() if np.isfinite(gap)}
    if not finite:
        return None
    best = min(finite, key=finite.get)
    if best == ordered[-1]:
        return float(f"{best * best / ordered[-2]:.3g}")
    if best == ordered[0]:
        return float(f"{best * best / ordered[1]:.3g}")
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="digits", choices=DATASETS)
    parser.add_argument("--setting", default="class", choices=tuple(SETTINGS))
    parser.add_argument("--methods", default=None,
                        help="default: the setting's baselines; 'method+add-on' tunes a masked "
                             "variant on its own (e.g. scrub+and_mask)")
    parser.add_argument("--learning-rates", default=None,
                        help="default 1e-4,1e-3,3e-3,1e-2,3e-2,1e-1; for AMUN the authors' "
                             f"{AMUN_LEARNING_RATES}; 'auto': each method family's range "
                             "(AUTO_LEARNING_RATES); 'times:1,3': multiples of the method's "
                             "tuned rate (a masked variant's: its base method's)")
    parser.add_argument("--epochs", default=None,
                        help="unlearning epochs to try (default 2,5; SCAR's and ℓ2-UL's "
                             "in METHOD_EPOCHS)")
    parser.add_argument("--periods", default="1,5,10",
                        help="AMUN: epochs between ×0.1 learning-rate decays (its second axis, "
                             "at 10 epochs)")
    parser.add_argument("--extend", type=int, default=0,
                        help="rounds of growing the learning-rate grid: a method whose best "
                             "rate is the smallest or largest tried gets one more point beyond "
                             "it (same ratio as its neighbours), until the best is inside or "
                             "the next point diverges (default 0)")
    parser.add_argument("--seed", type=int, default=100, help="selection seed")
    parser.add_argument("--original-epochs", type=int, default=None)
    parser.add_argument("--write", action="store_true",
                        help="write the choice to <tuned-dir>/<data>_<setting>.json")
    parser.add_argument("--tuned-dir", default=str(TUNED_DIR))
    parser.add_argument("--out", default="results/tune")
    parser.add_argument("--cache-dir", default=None,
                        help="keep the original and reference there (shared with reruns)")
    args = parser.parse_args(argv)
    methods = (args.methods.split(",") if args.methods else
               list(METHODS_BY_SETTING[args.setting]))
    unknown = [m for m in methods if m.partition("+")[0] not in METHODS
               or (m.partition("+")[2] and m.partition("+")[2] not in ADDONS)]
    if unknown:
        parser.error(f"--methods: unknown {unknown}")
    epochs = ([int(e) for e in _floats(args.epochs, "--epochs")] if args.epochs is not None
              else None)
    periods = [int(p) for p in _floats(args.periods, "--periods")]
    # SCAR distils on an out-of-distribution surrogate set (the other splits are unchanged)
    surrogate = any(m.partition("+")[0] == "scar" for m in methods)
    experiment = standard_experiment(args.data, args.setting, epochs=args.original_epochs,
                                     surrogate=surrogate)

    if args.extend < 0:
        parser.error(f"--extend: expected a non-negative number of rounds, got {args.extend}")
    variants, grid, rates_of = [], {}, {}

    def add(method, rates):
        """Variants of ``method`` at ``rates`` (× its second axis), recorded in ``grid``."""
        base, _, addon = method.partition("+")
        amun = base in AMUN_METHODS
        own_epochs = (epochs if epochs is not None else
                      list(METHOD_EPOCHS.get(base, DEFAULT_EPOCHS)))
        second = ("lr_decay_epochs", periods) if amun else ("epochs", own_epochs)
        third_name, third_values = METHOD_AXES.get(base, (None, (None,)))
        added = []
        for rate in rates:
            for value, extra in itertools.product(second[1], third_values):
                # AMUN starts from its authors' recipe; the others from their tuned choice
                start = ({} if amun else
                         method_hyperparams(method, args.data, args.setting, args.tuned_dir))
                hyper = {**start, "learning_rate": rate, second[0]: value}
                label = f"{method} lr={rate:g} {'period' if amun else 'ep'}={value}"
                if third_name is not None:
                    hyper[third_name] = extra
                    label += f" {third_name}={extra:g}"
                added.append(Variant(base, addons=(addon,) if addon else (), hyperparams=hyper,
                                     name=label))
                grid[label] = (method, hyper)
        rates_of.setdefault(method, []).extend(rates)
        return added

    for method in methods:
        base, _, addon = method.partition("+")
        amun = base in AMUN_METHODS
        if args.learning_rates and args.learning_rates.startswith("times:"):
            # multiples of the base method's tuned rate: never of the variant's own earlier
            # choice, which would compound from one run to the next
            tuned = method_hyperparams(base, args.data, args.setting, args.tuned_dir)
            if "learning_rate" not in tuned:
                parser.error(f"--learning-rates times:…: {base!r} has no tuned learning rate "
                             f"in {args.tuned_dir}; tune it first")
            rates = [tuned["learning_rate"] * factor
                     for factor in _floats(args.learning_rates[6:], "--learning-rates")]
        elif args.learning_rates == "auto":
            if base not in AUTO_LEARNING_RATES:
                parser.error(f"--learning-rates auto: no range for {base!r}; give the rates")
            rates = _floats(AUTO_LEARNING_RATES[base], "--learning-rates")
        else:
            rates = _floats(args.learning_rates or (
                AMUN_LEARNING_RATES if amun else "1e-4,1e-3,3e-3,1e-2,3e-2,1e-1"),
                "--learning-rates")
        variants += add(method, rates)
    print(f"== tuning {len(methods)} method(s), {len(variants)} settings on "
          f"{args.data}, {args.setting}, seed {args.seed}", flush=True)
    per_seed, _, _ = compare_methods(experiment, variants, seeds=[args.seed],
                                     echo=lambda _: None, cache_dir=args.cache_dir)
    for round_ in range(args.extend):
        more = []
        for method in methods:
            point = _edge_point(method, rates_of[method], per_seed, grid)
            if point is not None:
                more += add(method, [point])
                print(f"   {method}: best learning rate at the grid's edge, trying {point:g}",
                      flush=True)
        if not more:
            break
        rows_more, _, _ = compare_methods(experiment, more, seeds=[args.seed],
                                          echo=lambda _: None, cache_dir=args.cache_dir)
        per_seed += [row for row in rows_more if row["method"] in {v.label for v in more}]
    best: dict[str, dict] = {}
    rows = []
    for row in per_seed:
        if row["method"] not in grid:
            continue
        method, hyper = grid[row["method"]]
        third_name = METHOD_AXES.get(method.partition("+")[0], (None,))[0]
        rows.append({"method": method, "learning_rate": f"{hyper['learning_rate']:g}",
                     "epochs": hyper.get("epochs", "default"),
                     "other": f"{third_name}={hyper[third_name]:g}" if third_name else "",
                     "lr_decay_epochs": hyper.get("lr_decay_epochs", ""), **{k: row[k] for k in ("UA", "RA", "TA", "MIA",
                                                                         "gap")}})
        if not np.isfinite(row["gap"]):  # diverged
            continue
        if method not in best or row["gap"] < best[method]["gap"]:
            best[method] = {"gap": row["gap"], "hyperparams": hyper}
    os.makedirs(args.out, exist_ok=True)
    paths = write_table(rows, ["method", "learning_rate", "epochs", "lr_decay_epochs", "other",
                               "UA", "RA",
                               "TA", "MIA", "gap"], args.out, f"tune_{args.data}_{args.setting}", digits=3,
                        metadata={"experiment": "tune", "arguments": vars(args),
                                  "environment": environment_info()})
    print(open(paths["md"]).read())
    for method, choice in best.items():
        chosen = choice["hyperparams"]
        second = (f"period {chosen['lr_decay_epochs']}" if "lr_decay_epochs" in chosen
                  else f"epochs {chosen['epochs']}")
        third_name = METHOD_AXES.get(method.partition("+")[0], (None,))[0]
        if third_name is not None:
            second += f", {third_name} {chosen[third_name]:g}"
        print(f"{method}: lr {chosen['learning_rate']:g}, {second} (gap {choice['gap']:.2f})")
    if args.write:
        tuned_dir = pathlib.Path(args.tuned_dir)
        path = tuned_dir / f"{args.data}_{args.setting}.json"
        existing = json.loads(path.read_text()) if path.exists() else {}
        chosen = {**load_tuned(path), **{m: c["hyperparams"] for m, c in best.items()}}
        command = "python experiments/tune.py " + " ".join(sys.argv[1:] if argv is None else argv)
        provenance = {**existing.get("provenance", {}), **{
            m: {"command": command, "selection_seed": args.seed, "gap": round(c["gap"], 4)}
            for m, c in best.items()}}
        tuned_dir.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as handle:
            json.dump({"criterion": "smallest gap to retrain (mean |Δ| of UA, RA, TA, MIA) on "
                                    "the selection seed",
                       "methods": dict(sorted(chosen.items())),
                       "provenance": dict(sorted(provenance.items()))}, handle, indent=1)
            handle.write("\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
