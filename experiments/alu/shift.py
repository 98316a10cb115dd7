"""Experiment d: utility when the public data come from a shifted distribution.

The certificate does not depend on where the public rows come from (they only enter the
sensitivity through their number), so at a fixed ε the noise σ is the same for every shift; the
shift moves the optimum of the mixed objective away from the private one,
‖θ*_mix − θ*_priv‖ ≤ (w/m)·sup_θ‖∇F_pub(θ) − ∇F_priv(θ)‖ (alu.md §4.2, the elementary bound;
the paper's shift measure could not be read). Two shifts of the public set, drawn by
``make_splits`` from held-out training rows: additive Gaussian corruption of strength c (pixel
units, before the features are renormalised) and class-prior skew s (class +1 drawn e^{−s} times
less often). For each level: C chains learn T steps, one private point is replaced, K steps
unlearn; test accuracy against the no-public (symmetric) baseline at the same ε, and the distance
between the noiseless optima.

    python experiments/alu/shift.py [--small] [--out results/alu]

Writes ``shift.{md,csv,json}`` and ``shift.png``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.alu import binary_logistic_task  # noqa: E402
from jaxunlearn.certify import langevin_sigma_for_target  # noqa: E402


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    from jaxunlearn.data import load_digits, load_fashion_mnist

    if args.small or not common.fashion_available():
        dataset, classes, pool = "digits", (tuple(range(5)), tuple(range(5, 10))), 1
        datasets = load_digits(test_fraction=0.25)
        n_private, n_public = (150, 300) if args.small else (300, 900)
    else:
        dataset, classes, pool = "fashion_mnist", ((7,), (9,)), 2
        datasets = load_fashion_mnist()
        n_private, n_public = 500, 2000
    if args.small:
        levels = {"corruption": (2.0,), "class_skew": (4.0,)}
        chains, burn_in, steps = 4, 100, 10
    else:
        levels = {"corruption": (0.0, 0.5, 1.0, 2.0, 4.0), "class_skew": (1.0, 2.0, 4.0, 8.0)}
        chains, burn_in, steps = 8, 400, 50
    epsilon = 2.0

    def task(corruption=0.0, class_skew=0.0):
        return binary_logistic_task(dataset, negative=classes[0], positive=classes[1],
                                    num_private=n_private, num_public=n_public, pool=pool,
                                    public_corruption=corruption, public_class_skew=class_skew,
                                    seed=args.seed, datasets=datasets)

    clean = task()
    kwargs = common.certificate_kwargs(n_private=n_private, n_public=n_public, num_deleted=1)
    sigma = langevin_sigma_for_target(epsilon, steps, **kwargs)
    sigma_private = langevin_sigma_for_target(
        epsilon, steps, **common.certificate_kwargs(n_private=n_private, n_public=0,
                                                    num_deleted=1))
    baseline = common.run_protocol(clean, 0, sigma_private, num_deleted=1, chains=chains,
                                   burn_in=burn_in, unlearn_steps=steps, seed=args.seed)
    baseline_accuracy = common.mean_std(baseline["accuracy"]["unlearned"])[0]
    optimum_private, noiseless_private = common.noiseless_optimum(clean, 0, burn_in)
    rows, series = [], {}
    for kind, values in levels.items():
        accuracies = []
        for value in values:
            shifted = task(**{kind: value})
            result = common.run_protocol(shifted, n_public, sigma, num_deleted=1, chains=chains,
                                         burn_in=burn_in, unlearn_steps=steps, seed=args.seed)
            optimum, noiseless = common.noiseless_optimum(shifted, n_public, burn_in)
            distance = float(np.linalg.norm(np.asarray(optimum["w"]) -
                                            np.asarray(optimum_private["w"])))
            unlearned = common.mean_std(result["accuracy"]["unlearned"])
            rows.append({"task": shifted.name, "shift": kind, "level": value,
                         "public_positive_share": float(np.mean(shifted.public_labels > 0)),
                         "epsilon": epsilon, "sigma": sigma, "acc_unlearned": unlearned[0],
                         "acc_unlearned_std": unlearned[1],
                         "acc_retrained": common.mean_std(result["accuracy"]["retrained"])[0],
                         "acc_noiseless_mix": noiseless, "optimum_distance": distance,
                         "acc_no_public": baseline_accuracy, "sigma_no_public": sigma_private})
            accuracies.append(unlearned[0])
            print(f"{kind}={value:g}: acc={unlearned[0]:.3f} (no public {baseline_accuracy:.3f}),"
                  f" |theta*_mix - theta*_priv| = {distance:.3f}", flush=True)
        series[f"{kind} (n_pub = {n_public})"] = (list(values), accuracies)
    columns = ["task", "shift", "level", "public_positive_share", "epsilon", "sigma",
               "acc_unlearned", "acc_unlearned_std", "acc_retrained", "acc_noiseless_mix",
               "optimum_distance", "acc_no_public", "sigma_no_public"]
    common.write(rows, columns, args.out, "shift", common.metadata(
        args, dataset=dataset, n_private=n_private, n_public=n_public, epsilon=epsilon,
        chains=chains, burn_in=burn_in, unlearn_steps=steps,
        acc_noiseless_private=noiseless_private))
    plot = common.line_plot(
        series, os.path.join(args.out, "shift.png"), xlabel="shift level (c or s)",
        ylabel=f"test accuracy after unlearning (ε={epsilon:g})",
        reference={f"no public data, same ε ({baseline_accuracy:.3f})": baseline_accuracy,
                   f"noiseless, private only ({noiseless_private:.3f})": noiseless_private},
        title=f"{clean.name}: n_priv={n_private}, n_pub={n_public}, σ={sigma:.3g} "
              f"(no public: σ={sigma_private:.3g})")
    print(f"wrote {args.out}/shift.* and {plot} in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
