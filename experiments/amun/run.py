"""AMUN vs baselines, from ordinary and from FastClip-trained originals (Ebrahimpour-Boroojeny
et al., AMUN, and Boroojeny, Telgarsky & Sundaram, FastClip).

AMUN's claim: fine-tuning on adversarial examples of the forget set unlearns a random subset with
the smallest gap to retraining, and more so when the original is smooth (spectral norms of its
layers clipped during training). Runs AMUN as its authors do (one stream D ∪ D_adv, step-decayed
SGD) and its variants without the retain set (D_f ∪ D_adv, D_adv alone) and with D_r ∪ D_adv,
fine-tuning, NegGrad+, random labels, SalUn and Boundary Shrink / Expanding (the baselines of
AMUN's tables) on a random 10% of the training set, once from
plain originals and once from FastClip originals, over several seeds, and writes mean ± std
tables and charts. From FastClip originals the AMUN variants keep clipping at the originals'
bound while they fine-tune (the authors' smooth-model setting); the baselines do not clip.

    python experiments/amun/run.py                              # Fashion-MNIST, small CNN, 3 seeds
    python experiments/amun/run.py --data digits --seeds 0      # a quick check on digits
    python experiments/amun/run.py --small                      # the test suite's tiny setting
    python experiments/amun/run.py --data fashion_mnist_mem --rmia-references 8

With ``--rmia-references R`` (the memorising Fashion-MNIST setting only: its population images
come from the training images outside its subset) every model is also audited as the AMUN
authors do, by online RMIA's forget-vs-test AUC with R reference models (``rmia_attack.py``);
50 % is the retrained model's ideal.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib

import numpy as np

from jaxunlearn.compare import (
    DATASETS,
    Variant,
    compare_methods,
    method_hyperparams,
    standard_experiment,
    write_comparison,
)
from jaxunlearn.report import environment_info

try:  # run as a script (python experiments/amun/run.py) or imported as experiments.amun.run
    from rmia_attack import rmia_forget_vs_test
except ImportError:
    from experiments.amun.rmia_attack import rmia_forget_vs_test

TUNED_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs" / "tuned"

AMUN_VARIANTS = ("amun", "amun_retain_adv", "amun_forget_adv", "amun_adv_only")
METHODS = (*AMUN_VARIANTS, "finetune", "neggrad_plus", "random_label", "salun", "boundary_shrink",
           "boundary_expanding")


def _rmia_attack(experiment, args):
    """The RMIA audit of the memorising setting: references trained with the originals' recipe
    on halves of its 1,000 training ∪ 2,000 test images; population: 1,000 Fashion-MNIST training
    images outside its subset."""
    from jaxunlearn.data import load_fashion_mnist, subset_indices
    from jaxunlearn.pipeline import prepare

    setup = prepare(experiment)
    full, _ = load_fashion_mnist(*([experiment.data.data_dir] if experiment.data.data_dir else []))
    used = subset_indices(full.labels, experiment.data.train_size, experiment.data.seed, salt=0)
    unused = np.setdiff1d(np.arange(len(full)), used)
    population = full.subset(np.sort(np.random.default_rng([experiment.data.seed, 19]).choice(
        unused, 1000, replace=False)))
    print(f"RMIA: training {args.rmia_references} reference models", flush=True)
    return rmia_forget_vs_test(setup.model_fns, setup.splits, experiment.train, population,
                               num_references=args.rmia_references, cache_dir=args.cache_dir)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion_mnist", choices=DATASETS)
    parser.add_argument("--cache-dir", default=None,
                        help="keep the originals and references there (shared with reruns)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--epochs", type=int, default=None, help="original training epochs")
    parser.add_argument("--unlearn-epochs", type=int, default=None)
    parser.add_argument("--max-norm", type=float, default=1.0, help="FastClip spectral bound")
    parser.add_argument("--small", action="store_true", help="digits, 1 seed, few epochs")
    parser.add_argument("--out", default="results/amun")
    parser.add_argument("--rmia-references", type=int, default=0,
                        help="audit with online RMIA using this many (even) reference models "
                             "(fashion_mnist_mem only; 0: off)")
    args = parser.parse_args(argv)
    if args.small:
        args.data, args.seeds = "digits", "0"
        args.epochs, args.unlearn_epochs = args.epochs or 5, args.unlearn_epochs or 1
    seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    base = standard_experiment(args.data, "random10", epochs=args.epochs)
    if args.rmia_references and args.data != "fashion_mnist_mem":
        parser.error("--rmia-references: only with --data fashion_mnist_mem (its population "
                     "images are the training images outside its subset)")
    if args.rmia_references < 0 or args.rmia_references % 2:
        parser.error(f"--rmia-references: need an even number ≥ 0, got {args.rmia_references}")
    attack = _rmia_attack(base, args) if args.rmia_references else None

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
                                                       seeds=seeds, cache_dir=args.cache_dir,
                                                       attack=attack)
        paths = write_comparison(
            args.out, f"amun_{label}", per_seed, aggregated, record,
            title=f"{args.data}: 10% forgotten, {label} originals (mean of {len(seeds)} seeds)",
            metadata={"experiment": "amun", "originals": label, "arguments": vars(args),
                      "tuned": (TUNED_DIR / f"{args.data}_random10.json").exists(),
                      "environment": environment_info()},
            chart_metrics=("UA", "TA", "MIA", "gap") + (("RMIA_AUC",) if attack else ()))
        print(open(paths["md"]).read())
        summary += [{"originals": label, **row} for row in aggregated]
    best = {label: min((row for row in summary if row["originals"] == label
                        and row["method"] not in ("original", "retrain")),
                       key=lambda row: row["gap_mean"])["method"]
            for label in ("plain", "fastclip")}
    print(f"smallest gap to retraining: {best}")


if __name__ == "__main__":
    main()
