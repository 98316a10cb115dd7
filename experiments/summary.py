"""The results summary: each seed paper's claim next to what the experiment commands measured.

Reads the JSON tables the experiment commands wrote (``experiments/masks/grid.py``,
``experiments/amun/run.py``,
``experiments/trw/run.py``, ``experiments/alu/certified.py`` and ``audit.py``,
``experiments/i2i/run.py``), writes ``<results>/SUMMARY.md`` and, with ``--readme``, replaces the
README's section between ``<!-- results:start -->`` and ``<!-- results:end -->``, so the README's
numbers come from the commands, never typed. A missing result is listed with the command that
produces it.

    python experiments/tune.py --data digits --setting class --write     # and random10, random50
    python experiments/masks/grid.py --data digits
    python experiments/amun/run.py --data digits --out results/amun_digits
    python experiments/trw/run.py --data digits --out results/trw_digits
    python experiments/alu/certified.py && python experiments/alu/audit.py
    python experiments/i2i/run.py
    python experiments/summary.py --readme README.md
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from typing import Callable

import numpy as np

START, END = "<!-- results:start -->", "<!-- results:end -->"

REPORTED = {
    "masks": "no numbers in the reachable text (abstract: 360 configurations on CV classifiers, "
             "better MIA and relative UA)",
    "amun": "CIFAR-10 / ResNet-18, 10 % random: the strongest MIA (RMIA) on forget vs test "
            "examples does no better than random guessing (AUC ≈ 50 %) [abstract]",
    "trw": "CIFAR-10, one class: gap to retraining 46 % smaller than the best other method's on "
           "MIA-NN, 19 % on U-LiRA [abstract, v4]",
    "alu": "unlearning cost falls as O(1/n_pub²) [abstract, theory]",
    "alu_audit": "— (a certificate is an upper bound by construction)",
    "i2i": "no numbers in the reachable text (abstract: forget samples OOD as for a retrained "
           "model; ImageNet-1K, Places365, CIFAR-10 autoencoder)",
}
"""What each paper reports, with its own setting, as far as the paper's text could be read here:
only the abstracts (and official code) were reachable, so most tables could not be copied."""


def _load(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        payload = json.load(handle)
    if not isinstance(payload, dict) or "rows" not in payload:
        raise ValueError(f"{path}: not a result table (no 'rows')")
    return payload


def _rows(payload: dict) -> dict[str, dict]:
    return {row["method"]: row for row in payload["rows"]}


def _setting(payload: dict) -> str:
    arguments = payload.get("metadata", {}).get("arguments", {})
    seeds = str(arguments.get("seeds", "")).count(",") + 1 if arguments.get("seeds") else "?"
    tuned = payload.get("metadata", {}).get("tuned")
    hyper = {True: ", tuned baselines", False: ", default hyperparameters"}.get(tuned, "")
    shortened = "".join(f", {arguments[key]} {label}" for key, label in (
        ("epochs", "training epochs"), ("unlearn_epochs", "unlearning epoch(s)"))
        if arguments.get(key))  # a shortened run says so
    return f"{arguments.get('data', '?')}, {seeds} seed(s){hyper}{shortened}"


def amun(results: str) -> list[dict]:
    out = []
    for directory in sorted(glob.glob(os.path.join(results, "amun*"))):
        for label in ("plain", "fastclip"):
            payload = _load(os.path.join(directory, f"amun_{label}.json"))
            if payload is None:
                continue
            rows = _rows(payload)
            methods = {name: row for name, row in rows.items()
                       if name not in ("original", "retrain")}
            best = min(methods, key=lambda name: methods[name]["gap_mean"])
            amun_row = methods.get("amun")
            measured = (f"gap to retrain: AMUN {amun_row['gap_mean']:.2f} ± {amun_row['gap_std']:.2f}"
                        if amun_row else "AMUN not run")
            variants = [f"{name.replace('amun_', '')} {methods[name]['gap_mean']:.2f}"
                        for name in ("amun_retain_adv", "amun_forget_adv", "amun_adv_only")
                        if name in methods]
            if variants:
                measured += f" (variants: {', '.join(variants)})"
            measured += f"; smallest: {best} {methods[best]['gap_mean']:.2f}"
            if amun_row and "forget_auc_mean" in amun_row and "retrain" in rows:
                measured += (f"; forget-vs-test loss-attack AUC: AMUN "
                             f"{amun_row['forget_auc_mean']:.1f} %, retrain "
                             f"{rows['retrain']['forget_auc_mean']:.1f} %")
            out.append({
                "paper": "AMUN (+ FastClip)",
                "claim": "smallest gap to retraining among methods, random forgetting",
                "reported": REPORTED["amun"],
                "setting": f"{_setting(payload)}, {label} originals",
                "measured": measured,
                "source": os.path.join(directory, f"amun_{label}.json")})
    return out


def masks(results: str) -> list[dict]:
    out = []
    for directory in sorted(glob.glob(os.path.join(results, "masks_*"))):
        for path in sorted(glob.glob(os.path.join(directory, "grid_*.json"))):
            if path.endswith("_per_seed.json"):
                continue
            payload = _load(path)
            metadata = payload.get("metadata", {})
            methods, mask_names = metadata.get("methods"), metadata.get("masks")
            if not methods or not mask_names or "none" not in mask_names:
                continue
            rows = _rows(payload)

            def gap(method, mask):
                row = rows.get(method if mask == "none" else f"{method}+{mask}")
                return row["gap_mean"] if row else float("nan")

            means = {mask: float(np.nanmean([gap(m, mask) for m in methods]))
                     for mask in mask_names}
            parts = [f"{mask.replace('_mask', '')} {value:.2f}" for mask, value in means.items()]
            wins = [f"{mask.replace('_mask', '').upper()} lowers it for "
                    f"{sum(gap(m, mask) < gap(m, 'none') for m in methods)}/{len(methods)}"
                    for mask in ("and_mask", "prob_mask") if mask in mask_names]
            setting = metadata.get("setting", "?")
            out.append({
                "paper": "Feasible-update masks",
                "claim": "AND/PROB masks bring base methods closer to retraining",
                "reported": REPORTED["masks"],
                "setting": f"{_setting(payload)}, {setting}",
                "measured": f"mean gap over {len(methods)} base methods: " + ", ".join(parts)
                            + ("; " + ", ".join(wins) if wins else ""),
                "source": path})
    return out


def trw(results: str) -> list[dict]:
    out = []
    for directory in sorted(glob.glob(os.path.join(results, "trw*"))):
        payload = _load(os.path.join(directory, "trw.json"))
        if payload is None:
            continue
        rows = _rows(payload)
        baselines = {name: row for name, row in rows.items()
                     if name not in ("original", "retrain", "trw")}
        best = min(baselines, key=lambda name: baselines[name]["tv_forget_mean"]) \
            if baselines else None
        measured = f"TV to retrain on the class: TRW {rows['trw']['tv_forget_mean']:.2f}" \
            if "trw" in rows else "TRW not run"
        if best:
            measured += f"; best baseline {best} {baselines[best]['tv_forget_mean']:.2f}"
        if "trw" in rows and "MIA-NN_gap_mean" in rows["trw"] and baselines:
            nn_best = min(baselines, key=lambda name: baselines[name]["MIA-NN_gap_mean"])
            ours, theirs = rows["trw"]["MIA-NN_gap_mean"], baselines[nn_best]["MIA-NN_gap_mean"]
            change = f" ({100 * (ours - theirs) / theirs:+.0f} %)" if theirs > 0 else ""
            measured += (f"; MIA-NN gap to retrain: TRW {ours:.1f}, best baseline {nn_best} "
                         f"{theirs:.1f}{change}")
        out.append({"paper": "TRW", "setting": _setting(payload),
                    "claim": "outputs on the forgotten class closest to the retrained model's",
                    "reported": REPORTED["trw"],
                    "measured": measured, "source": os.path.join(directory, "trw.json")})
    return out


def alu(results: str) -> list[dict]:
    out = []
    certified = _load(os.path.join(results, "alu", "certified.json"))
    if certified is not None:
        rows = certified["rows"]
        n_private = certified["metadata"].get("settings", {}).get("n_private") or 10_000
        large = [row for row in rows if row["n_public"] >= 10 * n_private and row["eps0"] > 0]
        slope = (float(np.polyfit(np.log([r["n_public"] for r in large]),
                                  np.log([r["eps0"] for r in large]), 1)[0])
                 if len(large) >= 2 else float("nan"))
        steps = {row["n_public"]: row["steps_for_target"] for row in rows}
        first, mid = rows[0]["n_public"], min(steps, key=lambda n: abs(n - 10 * n_private))
        out.append({
            "paper": "ALU", "claim": "public data cut the unlearning–retraining divergence as "
                                     "O(1/n_pub²)", "reported": REPORTED["alu"],
            "setting": f"certificate, n_priv = {n_private}",
            "measured": f"log-log slope of the certified divergence {slope:.2f}; K for the target "
                        f"ε: {steps[first]} (n_pub = {first}) → {steps[mid]} (n_pub = {mid})",
            "source": os.path.join(results, "alu", "certified.json")})
    audit = _load(os.path.join(results, "alu", "audit.json"))
    if audit is not None:
        ratios = [row["audit_estimate"] / row["certified_renyi"] for row in audit["rows"]
                  if row["certified_renyi"] > 0]
        out.append({
            "paper": "ALU", "claim": "empirical divergence below the certified one",
            "reported": REPORTED["alu_audit"],
            "setting": "digits logistic regression, noise-seed chains",
            "measured": f"audit / certificate at most {max(ratios):.3g} over {len(ratios)} "
                        "settings",
            "source": os.path.join(results, "alu", "audit.json")})
    return out


def i2i(results: str) -> list[dict]:
    payload = _load(os.path.join(results, "i2i", "i2i.json"))
    if payload is None:
        return []
    out = []
    settings = sorted({row["setting"] for row in payload["rows"]})
    for setting in settings:
        rows = {row["method"]: row for row in payload["rows"] if row["setting"] == setting}
        if "retrain" not in rows:
            continue
        parts = [f"{name} {rows[name]['ood_auroc']:.2f}" for name in
                 ("retrain", "i2i_decouple", "i2i_noise_target", "original") if name in rows]
        out.append({"paper": "I2I (decoupling)", "setting": setting, "reported": REPORTED["i2i"],
                    "claim": "forget samples out of distribution like under retraining",
                    "measured": "OOD AUROC (forget vs test errors): " + ", ".join(parts),
                    "source": os.path.join(results, "i2i", "i2i.json")})
    return out


SECTIONS: dict[str, tuple[Callable[[str], list[dict]], str]] = {
    "masks": (masks, "python experiments/masks/grid.py --data digits"),
    "AMUN": (amun, "python experiments/amun/run.py --data digits --out results/amun_digits"),
    "TRW": (trw, "python experiments/trw/run.py --data digits --out results/trw_digits"),
    "ALU": (alu, "python experiments/alu/certified.py; python experiments/alu/audit.py"),
    "I2I": (i2i, "python experiments/i2i/run.py"),
}


def summary_markdown(results: str) -> str:
    lines = ["| paper | claim (paper) | paper reported (its setting) | setting here | "
             "measured here |", "|---|---|---|---|---|"]
    missing = []
    for name, (collect, command) in SECTIONS.items():
        rows = collect(results)
        if not rows:
            missing.append(f"- {name}: no results under `{results}`; run `{command}`")
        previous = None
        for row in rows:
            head = (row["paper"], row["claim"], row.get("reported", "—"))
            shown = ("″", "″", "″") if head == previous else head  # ditto marks: same claim
            previous = head
            lines.append(f"| {' | '.join(shown)} | {row['setting']} | {row['measured']} |")
    text = "\n".join(lines)
    if missing:
        text += "\n\nNot yet measured:\n" + "\n".join(missing)
    return text + ("\n\nThe papers report CIFAR-10/100, ImageNet and MNIST numbers; these runs use "
                   "digits and Fashion-MNIST, so compare the direction of each claim, not the "
                   "values. Only the papers' abstracts (and official code) could be read when "
                   "this table was built, so the reported column quotes their headline claims, "
                   "not their tables.")


def replace_section(text: str, body: str) -> str:
    """``text`` with the part between the results markers replaced by ``body``."""
    if START not in text or END not in text or text.index(START) > text.index(END):
        raise ValueError(f"the README needs the markers {START} and {END}, in that order")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.S)
    return pattern.sub(lambda _: f"{START}\n{body}\n{END}", text, count=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--readme", default=None, help="README to update between the markers")
    args = parser.parse_args()
    body = summary_markdown(args.results)
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, "SUMMARY.md"), "w") as handle:
        handle.write(body + "\n")
    print(body)
    if args.readme:
        with open(args.readme) as handle:
            text = handle.read()
        try:
            updated = replace_section(text, body)
        except ValueError as error:
            parser.error(str(error))
        with open(args.readme, "w") as handle:
            handle.write(updated)
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
