"""Experiment g: ALU at n_priv = 10,000 (Fashion-MNIST) — mass deletion, shift and audit, with
retraining certified on the same terms as unlearning.

Task: Fashion-MNIST classes 0–4 (T-shirt, trouser, pullover, dress, coat) against 5–9 (sandal,
shirt, sneaker, bag, ankle boot), images average-pooled 4×4 (7×7 = 49 features), rows scaled to
‖x‖ = 1, labels ±1; a private set of 10,000 training images and public sets drawn from the other
50,000 (``binary_logistic_task``; corruption c and class skew s shift them). Model: ℓ2-regularised
logistic regression, m = 0.05, η = 1/(1/4 + m), σ = 0.05, clip M = 1 with the regulariser after
the clip (for ‖x‖ = 1 no logistic gradient exceeds M, so the dynamics are exactly PNGD on an
m-strongly convex objective, as the certificate assumes), no projection, remove-S deletions,
ε = 1, δ = 1/n_priv. Noise seeds are vmapped chains.

Equal terms (:mod:`jaxunlearn.certify.retraining`, our reconstruction; the ALU paper's text
could not be read): every chain starts from ν_∅ (:func:`jaxunlearn.alu.data_free_init`), learns
T steps on D, where T is the number of steps the theory needs to certify a fresh chain within
(ε, δ) of its target (the training budget with its own certificate), unlearns the certified K
steps on D′, and the reference retrains T steps on D′ from a fresh ν_∅ draw.

Parts (``--part``):

* ``mass``: deleted fractions 10/30/50 % and n_pub = 0, 1×, 4× n_priv: K, T, K/T, test accuracy
  of the learned, unlearned and retrained models; symmetric Langevin unlearning (n_pub = 0) at
  the same σ (its K) and at ALU's K with the σ its certificate then needs ("equal steps");
* ``shift``: 30 % deleted, n_pub = n_priv, public sets corrupted (c) or class-skewed (s):
  accuracy against the shift next to the symmetric baselines and the noiseless optima;
* ``audit``: 10 % deleted, n_pub ∈ {0, n_priv}, many chains: at K ∈ {0, 5, 20, K_cert} the
  variational Rényi estimate with its lower confidence end (``estimate_renyi``) and U-LiRA on the
  deleted rows, next to the certified ε_RU at the same α (the statistics of ``audit.py``).
  ``--audit-deletion hardest`` deletes the private rows the noiseless private optimum fits
  worst instead of random ones (a deletion that moves the law, to see how close an audit gets).
  To afford 512 chains per law, learning and retraining run 300 steps instead of T: two
  chains of this gradient descent driven by the same noise approach each other by a factor
  (1 − ηm) = 5/6 per step (m-strongly convex, L-smooth, η = 1/L), so after 300 steps the law is
  within 10⁻²³ of its stationary one in W2, far below anything an audit resolves.

    python experiments/alu/fashion.py [--part mass|shift|audit|all] [--small] [--out results/alu]
    python experiments/alu/fashion.py --part audit --audit-deletion hardest

Writes ``fashion_{mass,shift,audit}.{md,csv,json}`` and ``.png``. Minutes on 2 CPU cores
(``--small``: seconds, 500 private rows).
"""

from __future__ import annotations

import os
import sys
import types

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit as audit_tools  # noqa: E402
import common  # noqa: E402

from jaxunlearn.alu import (  # noqa: E402
    LangevinDynamics, binary_logistic_task, data_free_init, delete_private, linear_params,
    logistic_accuracy, logistic_loss, logistic_margins, run_chains,
)
from jaxunlearn.certify import (  # noqa: E402
    gradient_sensitivity, langevin_epsilon, langevin_sigma_for_target,
    langevin_steps_for_target, lu_eps0, lu_renyi, retraining_steps_for_target,
)

M, STRONG_CONVEXITY, SIGMA, EPSILON = 1.0, 0.05, 0.05, 1.0
STEP_SIZE = 1.0 / (0.25 + STRONG_CONVEXITY)
CLASSES = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))
POOL = 4
PHASES = {"learn": 1, "unlearn": 2, "retrain_init": 3, "retrain": 4, "init": 5}


def config(small: bool) -> dict:
    if small:
        return {"n_private": 500, "publics": (0, 500), "fractions": (0.3,), "chains": 4,
                "shift_public": 500, "shift_fraction": 0.3,
                "shift_levels": {"corruption": (4.0,), "class_skew": (4.0,)},
                "audit_publics": (0, 500), "audit_fraction": 0.1, "audit_chains": 64,
                "audit_steps": (0, 5), "audit_burn_in": 200, "critic_steps": 100,
                "warm_start": 50}
    return {"n_private": 10_000, "publics": (0, 10_000, 40_000), "fractions": (0.1, 0.3, 0.5),
            "chains": 32, "shift_public": 10_000, "shift_fraction": 0.3,
            "shift_levels": {"corruption": (1.0, 2.0, 4.0, 8.0),
                             "class_skew": (1.0, 2.0, 4.0, 8.0)},
            "audit_publics": (0, 10_000), "audit_fraction": 0.1, "audit_chains": 512,
            "audit_steps": (0, 5, 20, "certified"), "audit_burn_in": 300, "critic_steps": 600,
            "warm_start": 300}


def dynamics(sigma: float) -> LangevinDynamics:
    return LangevinDynamics(logistic_loss, step_size=STEP_SIZE, sigma=float(sigma), clip_norm=M,
                            regularization=STRONG_CONVEXITY, regularizer="after")


def delta(n_private: int) -> float:
    return 1.0 / n_private


def retrain_steps(sigma: float, n_private: int) -> int:
    return retraining_steps_for_target(EPSILON, sigma=sigma, strong_convexity=STRONG_CONVEXITY,
                                       step_size=STEP_SIZE, delta=delta(n_private), clip_norm=M)


def unlearn_steps(sigma, n_private, n_public, deleted) -> int:
    return langevin_steps_for_target(EPSILON, sigma=sigma, n_private=n_private,
                                     n_public=n_public, num_deleted=deleted, clip_norm=M,
                                     strong_convexity=STRONG_CONVEXITY, step_size=STEP_SIZE,
                                     delta=delta(n_private), adjacency="remove")


def sigma_for_steps(steps, n_private, n_public, deleted) -> float:
    return langevin_sigma_for_target(EPSILON, steps, n_private=n_private, n_public=n_public,
                                     num_deleted=deleted, clip_norm=M,
                                     strong_convexity=STRONG_CONVEXITY, step_size=STEP_SIZE,
                                     delta=delta(n_private), adjacency="remove")


def key_for(seed: int, *tags: int) -> jax.Array:
    key = jax.random.key(seed)
    for tag in tags:
        key = jax.random.fold_in(key, int(tag))
    return key


def advance(sigma, params, data, steps, key, chains):
    """``steps`` PNGD steps of ``chains`` chains (params with a leading chain axis)."""
    if steps == 0:
        return params
    return run_chains(dynamics(sigma), params, data, jax.random.split(key, chains), steps=steps,
                      params_per_chain=True).params


def fresh(sigma, dim, key, chains):
    return data_free_init(key, linear_params(dim), dynamics(sigma), chains=chains)


def deletion(data, n_private, deleted, seed):
    rng = np.random.default_rng([seed, deleted])
    indices = np.sort(rng.choice(n_private, deleted, replace=False))
    return indices, delete_private(data, indices, adjacency="remove")


def accuracy(params, task):
    values = np.asarray(logistic_accuracy(params, task.test_inputs, task.test_labels))
    return float(values.mean()), float(values.std())


def noiseless(task, data, steps=300):
    """Accuracy and weights of the σ = 0 optimum on ``data`` (one deterministic chain)."""
    params = advance(0.0, {"w": np.zeros((1, task.dim), np.float32)}, data, steps,
                     jax.random.key(0), 1)
    return accuracy(params, task)[0], np.asarray(params["w"][0], np.float64)


def load(args, cfg, n_public, **shift):
    from jaxunlearn.data import load_fashion_mnist

    if not hasattr(load, "datasets"):
        load.datasets = load_fashion_mnist()
    return binary_logistic_task("fashion_mnist", negative=CLASSES[0], positive=CLASSES[1],
                                num_private=cfg["n_private"], num_public=n_public, pool=POOL,
                                seed=args.seed, datasets=load.datasets, **shift)


def learn_unlearn_retrain(args, cfg, task, n_public, deleted, sigma, *, tag, learned=None,
                          steps=None, burn_in=None):
    """One equal-terms protocol run; returns accuracies, K, T and the learned chains."""
    n_private, chains = cfg["n_private"], cfg["chains"]
    data = task.data(num_public=n_public)
    burn_in = retrain_steps(sigma, n_private) if burn_in is None else burn_in
    steps = unlearn_steps(sigma, n_private, n_public, deleted) if steps is None else steps
    if learned is None:
        start = fresh(sigma, task.dim, key_for(args.seed, tag, PHASES["init"]), chains)
        learned = advance(sigma, start, data, burn_in, key_for(args.seed, tag, PHASES["learn"]),
                          chains)
    _, updated = deletion(data, n_private, deleted, args.seed)
    unlearned = advance(sigma, learned, updated, steps,
                        key_for(args.seed, tag, deleted, PHASES["unlearn"]), chains)
    restart = fresh(sigma, task.dim, key_for(args.seed, tag, deleted, PHASES["retrain_init"]),
                    chains)
    retrained = advance(sigma, restart, updated, burn_in,
                        key_for(args.seed, tag, deleted, PHASES["retrain"]), chains)
    return {"learned": learned, "unlearn_steps": steps, "retrain_steps": burn_in,
            "acc_learned": accuracy(learned, task), "acc_unlearned": accuracy(unlearned, task),
            "acc_retrained": accuracy(retrained, task), "updated": updated}


def part_mass(args, cfg):
    n_private = cfg["n_private"]
    task = load(args, cfg, max(cfg["publics"]))
    rows = []
    for n_public in cfg["publics"]:
        learned = None
        for fraction in cfg["fractions"]:
            deleted = int(round(fraction * n_private))
            run = learn_unlearn_retrain(args, cfg, task, n_public, deleted, SIGMA,
                                        tag=10 + n_public, learned=learned)
            learned = run["learned"]
            rows.append({
                "method": "symmetric (n_pub = 0)" if n_public == 0 else "ALU",
                "n_public": n_public, "fraction": fraction, "deleted": deleted, "sigma": SIGMA,
                "unlearn_steps": run["unlearn_steps"], "retrain_steps": run["retrain_steps"],
                "k_over_t": run["unlearn_steps"] / run["retrain_steps"],
                "acc_learned": run["acc_learned"][0], "acc_unlearned": run["acc_unlearned"][0],
                "acc_unlearned_std": run["acc_unlearned"][1],
                "acc_retrained": run["acc_retrained"][0],
                "acc_retrained_std": run["acc_retrained"][1]})
            print(f"n_pub={n_public} {100 * fraction:g}%: K={run['unlearn_steps']} "
                  f"T={run['retrain_steps']} acc unlearned {run['acc_unlearned'][0]:.4f} "
                  f"retrained {run['acc_retrained'][0]:.4f}", flush=True)
    # symmetric unlearning held to ALU's step count (largest public set): the σ it then needs
    largest = max(cfg["publics"])
    for fraction in cfg["fractions"]:
        deleted = int(round(fraction * n_private))
        steps = unlearn_steps(SIGMA, n_private, largest, deleted)
        sigma = sigma_for_steps(steps, n_private, 0, deleted)
        run = learn_unlearn_retrain(args, cfg, task, 0, deleted, sigma, tag=20 + deleted,
                                    steps=steps)
        rows.append({
            "method": f"symmetric, ALU's K (n_pub = {largest})", "n_public": 0,
            "fraction": fraction, "deleted": deleted, "sigma": sigma, "unlearn_steps": steps,
            "retrain_steps": run["retrain_steps"],
            "k_over_t": steps / run["retrain_steps"],
            "acc_learned": run["acc_learned"][0], "acc_unlearned": run["acc_unlearned"][0],
            "acc_unlearned_std": run["acc_unlearned"][1],
            "acc_retrained": run["acc_retrained"][0],
            "acc_retrained_std": run["acc_retrained"][1]})
        print(f"symmetric at K={steps}: sigma={sigma:.4f} acc {run['acc_unlearned'][0]:.4f}",
              flush=True)
    reference = {f"noiseless, n_pub = {n}": noiseless(task, task.data(num_public=n))[0]
                 for n in cfg["publics"]}
    return rows, reference


def part_shift(args, cfg):
    n_private, n_public = cfg["n_private"], cfg["shift_public"]
    deleted = int(round(cfg["shift_fraction"] * n_private))
    clean = load(args, cfg, n_public)
    private_only = clean.data(num_public=0)
    acc_private, w_private = noiseless(clean, private_only)
    _, updated_private = deletion(private_only, n_private, deleted, args.seed)
    acc_private_deleted, _ = noiseless(clean, updated_private)
    steps = unlearn_steps(SIGMA, n_private, n_public, deleted)
    symmetric_same_sigma = learn_unlearn_retrain(args, cfg, clean, 0, deleted, SIGMA, tag=30)
    sigma_sym = sigma_for_steps(steps, n_private, 0, deleted)
    symmetric_same_steps = learn_unlearn_retrain(args, cfg, clean, 0, deleted, sigma_sym,
                                                 tag=31, steps=steps)
    rows = []
    levels = [("none", 0.0)] + [(kind, level) for kind, values in cfg["shift_levels"].items()
                                for level in values]
    for index, (kind, level) in enumerate(levels):
        task = clean if kind == "none" else load(args, cfg, n_public, **{
            {"corruption": "public_corruption", "class_skew": "public_class_skew"}[kind]: level})
        run = learn_unlearn_retrain(args, cfg, task, n_public, deleted, SIGMA, tag=40 + index)
        acc_mix, w_mix = noiseless(task, task.data(num_public=n_public))
        rows.append({
            "shift": kind, "level": level,
            "public_positive_share": float(np.mean(task.public_labels[:n_public] > 0)),
            "deleted": deleted, "n_public": n_public, "sigma": SIGMA,
            "unlearn_steps": run["unlearn_steps"], "retrain_steps": run["retrain_steps"],
            "acc_unlearned": run["acc_unlearned"][0],
            "acc_unlearned_std": run["acc_unlearned"][1],
            "acc_retrained": run["acc_retrained"][0], "acc_noiseless_mix": acc_mix,
            "optimum_distance": float(np.linalg.norm(w_mix - w_private)),
            "acc_symmetric_same_sigma": symmetric_same_sigma["acc_unlearned"][0],
            "symmetric_steps": symmetric_same_sigma["unlearn_steps"],
            "acc_symmetric_same_steps": symmetric_same_steps["acc_unlearned"][0],
            "sigma_symmetric_same_steps": sigma_sym})
        print(f"{kind}={level:g}: acc unlearned {run['acc_unlearned'][0]:.4f} retrained "
              f"{run['acc_retrained'][0]:.4f}; symmetric same sigma "
              f"{symmetric_same_sigma['acc_unlearned'][0]:.4f} "
              f"(K={symmetric_same_sigma['unlearn_steps']}), same K {symmetric_same_steps['acc_unlearned'][0]:.4f} (sigma={sigma_sym:.3f})",
              flush=True)
    return rows, {"noiseless, private only": acc_private,
                  "noiseless, private after deletion": acc_private_deleted}


def part_audit(args, cfg):
    n_private, chains = cfg["n_private"], cfg["audit_chains"]
    deleted = int(round(cfg["audit_fraction"] * n_private))
    task = load(args, cfg, max(cfg["audit_publics"]))
    burn_in = cfg["audit_burn_in"]
    rows = []
    for n_public in cfg["audit_publics"]:
        data = task.data(num_public=n_public)
        if args.audit_deletion == "hardest":
            # the rows the private-only noiseless optimum fits worst: a deletion that moves
            # the optimum far more than a random one, so the audit has something to detect
            _, w_star = noiseless(task, task.data(num_public=0))
            margins = (np.asarray(task.private_inputs, np.float64) @ w_star) * task.private_labels
            indices = np.sort(np.argsort(margins, kind="stable")[:deleted])
            updated = delete_private(data, indices, adjacency="remove")
        else:
            indices, updated = deletion(data, n_private, deleted, args.seed)
        tag = 50 + n_public
        start = fresh(SIGMA, task.dim, key_for(args.seed, tag, PHASES["init"]), chains)
        learned = advance(SIGMA, start, data, burn_in, key_for(args.seed, tag, PHASES["learn"]),
                          chains)
        restart = fresh(SIGMA, task.dim, key_for(args.seed, tag, PHASES["retrain_init"]), chains)
        retrained = advance(SIGMA, restart, updated, burn_in,
                            key_for(args.seed, tag, PHASES["retrain"]), chains)
        certified_k = unlearn_steps(SIGMA, n_private, n_public, deleted)
        schedule = sorted({certified_k if k == "certified" else int(k)
                           for k in cfg["audit_steps"]})
        sensitivity = gradient_sensitivity(deleted, M, n_private, n_public, adjacency="remove")
        current, done = learned, 0
        for steps in schedule:
            current = advance(SIGMA, current, updated, steps - done,
                              key_for(args.seed, tag, PHASES["unlearn"], steps), chains)
            done = steps
            certificate = langevin_epsilon(sigma=SIGMA, steps=steps, n_private=n_private,
                                           n_public=n_public, num_deleted=deleted, clip_norm=M,
                                           strong_convexity=STRONG_CONVEXITY,
                                           step_size=STEP_SIZE, delta=delta(n_private),
                                           adjacency="remove")
            alpha = min(certificate["alpha"], audit_tools.MAX_AUDIT_ALPHA)
            certified = float(lu_renyi(alpha, steps, STEP_SIZE, STRONG_CONVEXITY,
                                       lu_eps0(alpha, sensitivity, STRONG_CONVEXITY, SIGMA)))
            draws = types.SimpleNamespace(unlearned=current, retrained=retrained)
            features_u, features_r, margins_u, margins_r = audit_tools.statistics(
                draws, updated, data, indices, chains // 4)
            bound = audit_tools.critic_bound(len(features_u) // 2, alpha)
            from jaxunlearn.evaluate import renyi_gaussian, ulira_game
            from jaxunlearn.evaluate.divergence import estimate_renyi

            estimate = estimate_renyi(features_u, features_r, alpha, steps=cfg["critic_steps"],
                                      warm_start_steps=cfg["warm_start"], bound=bound,
                                      beta=audit_tools.BETA, key=key_for(args.seed, tag, steps))
            mean_u, mean_r = margins_u.mean(axis=1), margins_r.mean(axis=1)
            plug_in = renyi_gaussian(mean_u.mean(), mean_u.std(), mean_r.mean(), mean_r.std(),
                                     alpha)
            game = ulira_game(margins_u, np.ones(margins_u.shape, bool), margins_r,
                              np.ones(margins_r.shape, bool),
                              num_targets=min(200, chains // 2), key=args.seed)
            row = {"n_public": n_public, "deleted": deleted, "steps": steps,
                   "certified_steps": certified_k, "eps_dp": certificate["epsilon"],
                   "alpha": alpha, "certified_renyi": certified,
                   "audit_estimate": estimate.test, "audit_lower": estimate.lower,
                   "critic_bound": bound, "gaussian_plug_in": plug_in,
                   "ulira_accuracy": game["balanced_accuracy"], "ulira_auc": game["auc"],
                   "acc_unlearned": accuracy(current, task)[0],
                   "acc_retrained": accuracy(retrained, task)[0], "chains": chains}
            rows.append(row)
            print(f"audit n_pub={n_public} K={steps}: certified D_{alpha:.3g} <= {certified:.4g}"
                  f" (eps {certificate['epsilon']:.3g}); estimate {estimate.test:.4g} (lower "
                  f"{estimate.lower:.4g}); plug-in {plug_in:.4g}; U-LiRA acc "
                  f"{game['balanced_accuracy']:.3f} AUC {game['auc']:.3f}", flush=True)
    return rows


def _meta(args, cfg, **extra):
    return common.metadata(args, task="fashion_mnist 0-4 v 5-9, 4x4 pooled (49 features)",
                           strong_convexity=STRONG_CONVEXITY,
                           step_size=STEP_SIZE, sigma=SIGMA, epsilon=EPSILON,
                           delta=delta(cfg["n_private"]), clip_norm=M, regularizer="after",
                           adjacency="remove", start="data-free stationary law (nu_0)",
                           **cfg, **extra)


def main() -> int:
    parser = common.parser(__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("mass", "shift", "audit", "all"), default="all")
    parser.add_argument("--audit-deletion", choices=("random", "hardest"), default="random",
                        help="which private rows the audit deletes: random ones, or the worst-fit"
                             " rows (lowest margin under the private optimum); 'hardest' writes "
                             "fashion_audit_hardest.*")
    args = parser.parse_args()
    timer = common.Timer()
    if not common.fashion_available():
        print("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
              file=sys.stderr)
        return 2
    cfg = config(args.small)
    parts = ("mass", "shift", "audit") if args.part == "all" else (args.part,)
    if "mass" in parts:
        rows, reference = part_mass(args, cfg)
        common.write(rows, ["method", "n_public", "fraction", "deleted", "sigma",
                            "unlearn_steps", "retrain_steps", "k_over_t", "acc_learned",
                            "acc_unlearned", "acc_unlearned_std", "acc_retrained",
                            "acc_retrained_std"], args.out, "fashion_mass",
                     _meta(args, cfg, noiseless=reference))
        series, errors = {}, {}
        for method in dict.fromkeys(row["method"] for row in rows):
            for n_public in dict.fromkeys(r["n_public"] for r in rows if r["method"] == method):
                part = [r for r in rows if r["method"] == method and r["n_public"] == n_public]
                label = method if method != "ALU" else f"ALU, n_pub = {n_public}"
                series[f"{label}: unlearned"] = ([100 * r["fraction"] for r in part],
                                                 [r["acc_unlearned"] for r in part])
                errors[f"{label}: unlearned"] = [r["acc_unlearned_std"] for r in part]
                if method == "ALU" or method.startswith("symmetric (n_pub"):
                    series[f"{label}: retrained"] = ([100 * r["fraction"] for r in part],
                                                     [r["acc_retrained"] for r in part])
        common.line_plot(series, os.path.join(args.out, "fashion_mass.png"),
                         xlabel="deleted share of D_priv (%)", ylabel="test accuracy",
                         errors=errors, title=f"Fashion-MNIST 0-4 v 5-9, n_priv="
                         f"{cfg['n_private']}, ε={EPSILON:g}, {cfg['chains']} chains; "
                         "retraining certified from ν_∅")
    if "shift" in parts:
        rows, reference = part_shift(args, cfg)
        common.write(rows, ["shift", "level", "public_positive_share", "deleted", "n_public",
                            "sigma", "unlearn_steps", "retrain_steps", "acc_unlearned",
                            "acc_unlearned_std", "acc_retrained", "acc_noiseless_mix",
                            "optimum_distance", "acc_symmetric_same_sigma", "symmetric_steps",
                            "acc_symmetric_same_steps", "sigma_symmetric_same_steps"],
                     args.out, "fashion_shift", _meta(args, cfg, noiseless=reference))
        series = {}
        clean = rows[0]
        for kind in cfg["shift_levels"]:
            part = [clean] + [r for r in rows if r["shift"] == kind]
            series[f"ALU unlearned, {kind}"] = ([r["level"] for r in part],
                                                [r["acc_unlearned"] for r in part])
        common.line_plot(series, os.path.join(args.out, "fashion_shift.png"),
                         xlabel="shift level (corruption c or class skew s)",
                         ylabel="test accuracy after unlearning", reference={
                             f"symmetric, same σ ({clean['acc_symmetric_same_sigma']:.3f})":
                                 clean["acc_symmetric_same_sigma"],
                             f"symmetric, ALU's K ({clean['acc_symmetric_same_steps']:.3f})":
                                 clean["acc_symmetric_same_steps"]},
                         title=f"n_priv={cfg['n_private']}, n_pub={cfg['shift_public']}, "
                               f"{100 * cfg['shift_fraction']:g} % deleted, ε={EPSILON:g}")
    if "audit" in parts:
        rows = part_audit(args, cfg)
        name = "fashion_audit" + ("_hardest" if args.audit_deletion == "hardest" else "")
        common.write(rows, ["n_public", "deleted", "steps", "certified_steps", "eps_dp", "alpha",
                            "certified_renyi", "audit_estimate", "audit_lower", "critic_bound",
                            "gaussian_plug_in", "ulira_accuracy", "ulira_auc", "acc_unlearned",
                            "acc_retrained", "chains"], args.out, name,
                     _meta(args, cfg, deletion=args.audit_deletion,
                           features="mean deleted-row margin; projection on the mean "
                                    "difference (held-out quarter)"))
        series = {}
        for n_public in cfg["audit_publics"]:
            part = [r for r in rows if r["n_public"] == n_public]
            series[f"audit estimate, n_pub = {n_public}"] = (
                [r["steps"] + 1 for r in part], [max(r["audit_estimate"], 1e-4) for r in part])
            series[f"certified, n_pub = {n_public}"] = (
                [r["steps"] + 1 for r in part], [r["certified_renyi"] for r in part])
        common.line_plot(series, os.path.join(args.out, f"{name}.png"),
                         xlabel="unlearning steps K + 1", ylabel="D_α(unlearned ‖ retrained)",
                         logx=True, logy=True,
                         title=f"Fashion-MNIST, n_priv={cfg['n_private']}, "
                               f"{100 * cfg['audit_fraction']:g} % deleted "
                               f"({args.audit_deletion}), "
                               f"{cfg['audit_chains']} chains per law")
        violations = [r for r in rows if r["audit_lower"] > r["certified_renyi"]]
        if violations:
            print(f"FAILED: {len(violations)} audit(s) exceed the certificate: {violations}",
                  file=sys.stderr)
            return 1
    print(f"wrote {args.out}/fashion_*.* in {timer():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
