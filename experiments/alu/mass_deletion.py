"""Experiment c: mass deletion — removing 10–50 % of the private set, with and without public data.

For a deletion of S = ρ·n_priv private points the symmetric sensitivity 2SM/n_priv = 2ρM does
not shrink with the data, so the certified ε0 = 4αρ²M²/(mσ²) stays large whatever n is; with
public data it is multiplied by (n_priv/(n_priv + n_pub))² (alu.md §4.2, "mass unlearning").
At a utility-preserving noise σ_ref the experiment reports

* the K the certificate needs for ε (remove-S adjacency, δ = 1/n_priv) for public sets of
  0–100 × n_priv, against the retraining cost T (certificate only);
* for the public sets at hand: C chains learn T steps on D_priv ∪ D_pub, S random private rows
  are removed (weight 0), and the chains unlearn for exactly the certified K steps; test accuracy
  of the unlearned and of retrained (T steps on D′) models;
* the σ a fixed budget of K_budget steps would need instead (certificate only).

The retraining cost T here is the learning burn-in, which carries no certificate of its own;
``retrain_cost.py`` and ``fashion.py`` compare K with the steps a retraining chain needs for
the same (ε, δ) (:mod:`jaxunlearn.certify.retraining`).

    python experiments/alu/mass_deletion.py [--small] [--out results/alu]

Writes ``mass_deletion.{md,csv,json}``, ``mass_deletion_steps.{md,csv,json}`` and
``mass_deletion.png``.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.alu import binary_logistic_task  # noqa: E402
from jaxunlearn.certify import langevin_sigma_for_target, langevin_steps_for_target  # noqa: E402

RATIOS = (0, 1, 3, 10, 30, 100)


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    if args.small:
        task = binary_logistic_task("digits", negative=range(5), positive=range(5, 10),
                                    num_private=150, num_public=300, seed=args.seed)
        publics, fractions, (chains, burn_in) = (0, 300), (0.5,), (4, 100)
    else:
        task = binary_logistic_task("digits", negative=range(5), positive=range(5, 10),
                                    num_private=300, num_public=900, seed=args.seed)
        publics, fractions, (chains, burn_in) = (0, 300, 900), (0.1, 0.2, 0.3, 0.5), (8, 600)
    epsilon, sigma, budget, max_steps = 1.0, 0.05, 100, 4000

    def kwargs(n_public, deleted):
        return common.certificate_kwargs(n_private=task.num_private, n_public=n_public,
                                         num_deleted=deleted, adjacency="remove")

    steps_rows, series = [], {}
    for ratio in RATIOS:
        needed = []
        for fraction in fractions:
            deleted = int(round(fraction * task.num_private))
            k = langevin_steps_for_target(epsilon, sigma=sigma,
                                          **kwargs(ratio * task.num_private, deleted))
            needed.append(k)
            steps_rows.append({"public_ratio": ratio, "fraction": fraction, "deleted": deleted,
                               "steps_needed": k, "steps_over_retrain": k / burn_in,
                               "sigma_for_budget": langevin_sigma_for_target(
                                   epsilon, budget, **kwargs(ratio * task.num_private, deleted))})
        series["no public (symmetric)" if ratio == 0 else f"n_pub = {ratio} n_priv"] = (
            [100 * f for f in fractions], needed)

    _, noiseless = common.noiseless_optimum(task, 0, burn_in)
    rows = []
    for n_public in publics:
        for fraction in fractions:
            deleted = int(round(fraction * task.num_private))
            steps = langevin_steps_for_target(epsilon, sigma=sigma, **kwargs(n_public, deleted))
            row = {"task": task.name, "n_private": task.num_private, "n_public": n_public,
                   "fraction": fraction, "deleted": deleted, "epsilon": epsilon, "sigma": sigma,
                   "steps": steps, "retrain_steps": burn_in}
            if steps <= max_steps:
                result = common.run_protocol(task, n_public, sigma, num_deleted=deleted,
                                             chains=chains, burn_in=burn_in, unlearn_steps=steps,
                                             seed=args.seed, adjacency="remove")
                unlearned = common.mean_std(result["accuracy"]["unlearned"])
                row.update(acc_learned=common.mean_std(result["accuracy"]["learned"])[0],
                           acc_unlearned=unlearned[0], acc_unlearned_std=unlearned[1],
                           acc_retrained=common.mean_std(result["accuracy"]["retrained"])[0])
            rows.append(row)
            print(f"n_pub={n_public} rho={fraction:g}: K={steps} (T={burn_in}) "
                  f"acc={row.get('acc_unlearned', float('nan')):.3f}", flush=True)
    meta = common.metadata(args, epsilon=epsilon, sigma=sigma, budget_steps=budget,
                           chains=chains, burn_in=burn_in, adjacency="remove",
                           max_steps_run=max_steps, acc_noiseless_private=noiseless)
    common.write(steps_rows, ["public_ratio", "fraction", "deleted", "steps_needed",
                              "steps_over_retrain", "sigma_for_budget"],
                 args.out, "mass_deletion_steps", meta)
    common.write(rows, ["task", "n_private", "n_public", "fraction", "deleted", "epsilon", "sigma",
                        "steps", "retrain_steps", "acc_learned", "acc_unlearned",
                        "acc_unlearned_std", "acc_retrained"], args.out, "mass_deletion", meta)
    plot = common.line_plot(
        series, os.path.join(args.out, "mass_deletion.png"), xlabel="deleted share of D_priv (%)",
        ylabel=f"certified K for ε={epsilon:g} at σ={sigma}", logy=True,
        reference={f"retraining cost T = {burn_in}": burn_in},
        title=f"{task.name} setting: n_priv={task.num_private}, m={common.STRONG_CONVEXITY}, "
              "remove-S")
    print(f"noiseless accuracy (private only) {noiseless:.3f}")
    print(f"wrote {args.out}/mass_deletion*.* and {plot} in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
