"""TRW vs baselines on class unlearning, with MIA-NN and the TV distance to retraining (Wang et
al., Tilted ReWeighting, arXiv 2506.20893).

TRW's claim: unlearning a whole class should send its inputs where a retrained model sends them
(mostly to the most similar remaining classes), not spread them uniformly or to random labels;
it measures this with the total-variation distance to the retrained model's outputs on the
forgotten class and with MIA-NN, the paper's attack (an SVM on logits separating forget-class
from nearest-class inputs, the nearest class by vote of all seeds' retrained models), reported as
the gap to the retrained model; MIA-NN-logistic is an earlier, different attack (logistic
regression on the neighbour classes' log-probabilities), kept for comparison. Forgets one class
with TRW (the paper's defaults: β = 10, PCA-cosine similarity), fine-tuning, gradient ascent,
NegGrad+, random labels, SalUn, SCRUB, UAM (the "UAM" of TRW's tables, read as
Unlearning-Aware Minimization; its radius ρ tuned with the learning rate), SVD unlearning (one
shot, at its authors' defaults) and SCAR (distilling on 1,000 images of the other dataset resized
to this one's, ``compare_recipes.SURROGATES``, as its authors distil on ImageNet images for CIFAR)
and ℓ2-UL (adversarial images of the forgotten class, 20 per image, as its authors' code makes
for single images) over several seeds and writes mean ± std tables and a chart.

    python experiments/trw/run.py                              # Fashion-MNIST, small CNN, 3 seeds
    python experiments/trw/run.py --data digits --seeds 0      # a quick check on digits
    python experiments/trw/run.py --small                      # the test suite's tiny setting
"""

from __future__ import annotations

import argparse
import pathlib

from jaxunlearn.compare import (
    DATASETS,
    Variant,
    compare_methods,
    method_hyperparams,
    standard_experiment,
    write_comparison,
)
from jaxunlearn.report import environment_info

TUNED_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs" / "tuned"

METHODS = ("trw", "finetune", "gradient_ascent", "neggrad_plus", "random_label", "salun", "scrub",
           "uam", "svd_unlearning", "scar", "l2ul")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion_mnist", choices=DATASETS)
    parser.add_argument("--cache-dir", default=None,
                        help="keep the originals and references there (shared with reruns)")
    parser.add_argument("--forget-class", type=int, default=None,
                        help="default: 6 (shirt) on Fashion-MNIST, 3 on digits")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--epochs", type=int, default=None, help="original training epochs")
    parser.add_argument("--unlearn-epochs", type=int, default=None)
    parser.add_argument("--small", action="store_true", help="digits, 1 seed, few epochs")
    parser.add_argument("--out", default="results/trw")
    args = parser.parse_args(argv)
    if args.small:
        args.data, args.seeds = "digits", "0"
        args.epochs, args.unlearn_epochs = args.epochs or 5, args.unlearn_epochs or 1
    seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    digits = args.data == "digits"
    forget_class = args.forget_class if args.forget_class is not None else (3 if digits else 6)
    methods = [m for m in args.methods.split(",") if m]
    experiment = standard_experiment(args.data, "class", forget_class=forget_class,
                                     epochs=args.epochs, surrogate="scar" in methods)
    variants = []
    for method in methods:
        # the tuned choice (experiments/tune.py --setting class --write) where there is one
        hyper = method_hyperparams(method, args.data, "class", TUNED_DIR)
        if args.unlearn_epochs:
            hyper["epochs"] = args.unlearn_epochs
        variants.append(Variant(method, hyperparams=hyper or None))
    per_seed, aggregated, record = compare_methods(experiment, variants, seeds=seeds,
                                                   cache_dir=args.cache_dir)
    paths = write_comparison(
        args.out, "trw", per_seed, aggregated, record,
        title=f"{args.data}: class {forget_class} forgotten (mean of {len(seeds)} seeds)",
        metadata={"experiment": "trw", "forget_class": forget_class, "arguments": vars(args),
                  "tuned": (TUNED_DIR / f"{args.data}_class.json").exists(),
                  "environment": environment_info()},
        chart_metrics=("UA", "TA", "MIA-NN", "MIA-NN-logistic", "tv_forget"))
    print(open(paths["md"]).read())


if __name__ == "__main__":
    main()
