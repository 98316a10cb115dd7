"""The certificate of a PNGD run, through :mod:`jaxunlearn.certify` (NumPy, apart from training).

Maps the constants of a :class:`~jaxunlearn.alu.dynamics.LangevinDynamics` and the sizes of an
:class:`~jaxunlearn.alu.objective.ALUData` onto ``jaxunlearn.certify.langevin_epsilon`` and its
inverses, so that the dynamics that ran and the dynamics that were certified cannot drift apart.
The certificate is Chien et al.'s strongly convex bound (alu.md §1.2) with ALU's sensitivity
2SM/(n_priv + n_pub) (uniform weighting) or 2SM(1 − w)/n_priv (public weight w), for full-batch
PNGD, a replace-S (or remove-S) request, η ≤ 1/L and the T → ∞ learning bound.
"""

from __future__ import annotations

from typing import Any

from jaxunlearn.alu.dynamics import LangevinDynamics
from jaxunlearn.alu.objective import ALUData


def certificate_kwargs(dynamics: LangevinDynamics, data: ALUData, num_deleted: int, *,
                       delta: float | None = None, smoothness: float | None = None,
                       adjacency: str = "replace") -> dict:
    """Keyword arguments of ``langevin_epsilon`` (everything but ``steps``) for a request of
    ``num_deleted`` private rows of ``data`` (the dataset *before* the request)."""
    weighting = data.weighting
    return {
        "sigma": dynamics.sigma,
        "n_private": data.num_private,
        "n_public": data.num_public,
        "num_deleted": int(num_deleted),
        "clip_norm": dynamics.clip_norm,
        "strong_convexity": dynamics.regularization,
        "step_size": dynamics.step_size,
        "delta": delta,
        "public_weight": None if weighting == "uniform" else float(weighting),
        "smoothness": smoothness,
        "adjacency": adjacency,
    }


def certificate(dynamics: LangevinDynamics, data: ALUData, num_deleted: int, steps: int,
                **kwargs: Any) -> dict:
    """``langevin_epsilon`` of K = ``steps`` unlearning steps: the dict with ``epsilon``,
    ``alpha``, ``renyi`` (ε_RU at that α), ``eps0_at_alpha``, ``sensitivity`` and ``delta``."""
    from jaxunlearn.certify import langevin_epsilon

    return langevin_epsilon(steps=int(steps),
                            **certificate_kwargs(dynamics, data, num_deleted, **kwargs))


def steps_for_target(dynamics: LangevinDynamics, data: ALUData, num_deleted: int,
                     target_epsilon: float, **kwargs: Any) -> int:
    """The smallest K whose certificate is ≤ ``target_epsilon`` (``langevin_steps_for_target``)."""
    from jaxunlearn.certify import langevin_steps_for_target

    return int(langevin_steps_for_target(
        target_epsilon, **certificate_kwargs(dynamics, data, num_deleted, **kwargs)))
