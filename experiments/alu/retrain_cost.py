"""Experiment f: unlearning steps K against retraining steps T on equal terms (certificate only).

ALU's abstract claims "a strict computational advantage over retraining". The earlier
``mass_deletion.py`` compared the certified K with an uncertified training budget (T = 600
steps), which is not a like-for-like comparison. Here both costs come from the same theory
(:mod:`jaxunlearn.certify.retraining`, our reconstruction; the ALU paper's text could not be
read): K is the number of PNGD steps that take a model drawn from ν_D (learning converged on
D_priv ∪ D_pub) within (ε, δ) of ν_{D′}; T is the number a fresh chain on D′ needs from the
data-free stationary law ν_∅ to the same (ε, δ). They differ only in the starting divergence,
αΔ²/(mσ²) with Δ = 2SM/(n_priv + n_pub) for unlearning and Δ_0 = M for retraining, so K ≤ T
exactly from n_pub ≥ 2S − n_priv on.

Setting (the Fashion-MNIST runs of ``fashion.py``): n_priv = 10,000, remove-S adjacency,
m = 0.05, η = 1/(1/4 + m), σ = 0.05, M = 1, ε = 1, δ = 1/n_priv. Tables:

* ``retrain_cost``: K, T and K/T over deleted fractions 1–90 % and n_pub = 0–100 × n_priv;
* ``retrain_crossover``: per fraction, the first n_pub with K < T (integer bisection; K is
  non-increasing in n_pub) next to the closed-form 2S − n_priv where K ≤ T starts;
* ``retrain_robustness``: K/T at 10 % and 50 % deletion for other σ, m, ε, and the earlier
  digits setting, whose 600-step budget is shown with its own certificate.

    python experiments/alu/retrain_cost.py [--small] [--out results/alu]

Writes ``retrain_cost*.{md,csv,json}`` and ``retrain_cost.png`` (K/T against n_pub, crossovers
marked). NumPy only, seconds.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from jaxunlearn.certify import (  # noqa: E402
    langevin_steps_for_target, public_for_no_more_than_retraining, retraining_epsilon,
    retraining_steps_for_target, unlearning_vs_retraining,
)

N_PRIVATE = 10_000
SETTING = {"sigma": 0.05, "strong_convexity": 0.05, "epsilon": 1.0}


def steps_pair(epsilon, sigma, m, n_private, n_public, deleted, delta=None):
    delta = 1.0 / n_private if delta is None else delta
    return unlearning_vs_retraining(epsilon, sigma=sigma, n_private=n_private, n_public=n_public,
                                    num_deleted=deleted, strong_convexity=m,
                                    step_size=1.0 / (0.25 + m), delta=delta, adjacency="remove")


def first_public_below(epsilon, sigma, m, n_private, deleted, retrain, limit):
    """Smallest n_pub ∈ [0, limit] with K < T (None if even ``limit`` does not get there)."""
    def below(n_public):
        return langevin_steps_for_target(
            epsilon, sigma=sigma, n_private=n_private, n_public=n_public, num_deleted=deleted,
            strong_convexity=m, step_size=1.0 / (0.25 + m), delta=1.0 / n_private,
            adjacency="remove") < retrain

    if below(0):
        return 0
    if not below(limit):
        return None
    low, high = 0, limit  # below(low) False, below(high) True
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if below(middle) else (middle, high)
    return high


def plot(rows, crossovers, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.6, 4.0))
    fractions = sorted({row["fraction"] for row in rows})
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(fractions)))
    for color, fraction in zip(colors, fractions):
        part = [row for row in rows if row["fraction"] == fraction]
        axis.plot([r["public_ratio"] for r in part], [r["k_over_t"] for r in part], marker="o",
                  ms=3, color=color, label=f"{100 * fraction:g} % deleted")
        cross = crossovers.get(fraction)
        if cross is not None:
            ratio = cross / N_PRIVATE
            value = float(np.interp(ratio, [r["public_ratio"] for r in part],
                                    [r["k_over_t"] for r in part]))
            axis.plot([ratio], [value], marker="X", ms=9, color=color, mec="black", zorder=5)
    axis.axhline(1.0, color="grey", ls="--", lw=0.8, label="K = T (retraining)")
    axis.set_xscale("symlog", linthresh=0.1)
    axis.set_xlim(left=0)
    axis.set_xlabel("n_pub / n_priv (0 = symmetric Langevin unlearning)")
    axis.set_ylabel("K / T  (unlearning / retraining steps)")
    axis.set_title(title, fontsize=8)
    axis.text(0.02, 0.02, "X: first n_pub with K < T", transform=axis.transAxes, fontsize=7)
    axis.legend(fontsize=7, loc="upper right")
    axis.grid(alpha=0.3, which="both")
    figure.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def main() -> int:
    args = common.parser(__doc__.split("\n")[0]).parse_args()
    timer = common.Timer()
    sigma, m, epsilon = SETTING["sigma"], SETTING["strong_convexity"], SETTING["epsilon"]
    if args.small:
        fractions, ratios = (0.1, 0.5, 0.7), (0, 0.5, 1, 10)
    else:
        fractions = (0.01, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
        ratios = (0, 0.1, 0.2, 0.4, 0.7, 1, 2, 4, 10, 30, 100)
    rows = []
    for fraction in fractions:
        deleted = int(round(fraction * N_PRIVATE))
        for ratio in ratios:
            n_public = int(round(ratio * N_PRIVATE))
            pair = steps_pair(epsilon, sigma, m, N_PRIVATE, n_public, deleted)
            rows.append({"fraction": fraction, "deleted": deleted, "public_ratio": ratio,
                         "n_public": n_public, "sensitivity": pair["sensitivity"],
                         "unlearn_steps": pair["unlearn_steps"],
                         "retrain_steps": pair["retrain_steps"], "k_over_t": pair["ratio"]})
    retrain = rows[0]["retrain_steps"]
    crossover_rows, crossovers = [], {}
    for fraction in fractions:
        deleted = int(round(fraction * N_PRIVATE))
        first = first_public_below(epsilon, sigma, m, N_PRIVATE, deleted, retrain,
                                   100 * N_PRIVATE)
        crossovers[fraction] = first
        crossover_rows.append({
            "fraction": fraction, "deleted": deleted,
            "k_at_no_public": next(r["unlearn_steps"] for r in rows
                                   if r["fraction"] == fraction and r["n_public"] == 0),
            "retrain_steps": retrain,
            "first_public_with_k_below_t": first,
            "closed_form_public_for_k_le_t": public_for_no_more_than_retraining(deleted,
                                                                                N_PRIVATE)})
        print(f"{100 * fraction:g} % deleted: K < T from n_pub = {first} "
              f"(K <= T from 2S - n_priv = {crossover_rows[-1]['closed_form_public_for_k_le_t']})"
              , flush=True)

    robust = []
    variants = [("fashion setting", sigma, m, epsilon, N_PRIVATE),
                ("sigma 0.02", 0.02, m, epsilon, N_PRIVATE),
                ("sigma 0.2", 0.2, m, epsilon, N_PRIVATE),
                ("m 0.01", sigma, 0.01, epsilon, N_PRIVATE),
                ("epsilon 0.1", sigma, m, 0.1, N_PRIVATE),
                ("epsilon 5", sigma, m, 5.0, N_PRIVATE),
                ("digits mass_deletion.py (m 0.01, n_priv 300)", 0.05, 0.01, 1.0, 300)]
    if args.small:
        variants = variants[:1] + variants[-1:]
    for name, s, mm, eps, n_private in variants:
        for fraction in (0.1, 0.5):
            for ratio in (0, 1, 3):
                deleted = int(round(fraction * n_private))
                pair = steps_pair(eps, s, mm, n_private, int(ratio * n_private), deleted)
                robust.append({"variant": name, "sigma": s, "strong_convexity": mm,
                               "epsilon": eps, "n_private": n_private, "fraction": fraction,
                               "public_ratio": ratio, "unlearn_steps": pair["unlearn_steps"],
                               "retrain_steps": pair["retrain_steps"],
                               "k_over_t": pair["ratio"]})
    # the earlier comparison's 600-step training budget, with its own certificate
    budget = retraining_epsilon(sigma=0.05, steps=600, strong_convexity=0.01,
                                step_size=1.0 / 0.26, delta=1.0 / 300)
    budget_t = retraining_steps_for_target(1.0, sigma=0.05, strong_convexity=0.01,
                                           step_size=1.0 / 0.26, delta=1.0 / 300)
    print(f"digits mass_deletion.py: a 600-step retraining from the data-free law certifies "
          f"eps = {budget['epsilon']:.3f}; eps = 1 needs T = {budget_t}")

    meta = common.metadata(
        args, n_private=N_PRIVATE, sigma=sigma, strong_convexity=m, step_size=1.0 / (0.25 + m),
        epsilon=epsilon, delta=1.0 / N_PRIVATE, adjacency="remove", clip_norm=1.0,
        retrain_steps=retrain, retrain_start="data-free stationary law N(0, 2σ²/(m(2 − ηm)) I)",
        retrain_sensitivity="M (data gradient of norm <= M)",
        digits_budget={"steps": 600, "epsilon_certified": budget["epsilon"],
                       "steps_for_epsilon_1": budget_t})
    common.write(rows, ["fraction", "deleted", "public_ratio", "n_public", "sensitivity",
                        "unlearn_steps", "retrain_steps", "k_over_t"], args.out, "retrain_cost",
                 meta)
    common.write(crossover_rows, ["fraction", "deleted", "k_at_no_public", "retrain_steps",
                                  "first_public_with_k_below_t", "closed_form_public_for_k_le_t"],
                 args.out, "retrain_crossover", meta)
    common.write(robust, ["variant", "sigma", "strong_convexity", "epsilon", "n_private",
                          "fraction", "public_ratio", "unlearn_steps", "retrain_steps",
                          "k_over_t"], args.out, "retrain_robustness", meta)
    path = plot(rows, crossovers, os.path.join(args.out, "retrain_cost.png"),
                f"certified K vs T for (ε={epsilon:g}, δ=1/n_priv): n_priv={N_PRIVATE}, "
                f"σ={sigma}, m={m}, T={retrain}")
    print(f"wrote {args.out}/retrain_*.* and {path} in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
