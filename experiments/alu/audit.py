"""Experiment e: an empirical audit of unlearned against retrained models, next to the certificate.

C independent chains (one vmapped program per phase) learn T steps of PNGD on D_priv ∪ D_pub,
S private rows are replaced (the official adjacency), K steps unlearn; C more chains retrain T
steps on D′ from a fresh initialisation. The certificate bounds D_α(unlearned ‖ retrained) by
ε_RU(α) at every α; by data processing any statistic of the parameters obeys the same bound. The
audit uses a 2-D statistic — the mean margin y·xᵀw over the deleted rows, and the projection on
the difference of the two laws' means estimated on a held-out quarter of the chains — and

* the variational Rényi estimate at the certificate's α (``estimate_renyi``: critic bounded by
  B, fitted on one half, evaluated on the other, DP-Auditorium's lower confidence end at
  β = 0.05). B = log(N/(8 log(2/β)))/(2α) for N held-out samples, so that e^{2αB} = N/(8 log(2/β))
  and the Chernoff error of the e^{αg} mean is 1/2: the lower end stays finite, at the price of
  estimates capped at 2αB;
* a Gaussian plug-in D_α of the margin statistic (context, not a bound);
* U-LiRA (Hayes et al., SaTML 2025) between unlearned and retrained models on the deleted rows.

The script exits with status 1, loudly, if a lower confidence end exceeds the certified ε_RU(α):
that would falsify the certificate (or the code).

    python experiments/alu/audit.py [--small] [--out results/alu]

Writes ``audit.{md,csv,json}`` and ``audit.png``.
"""

from __future__ import annotations

import math
import os
import sys

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.alu import binary_logistic_task, logistic_margins  # noqa: E402
from jaxunlearn.certify import (  # noqa: E402
    gradient_sensitivity, langevin_epsilon, lu_eps0, lu_renyi,
)
from jaxunlearn.evaluate import renyi_gaussian, ulira_game  # noqa: E402
from jaxunlearn.evaluate.divergence import estimate_renyi  # noqa: E402

MAX_AUDIT_ALPHA = 8.0  # beyond it the e^{αg} weights make a variational estimate meaningless
BETA = 0.05


def critic_bound(num_test: int, alpha: float) -> float:
    """B with e^{2αB} = N/(8 log(2/β)): a finite lower confidence end (module docstring)."""
    return max(math.log(num_test / (8.0 * math.log(2.0 / BETA))), 0.1) / (2.0 * alpha)


def statistics(draws, updated, original_data, indices, split: int):
    """Per-chain features of the unlearned and retrained laws (evaluation chains only)."""
    unlearned = np.asarray(draws.unlearned["w"], np.float64)
    retrained = np.asarray(draws.retrained["w"], np.float64)
    inputs = np.asarray(original_data.inputs)[indices]
    labels = np.asarray(original_data.labels)[indices].astype(np.float64)
    margins_u = logistic_margins(unlearned, inputs) * labels
    margins_r = logistic_margins(retrained, inputs) * labels
    direction = unlearned[:split].mean(axis=0) - retrained[:split].mean(axis=0)
    direction /= max(np.linalg.norm(direction), 1e-12)
    features_u = np.stack([margins_u[split:].mean(axis=1), unlearned[split:] @ direction], 1)
    features_r = np.stack([margins_r[split:].mean(axis=1), retrained[split:] @ direction], 1)
    return features_u, features_r, margins_u, margins_r


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    n_private, deleted, sigma = 100, 10, 0.05
    publics = (0, 300)
    if args.small:
        chains, burn_in, critic_steps, warm_start = 256, 100, 200, 100
    else:
        chains, burn_in, critic_steps, warm_start = 4096, 300, 1000, 500
    steps_list = (25,) if args.small else (0, 25, 100)
    task = binary_logistic_task("digits", negative=range(5), positive=range(5, 10),
                                num_private=n_private, num_public=max(publics), pool=2,
                                seed=args.seed)
    rows, violations = [], []
    for n_public in publics:
        kwargs = common.certificate_kwargs(n_private=n_private, n_public=n_public,
                                           num_deleted=deleted)
        sensitivity = gradient_sensitivity(deleted, common.CLIP_NORM, n_private, n_public)
        for steps in steps_list:
            certificate = langevin_epsilon(sigma=sigma, steps=steps, **kwargs)
            alpha = min(certificate["alpha"], MAX_AUDIT_ALPHA)
            certified = float(lu_renyi(alpha, steps, common.STEP_SIZE, common.STRONG_CONVEXITY,
                                       lu_eps0(alpha, sensitivity, common.STRONG_CONVEXITY,
                                               sigma)))
            result = common.run_protocol(task, n_public, sigma, num_deleted=deleted,
                                         chains=chains, burn_in=burn_in, unlearn_steps=steps,
                                         seed=args.seed)
            features_u, features_r, margins_u, margins_r = statistics(
                result["draws"], result["updated"], result["data"], result["indices"],
                chains // 4)
            bound = critic_bound(len(features_u) // 2, alpha)
            estimate = estimate_renyi(features_u, features_r, alpha, steps=critic_steps,
                                      warm_start_steps=warm_start, bound=bound, beta=BETA,
                                      key=jax.random.key(args.seed))
            mean_u, mean_r = margins_u.mean(axis=1), margins_r.mean(axis=1)
            plug_in = renyi_gaussian(mean_u.mean(), mean_u.std(), mean_r.mean(), mean_r.std(),
                                     alpha)
            mask = np.ones(margins_u.shape, bool)
            game = ulira_game(margins_u, mask, margins_r, np.ones(margins_r.shape, bool),
                              num_targets=min(200, chains // 2), key=args.seed)
            row = {"n_public": n_public, "deleted": deleted, "sigma": sigma, "steps": steps,
                   "eps_dp": certificate["epsilon"], "alpha": alpha, "certified_renyi": certified,
                   "audit_estimate": estimate.test, "audit_lower": estimate.lower,
                   "critic_bound": bound,
                   "gaussian_plug_in": plug_in, "ulira_accuracy": game["balanced_accuracy"],
                   "ulira_auc": game["auc"], "margin_gap": float(mean_u.mean() - mean_r.mean()),
                   "chains": chains}
            rows.append(row)
            status = "ok"
            if estimate.lower > certified:
                status = "AUDIT EXCEEDS CERTIFICATE"
                violations.append(row)
            print(f"n_pub={n_public} K={steps}: certified D_{alpha:.3g} <= {certified:.4g}; "
                  f"audit {estimate.test:.4g} (lower {estimate.lower:.4g}), plug-in "
                  f"{plug_in:.4g}, U-LiRA acc {game['balanced_accuracy']:.3f} [{status}]",
                  flush=True)
    columns = ["n_public", "deleted", "steps", "eps_dp", "alpha", "certified_renyi",
               "audit_estimate", "audit_lower", "critic_bound", "gaussian_plug_in", "ulira_accuracy", "ulira_auc",
               "margin_gap", "chains"]
    common.write(rows, columns, args.out, "audit", common.metadata(
        args, n_private=n_private, deleted=deleted, sigma=sigma, burn_in=burn_in,
        critic_steps=critic_steps, max_audit_alpha=MAX_AUDIT_ALPHA, adjacency="replace",
        features="mean deleted-row margin; projection on the mean difference (held-out quarter)"))
    series = {}
    for n_public in publics:
        part = [row for row in rows if row["n_public"] == n_public]
        label = "no public" if n_public == 0 else f"n_pub = {n_public}"
        series[f"audit, {label}"] = ([r["steps"] for r in part],
                                     [max(r["audit_estimate"], 1e-4) for r in part])
        series[f"certified, {label}"] = ([r["steps"] for r in part],
                                         [r["certified_renyi"] for r in part])
    plot = common.line_plot(series, os.path.join(args.out, "audit.png"),
                            xlabel="unlearning steps K", ylabel="D_α(unlearned ‖ retrained)",
                            logy=True, title=f"digits, n_priv={n_private}, S={deleted}, "
                                             f"σ={sigma}, {chains} chains")
    print(f"wrote {args.out}/audit.* and {plot} in {timer():.1f} s")
    if violations:
        print(f"FAILED: {len(violations)} audit(s) exceed the certificate: {violations}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
