"""What the ALU experiment scripts share: flags, the convex setting, tables and line plots.

The convex setting follows the official Langevin-unlearning code (alu.md §1.1) except where
noted: binary logistic regression on unit-norm features, labels ±1, per-example clip M = 1 with
the regulariser inside the clip, η = 1/L with L = 1/4 + m, initialisation N(0, 2σ²/m I) (the
official binary runs use mean 1000), and the strong convexity m held **fixed** as n_pub grows (the
official m = λ·n_total would also grow with public data; experiment a shows both). δ = 1/n_priv,
fixed across n_pub, so that only the sensitivity changes.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from typing import Any, Sequence

import numpy as np

from jaxunlearn.alu import LangevinDynamics, logistic_loss

STRONG_CONVEXITY = 0.01
CLIP_NORM = 1.0
SMOOTHNESS = 0.25 + STRONG_CONVEXITY
STEP_SIZE = 1.0 / SMOOTHNESS
DEFAULT_OUT = os.path.join("results", "alu")


def parser(description: str) -> argparse.ArgumentParser:
    """--small (the test setting, < 30 s), --out and --seed."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--small", action="store_true", help="tiny setting for tests (< 30 s)")
    result.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    result.add_argument("--seed", type=int, default=0)
    return result


def dynamics(sigma: float, *, strong_convexity: float = STRONG_CONVEXITY,
             regularizer: str = "inside") -> LangevinDynamics:
    """The convex setting's PNGD with noise σ (η = 1/L, M = 1, no projection)."""
    return LangevinDynamics(logistic_loss, step_size=1.0 / (0.25 + strong_convexity),
                            sigma=float(sigma), clip_norm=CLIP_NORM,
                            regularization=strong_convexity, regularizer=regularizer)


def certificate_kwargs(*, n_private: int, n_public: int, num_deleted: int,
                       adjacency: str = "replace") -> dict:
    """``langevin_epsilon`` keywords of the convex setting (everything but σ and K)."""
    return {"n_private": int(n_private), "n_public": int(n_public),
            "num_deleted": int(num_deleted), "clip_norm": CLIP_NORM,
            "strong_convexity": STRONG_CONVEXITY, "step_size": STEP_SIZE,
            "smoothness": SMOOTHNESS, "delta": 1.0 / n_private, "adjacency": adjacency}


def fashion_available() -> bool:
    from jaxunlearn.data import DEFAULT_FASHION_MNIST_DIR

    return os.path.isdir(DEFAULT_FASHION_MNIST_DIR)


def metadata(args: argparse.Namespace, **settings: Any) -> dict:
    from jaxunlearn.report import environment_info

    return {"script": os.path.basename(sys.argv[0]), "small": bool(args.small),
            "seed": args.seed, "settings": settings, "environment": environment_info()}


def write(rows: Sequence[dict], columns: Sequence[str], out: str, name: str, meta: dict,
          digits: int = 4) -> str:
    """Print the Markdown table and write ``name.{md,csv,json}``; returns the Markdown path."""
    from jaxunlearn.report import write_table

    paths = write_table(rows, columns, out, name, metadata=meta, digits=digits)
    with open(paths["md"]) as handle:
        print(handle.read().rstrip())
    return paths["md"]


def line_plot(series: dict[str, tuple[Sequence[float], Sequence[float]]], path: str, *,
              xlabel: str, ylabel: str, title: str = "", logx: bool = False,
              logy: bool = False, errors: dict[str, Sequence[float]] | None = None,
              reference: dict[str, float] | None = None, note: str = "") -> str:
    """One line per series (with optional error bars and dashed horizontal references)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.2, 3.8))
    for label, (xs, ys) in series.items():
        yerr = None if errors is None else errors.get(label)
        axis.errorbar(xs, ys, yerr=yerr, marker="o", markersize=3, capsize=2, label=label)
    for label, value in (reference or {}).items():
        axis.axhline(value, color="grey", ls="--", lw=0.8, label=label)
    axis.set_xscale("log" if logx else "linear")
    axis.set_yscale("log" if logy else "linear")
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if title:
        axis.set_title(textwrap.fill(title, 72), fontsize=8)
    if note:
        axis.text(0.02, 0.02, note, transform=axis.transAxes, fontsize=7, va="bottom")
    axis.legend(fontsize=7)
    axis.grid(alpha=0.3, which="both")
    figure.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def run_protocol(task, num_public: int, sigma: float, *, num_deleted: int, chains: int,
                 burn_in: int, unlearn_steps: int, seed: int, adjacency: str = "replace",
                 weighting: Any = "uniform") -> dict:
    """Learn T steps on D_priv ∪ D_pub, delete ``num_deleted`` random private rows, unlearn K
    steps, and retrain T steps on D′, for ``chains`` noise seeds; test accuracy of each.

    Returns ``{"draws", "indices", "data", "updated", "accuracy": {phase: [chains]}}``.
    """
    from jaxunlearn.alu import (delete_private, learn_unlearn_retrain, linear_params,
                                logistic_accuracy)

    data = task.data(weighting=weighting, num_public=num_public)
    rng = np.random.default_rng([seed, num_deleted])
    indices = np.sort(rng.choice(task.num_private, num_deleted, replace=False))
    updated = delete_private(data, indices, adjacency=adjacency, seed=rng)
    draws = learn_unlearn_retrain(dynamics(sigma), linear_params(task.dim), data, updated,
                                  chains=chains, burn_in=burn_in, unlearn_steps=unlearn_steps,
                                  key=seed)
    accuracy = {phase: np.asarray(logistic_accuracy(getattr(draws, phase), task.test_inputs,
                                                    task.test_labels))
                for phase in ("learned", "unlearned", "retrained")}
    return {"draws": draws, "indices": indices, "data": data, "updated": updated,
            "accuracy": accuracy}


def noiseless_optimum(task, num_public: int, steps: int, weighting: Any = "uniform"):
    """θ* of the regularised objective on D_priv ∪ D_pub (σ = 0 PNGD from 0) and its accuracy."""
    from jaxunlearn.alu import linear_params, logistic_accuracy, pngd_run

    run = pngd_run(dynamics(0.0), linear_params(task.dim),
                   task.data(weighting=weighting, num_public=num_public), steps, key=0)
    return run.params, logistic_accuracy(run.params, task.test_inputs, task.test_labels)


class Timer:
    """Seconds since construction, for the printed footer."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.started


def mean_std(values: Any) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std())
