"""Experiment b: test accuracy against the certified ε, with and without public data.

For each task (digits 0–4 vs 5–9; Fashion-MNIST sandal vs ankle boot, 14×14 features, when the
files are installed), each public-set size and each target ε, σ is the smallest noise whose
certificate after K unlearning steps meets ε (``langevin_sigma_for_target``, one replaced private
point, δ = 1/n_priv); then C chains learn T steps of PNGD on D_priv ∪ D_pub, a random private
point is replaced, K steps unlearn, and the unlearned models are scored on the test set (retrained
models and the noiseless optimum for reference). Public data lower Δ = 2M/(n_priv + n_pub), hence
the σ a given ε needs, hence the noise in the model (alu.md §4.2; the paper's Fig. 3a protocol of
Chien et al. with public data added).

    python experiments/alu/utility.py [--small] [--out results/alu]

Writes ``utility.{md,csv,json}`` and ``utility_<task>.png``.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.alu import binary_logistic_task  # noqa: E402
from jaxunlearn.certify import langevin_sigma_for_target  # noqa: E402


def tasks(small: bool, seed: int):
    """(task, public sizes) pairs of the experiment."""
    if small:
        yield binary_logistic_task("digits", negative=range(5), positive=range(5, 10),
                                   num_private=150, num_public=300, seed=seed), (0, 300)
        return
    yield binary_logistic_task("digits", negative=range(5), positive=range(5, 10),
                               num_private=300, num_public=900, seed=seed), (0, 300, 900)
    if common.fashion_available():
        yield binary_logistic_task("fashion_mnist", negative=(7,), positive=(9,),
                                   num_private=500, num_public=2000, pool=2,
                                   seed=seed), (0, 500, 2000)
    else:
        print("Fashion-MNIST is not installed: digits only")


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    epsilons = (0.5, 2.0) if args.small else (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
    chains, burn_in, steps = (4, 100, 10) if args.small else (8, 500, 50)
    rows, plots = [], []
    for task, publics in tasks(args.small, args.seed):
        _, noiseless = common.noiseless_optimum(task, publics[-1], burn_in)
        _, noiseless_private = common.noiseless_optimum(task, 0, burn_in)
        series, errors = {}, {}
        for n_public in publics:
            kwargs = common.certificate_kwargs(n_private=task.num_private, n_public=n_public,
                                               num_deleted=1)
            accuracies, spreads = [], []
            for epsilon in epsilons:
                sigma = langevin_sigma_for_target(epsilon, steps, **kwargs)
                result = common.run_protocol(task, n_public, sigma, num_deleted=1,
                                             chains=chains, burn_in=burn_in, unlearn_steps=steps,
                                             seed=args.seed)
                unlearned = common.mean_std(result["accuracy"]["unlearned"])
                retrained = common.mean_std(result["accuracy"]["retrained"])
                rows.append({"task": task.name, "n_private": task.num_private,
                             "n_public": n_public, "epsilon": epsilon, "sigma": sigma,
                             "steps": steps, "acc_unlearned": unlearned[0],
                             "acc_unlearned_std": unlearned[1], "acc_retrained": retrained[0],
                             "acc_noiseless_private": noiseless_private,
                             "acc_noiseless_all": noiseless})
                accuracies.append(unlearned[0])
                spreads.append(unlearned[1])
                print(f"{task.name}: n_pub={n_public} eps={epsilon:g} sigma={sigma:.4g} "
                      f"acc={unlearned[0]:.3f}±{unlearned[1]:.3f}", flush=True)
            label = "no public (symmetric)" if n_public == 0 else f"n_pub = {n_public}"
            series[label], errors[label] = (list(epsilons), accuracies), spreads
        name = task.name.split()[0]
        plots.append(common.line_plot(
            series, os.path.join(args.out, f"utility_{name}.png"),
            xlabel="certified ε (δ = 1/n_priv)",
            ylabel="test accuracy after unlearning", logx=True, errors=errors,
            reference={f"noiseless, private only ({noiseless_private:.3f})": noiseless_private,
                       f"noiseless, all public ({noiseless:.3f})": noiseless},
            title=f"{task.name}: n_priv={task.num_private}, K={steps}, T={burn_in}, "
                  f"{chains} chains"))
    columns = ["task", "n_private", "n_public", "epsilon", "sigma", "steps", "acc_unlearned",
               "acc_unlearned_std", "acc_retrained", "acc_noiseless_private", "acc_noiseless_all"]
    common.write(rows, columns, args.out, "utility", common.metadata(
        args, epsilons=list(epsilons), chains=chains, burn_in=burn_in, unlearn_steps=steps,
        strong_convexity=common.STRONG_CONVEXITY, step_size=common.STEP_SIZE))
    print(f"wrote {args.out}/utility.* and {', '.join(plots)} in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
