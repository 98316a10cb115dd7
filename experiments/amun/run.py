"""AMUN vs baselines, from ordinary and from FastClip-trained originals (Ebrahimpour-Boroojeny
et al., AMUN, and Boroojeny, Telgarsky & Sundaram, FastClip).

AMUN's claim: fine-tuning on adversarial examples of the forget set unlearns a random subset with
the smallest gap to retraining, and more so when the original is smooth (spectral norms of its
layers clipped during training). Runs AMUN as its authors do (one stream D ∪ D_adv, step-decayed
SGD) and its variants without the retain set (D_f ∪ D_adv, D_adv alone) and with D_r ∪ D_adv,
fine-tuning, NegGrad+, random labels and SalUn on a random 10% of the training set, once from
plain originals and once from FastClip originals, over several seeds, and writes mean ± std
tables and charts. From FastClip originals the AMUN variants keep clipping at the originals'
bound while they fine-tune (the authors' smooth-model setting); the baselines do not clip.

    python experiments/amun/run.py                              # Fashion-MNIST, small CNN, 3 seeds
    python experiments/amun/run.py --data digits --seeds 0      # a quick check on digits
    python experiments/amun/run.py --small                      # the test suite's tiny setting
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib

from jaxunlearn.compare import (
    Variant,
    compare_methods,
    method_hyperparams,
    standard_experiment,
    write_comparison,
)
from jaxunlearn.report import environment_info

TUNED_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs" / "tuned"

AMUN_VARIANTS = ("amun", "amun_retain_adv", "amun_forget_adv", "amun_adv_only")
METHODS = (*AMUN_VARIANTS, "finetune", "neggrad_plus", "random_label", "salun")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion_mnist", choices=("fashion_mnist", "digits"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--epochs", type=int, default=None, help="original training epochs")
    parser.add_argument("--unlearn-epochs", type=int, default=None)
    parser.add_argument("--max-norm", type=float, default=1.0, help="FastClip spectral bound")
    parser.add_argument("--small", action="store_true", help="digits, 1 seed, few epochs")
    parser.add_argument("--out", default="results/amun")
    args = parser.parse_args()
    if args.small:
        args.data, args.seeds = "digits", "0"
        args.epochs, args.unlearn_epochs = args.epochs or 5, args.unlearn_epochs or 1
    seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    base = standard_experiment(args.data, "random10", epochs=args.epochs)

    def variants(max_norm: float) -> list[Variant]:
        chosen = []
        for method in args.methods.split(","):
            hyper = method_hyperparams(method, args.data, "random10", TUNED_DIR)
            if args.unlearn_epochs:
                hyper["epochs"] = args.unlearn_epochs
            if max_norm and method.partition("+")[0] in AMUN_VARIANTS:
                hyper["spectral_max_norm"] = max_norm  # keep clipping while fine-tuning
            chosen.append(Variant(method, hyperparams=hyper or None))
        return chosen

    summary = []
    for label, max_norm in (("plain", 0.0), ("fastclip", args.max_norm)):
        experiment = dataclasses.replace(
            base, train=dataclasses.replace(base.train, spectral_max_norm=max_norm))
        print(f"== originals: {label}")
        per_seed, aggregated, record = compare_methods(experiment, variants(max_norm),
                                                       seeds=seeds)
        paths = write_comparison(
            args.out, f"amun_{label}", per_seed, aggregated, record,
            title=f"{args.data}: 10% forgotten, {label} originals (mean of {len(seeds)} seeds)",
            metadata={"experiment": "amun", "originals": label, "arguments": vars(args),
                      "tuned": (TUNED_DIR / f"{args.data}_random10.json").exists(),
                      "environment": environment_info()},
            chart_metrics=("UA", "TA", "MIA", "gap"))
        print(open(paths["md"]).read())
        summary += [{"originals": label, **row} for row in aggregated]
    best = {label: min((row for row in summary if row["originals"] == label
                        and row["method"] not in ("original", "retrain")),
                       key=lambda row: row["gap_mean"])["method"]
            for label in ("plain", "fastclip")}
    print(f"smallest gap to retraining: {best}")


if __name__ == "__main__":
    main()
