"""Experiment a: the certified divergence and the unlearning cost against the amount of public data.

ALU's claim (Inane et al., ICML 2026, abstract): public data "suppresses the unlearning cost by a
factor O(1/n_pub²)". Under the coded bounds (Chien et al. 2024, strongly convex corollary; alu.md
§1.2 and §4.2) public rows only shrink the sensitivity Δ = 2SM/(n_priv + n_pub), so

* ε0(α) = αΔ²/(mσ²) and ε_RU(α, K) = e^{−ηmK/α} ε0(α) at fixed α fall as n_pub^{−2} (log-log
  slope → −2 once n_pub ≫ n_priv), while ε_DP (optimised over α, plus log(1/δ)/(α − 1)) falls
  more slowly;
* the K needed for a target ε falls only **logarithmically**: K ≈ (α/(ηm)) log(ε0(α)/ε_RU).

With the official convention m = λ·(n_priv + n_pub) the strong convexity also grows with public
data and ε0 falls as n_pub^{−3}; that column is reported too. Pure NumPy (jaxunlearn.certify).

    python experiments/alu/certified.py [--small] [--out results/alu]

Writes ``certified.{md,csv,json}``, ``certified_vs_npub.png`` and ``steps_vs_npub.png``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.certify import (  # noqa: E402
    gradient_sensitivity, langevin_epsilon, langevin_steps_for_target, logistic_constants,
    lu_eps0, lu_renyi,
)


def fitted_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    n_private, deleted, sigma, alpha, fixed_steps, target = 10_000, 100, 0.03, 10.0, 500, 1.0
    lam = 1e-6  # the official λ, for the m = λ·n_total column
    count = 7 if args.small else 25
    ratios = np.concatenate([[0.0], np.logspace(-2, 2, count)])
    n_publics = np.unique(np.round(ratios * n_private).astype(int))
    m, eta = common.STRONG_CONVEXITY, common.STEP_SIZE
    rows = []
    for n_public in n_publics:
        kwargs = common.certificate_kwargs(n_private=n_private, n_public=int(n_public),
                                           num_deleted=deleted)
        sensitivity = gradient_sensitivity(deleted, common.CLIP_NORM, n_private, int(n_public))
        eps0 = float(lu_eps0(alpha, sensitivity, m, sigma))
        eps_ru = float(lu_renyi(alpha, fixed_steps, eta, m, eps0))
        dp = langevin_epsilon(sigma=sigma, steps=fixed_steps, **kwargs)
        steps = langevin_steps_for_target(target, sigma=sigma, **kwargs)
        m_official, L_official = logistic_constants(lam, n_private + int(n_public))
        eps0_official = float(lu_eps0(alpha, sensitivity, m_official, sigma))
        rows.append({"n_public": int(n_public), "ratio": float(n_public) / n_private,
                     "sensitivity": sensitivity, "eps0": eps0, "eps_ru": eps_ru,
                     "eps_dp": dp["epsilon"], "alpha_dp": dp["alpha"],
                     "steps_for_target": int(steps), "eps0_official_m": eps0_official})
    large = [row for row in rows if row["ratio"] >= 10.0]
    x = [row["n_public"] for row in large]
    slopes = {name: fitted_slope(x, [row[name] for row in large])
              for name in ("eps0", "eps_ru", "eps_dp", "eps0_official_m")}
    positive = [row for row in rows if row["n_public"] >= n_private and row["steps_for_target"] > 0]
    k_fit = (np.polyfit(np.log([row["n_public"] for row in positive]),
                        [row["steps_for_target"] for row in positive], 1)
             if len(positive) >= 2 else [float("nan"), float("nan")])
    settings = {"n_private": n_private, "num_deleted": deleted, "sigma": sigma, "alpha": alpha,
                "fixed_steps": fixed_steps, "target_epsilon": target, "strong_convexity": m,
                "step_size": eta, "delta": 1.0 / n_private, "official_lambda": lam,
                "slopes_for_n_public_ge_10_n_private": slopes,
                "steps_per_log_n_public": float(k_fit[0])}
    columns = ["n_public", "ratio", "sensitivity", "eps0", "eps_ru", "eps_dp", "alpha_dp",
               "steps_for_target", "eps0_official_m"]
    common.write(rows, columns, args.out, "certified", common.metadata(args, **settings))

    publics = [row["n_public"] for row in rows if row["n_public"] > 0]
    pick = lambda name: [row[name] for row in rows if row["n_public"] > 0]  # noqa: E731
    common.line_plot(
        {f"ε0(α={alpha:g}) slope {slopes['eps0']:.2f}": (publics, pick("eps0")),
         f"ε_RU(α={alpha:g}, K={fixed_steps}) slope {slopes['eps_ru']:.2f}":
             (publics, pick("eps_ru")),
         f"ε_DP(K={fixed_steps}) slope {slopes['eps_dp']:.2f}": (publics, pick("eps_dp")),
         f"ε0 with m = λ·n slope {slopes['eps0_official_m']:.2f}":
             (publics, pick("eps0_official_m"))},
        os.path.join(args.out, "certified_vs_npub.png"), xlabel="n_pub", ylabel="certified ε",
        logx=True, logy=True,
        title=f"n_priv={n_private}, S={deleted}, σ={sigma}, m={m} (slopes for n_pub ≥ 10 n_priv)")
    common.line_plot(
        {f"K for ε={target:g}": (publics, pick("steps_for_target"))},
        os.path.join(args.out, "steps_vs_npub.png"), xlabel="n_pub (log scale)",
        ylabel="unlearning steps K", logx=True,
        reference={f"K at n_pub = 0: {rows[0]['steps_for_target']}": rows[0]["steps_for_target"]},
        title=f"K falls by {-k_fit[0]:.0f} steps per e-fold of n_pub (n_pub ≥ n_priv)")
    print("log-log slopes (n_pub >= 10 n_priv): " +
          ", ".join(f"{k} {v:.3f}" for k, v in slopes.items()))
    print(f"K for eps={target:g}: {rows[0]['steps_for_target']} at n_pub=0, "
          f"{rows[-1]['steps_for_target']} at n_pub={rows[-1]['n_public']}; "
          f"{k_fit[0]:.1f} steps per unit of log n_pub (n_pub >= n_priv)")
    print(f"wrote {args.out}/certified.* and two plots in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
