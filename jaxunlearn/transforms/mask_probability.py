"""Probabilities that a masked coordinate is a feasible one, under batch-gradient noise.

Dine, Furon & Faure, "Improving Unlearning with Model Updates Probably Aligned with Gradients"
(arXiv 2511.02435, AISec 2025) keep a coordinate when the forget-objective and retain-objective
gradients *probably* agree, given the noise of their batch estimates. The paper's method sections
could not be read (only its abstract, the opening of its introduction and its figure captions), so
the two readings below are those of the project's note on the paper (§2.3), and no equation
number of the paper is claimed. With independent posteriors
g_U,i ~ N(ĝ_U,i, s_U,i²) and g_C,i ~ N(ĝ_C,i, s_C,i²) (CLT, flat prior; see
:mod:`~jaxunlearn.transforms.grad_stats`), write φ = P[g > 0 | data] = Φ(t), t = ĝ / s, and
c = 2φ − 1 = erf(t / √2):

- **agreement** (the note's criterion A): P_i = P[g_U,i g_C,i > 0]
  = φ_U φ_C + (1 − φ_U)(1 − φ_C) = ½ (1 + c_U c_C). P → ½ as the noise grows, and P ∈ {0, 1}
  (the AND mask) without noise.
- **joint** feasibility (the note's criterion B, derived there): the probability that a step along
  the direction d helps *both* objectives, q_i = Φ(σ_i t_U,i) Φ(σ_i t_C,i), σ_i = sign(d_i)
  (descent convention: the step is −η d). q → ¼ as the noise grows.

A coordinate with no spread and ĝ = 0 is a point mass at 0: neither sign, so it agrees with
nothing (P = q = 0), as a zero gradient does in the AND mask.

With ``distribution="student_t"``, Φ is replaced by the CDF of Student's t with n − 1 degrees of
freedom, which is the exact sign posterior for Gaussian per-example gradients with an estimated
variance, and matters for small batches.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, erf

from jaxunlearn.transforms.grad_stats import GradStats

DISTRIBUTIONS = ("normal", "student_t")


def check_distribution(distribution: str) -> None:
    """Raise ``ValueError`` naming ``distribution`` unless it is a known one."""
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")


def _check_stats(stats: Any, name: str) -> None:
    if not isinstance(stats, GradStats):
        raise TypeError(f"{name} must be a GradStats, got {type(stats).__name__}")


def centered_sign_probability(stats: GradStats, distribution: str = "normal") -> Any:
    """c = P[g > 0 | data] − P[g < 0 | data] per coordinate, in [−1, 1].

    Computed without cancellation: erf(t/√2) for the normal posterior, and
    sign(t) I_{t²/(ν+t²)}(½, ν/2) for Student's t with ν = n − 1 (I the regularised incomplete
    beta function). Coordinates with no spread give sign(ĝ).

    Args:
      stats: :class:`~jaxunlearn.transforms.grad_stats.GradStats` of the gradient samples.
      distribution: ``"normal"`` or ``"student_t"``.

    Returns:
      A pytree like ``stats.mean``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxunlearn.transforms.grad_stats import GradStats
      >>> stats = GradStats(jnp.array([1.0, -1.0, 0.0]), jnp.array([0.0, 4.0, 4.0]), jnp.array(5))
      >>> [round(float(c), 4) for c in centered_sign_probability(stats)]   # t = (inf, −2.236, 0)
      [1.0, -0.9747, 0.0]
    """
    _check_stats(stats, "stats")
    check_distribution(distribution)
    if distribution == "normal":
        return jax.tree_util.tree_map(lambda t: erf(t / jnp.sqrt(2.0).astype(t.dtype)), stats.t)
    dof = jnp.maximum(stats.count - 1, 1)

    def student(t):
        nu = dof.astype(t.dtype)
        share = 1.0 / (1.0 + nu / jnp.square(t))   # t²/(ν + t²): 0 at t = 0, 1 at t = ±inf
        return jnp.sign(t) * betainc(jnp.asarray(0.5, t.dtype), nu / 2, share)

    return jax.tree_util.tree_map(student, stats.t)


def _sign_masses(stats: GradStats, distribution: str) -> tuple[Any, Any]:
    """(c, z) with P[g > 0] = (z + c)/2 and P[g < 0] = (z − c)/2; z = 0 only for a point mass
    at 0 (no spread, ĝ = 0), else 1."""
    c = centered_sign_probability(stats, distribution)
    z = jax.tree_util.tree_map(
        lambda mean, m2: jnp.where((mean == 0) & (m2 == 0), 0.0, 1.0).astype(mean.dtype),
        stats.mean, stats.m2,
    )
    return c, z


def sign_agreement(forget_grad: Any, retain_grad: Any) -> Any:
    """The AND mask, 𝟙[g_U,i g_C,i > 0], as a pytree of booleans (a zero gradient disagrees).

    Example:
      >>> import jax.numpy as jnp
      >>> g_forget, g_retain = jnp.array([1.0, -2.0, 3.0, 0.0]), jnp.array([2.0, -1.0, -3.0, 5.0])
      >>> sign_agreement(g_forget, g_retain).tolist()
      [True, True, False, False]
    """
    return jax.tree_util.tree_map(lambda u, c: u * c > 0, forget_grad, retain_grad)


def agreement_probability(
    forget_stats: GradStats, retain_stats: GradStats, *, distribution: str = "normal"
) -> Any:
    """P_i = P[g_U,i g_C,i > 0 | data] = ½ (1 + c_U,i c_C,i) (criterion "agreement").

    (With a point mass at 0 on either side, P_i = 0.)

    Args:
      forget_stats: statistics of the gradient of the loss minimised on the forget set.
      retain_stats: statistics of the gradient of the constraint (retain) loss.
      distribution: ``"normal"`` or ``"student_t"`` (see :func:`centered_sign_probability`).

    Returns:
      A pytree like ``forget_stats.mean`` with values in [0, 1].

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxunlearn.transforms.grad_stats import GradStats
      >>> sure = GradStats(jnp.array([1.0, 1.0]), jnp.zeros(2), jnp.array(8))
      >>> vague = GradStats(jnp.array([1.0, 0.0]), jnp.array([7e12, 7.0]), jnp.array(8))
      >>> [round(float(p), 3) for p in agreement_probability(sure, vague)]
      [0.5, 0.5]
    """
    _check_stats(forget_stats, "forget_stats")
    _check_stats(retain_stats, "retain_stats")
    c_forget, z_forget = _sign_masses(forget_stats, distribution)
    c_retain, z_retain = _sign_masses(retain_stats, distribution)
    return jax.tree_util.tree_map(
        lambda u, c, zu, zc: 0.5 * (zu * zc + u * c), c_forget, c_retain, z_forget, z_retain
    )


def joint_feasibility_probability(
    forget_stats: GradStats,
    retain_stats: GradStats,
    direction: Any,
    *,
    distribution: str = "normal",
) -> Any:
    """q_i = P[σ_i g_U,i > 0 and σ_i g_C,i > 0 | data], σ_i = sign(d_i) (criterion "joint").

    ``direction`` is in the descent convention (the step is −η d), so q_i is the probability
    that moving coordinate i lowers both losses to first order. Where d_i = 0 (no move), q_i = 0.

    Args:
      forget_stats, retain_stats: as in :func:`agreement_probability`.
      direction: pytree like the means, the direction d the update will take.
      distribution: ``"normal"`` or ``"student_t"``.

    Returns:
      A pytree like ``direction`` with values in [0, 1].

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxunlearn.transforms.grad_stats import GradStats
      >>> sure = GradStats(jnp.array([1.0, 1.0]), jnp.zeros(2), jnp.array(8))
      >>> [float(q) for q in joint_feasibility_probability(sure, sure, jnp.array([2.0, -1.0]))]
      [1.0, 0.0]
    """
    _check_stats(forget_stats, "forget_stats")
    _check_stats(retain_stats, "retain_stats")
    c_forget, z_forget = _sign_masses(forget_stats, distribution)
    c_retain, z_retain = _sign_masses(retain_stats, distribution)

    def joint(u, c, zu, zc, d):
        sigma = jnp.sign(d).astype(u.dtype)
        # P[σ g > 0] = ½ (z + σ c) for σ = ±1; the event is empty for σ = 0
        return 0.25 * jnp.abs(sigma) * (zu + sigma * u) * (zc + sigma * c)

    return jax.tree_util.tree_map(joint, c_forget, c_retain, z_forget, z_retain, direction)
