"""Feasible-update masks (AND, PROB, focus) as Optax transforms.

Dine, Furon & Faure, "Improving Unlearning with Model Updates Probably Aligned with Gradients"
(arXiv 2511.02435, AISec 2025) cast unlearning as min_θ L_U(θ) s.t. L_C(θ) ≤ c, with L_U the
loss the unlearning method minimises (−CE on the forget set for gradient ascent) and L_C the
utility (retain) loss. A direction d is *feasible* when ⟨g_U, d⟩ > 0 and ⟨g_C, d⟩ ≥ 0, so that
the step −η d lowers L_U without raising L_C to first order. Masking coordinates where
g_U,i g_C,i ≤ 0 (the AND mask) and moving the others along a direction that shares their sign
gives a feasible d; at a KKT point (g_U = −λ g_C) the mask is empty and the step is exactly zero.
The PROB mask accounts for the noise of the batch gradients (see
:mod:`~jaxunlearn.transforms.mask_probability`), and the focus vector weights coordinates by that
probability instead of thresholding it.

Only the paper's abstract, the opening of its introduction and its figure captions (quoted in the
project's note) could be read, not its method sections: the formulas here are the note's
reconstruction (§2.2–2.4), not the paper's numbered equations, and the default criterion
("agreement") is the note's. The other defaults (threshold p = 0.45, linG with α = 0.8, β = 0.5)
are those of the figure captions. The masks are add-ons: they wrap any first-order method, which
only has to pass the gradient statistics as extra arguments to ``update``. SalUn's static mask is
in :mod:`~jaxunlearn.transforms.saliency`.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.transforms._validation import check_number
from jaxunlearn.transforms.grad_stats import GradStats
from jaxunlearn.transforms.mask_probability import (
    agreement_probability,
    check_distribution,
    joint_feasibility_probability,
    sign_agreement,
)
from jaxunlearn.transforms.saliency import masked_where

MODES = ("and", "prob", "focus")
CRITERIA = ("agreement", "joint")
APPLY_TO = ("gradient", "update")

Aggregate = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
Weighting = Callable[[jax.Array, Any], jax.Array]


# --- aggregations Agg(g_U, g_C) -> v, applied leaf by leaf -----------------------------------


def aggregate_identity(forget_grad: jax.Array, retain_grad: jax.Array,
                       direction: jax.Array) -> jax.Array:
    """The base method's own direction, unchanged (same as ``aggregate=None``)."""
    del forget_grad, retain_grad
    return direction


def aggregate_ming(forget_grad: jax.Array, retain_grad: jax.Array,
                   direction: jax.Array | None = None) -> jax.Array:
    """MinG: v_i = sign(g_U,i) · min(|g_U,i|, |g_C,i|), the largest step safe for both losses.

    Example:
      >>> import jax.numpy as jnp
      >>> aggregate_ming(jnp.array([1.0, -2.0]), jnp.array([2.0, -1.0])).tolist()
      [1.0, -1.0]
    """
    del direction
    return jnp.sign(forget_grad) * jnp.minimum(jnp.abs(forget_grad), jnp.abs(retain_grad))


def aggregate_ling(alpha: float = 0.8, beta: float = 0.5) -> Aggregate:
    """linG(α, β): v = α g_U + β g_C (α, β > 0; the paper's figures use α = 0.8, β = 0.5).

    On AND coordinates both terms share a sign, so v has it too.

    Example:
      >>> import jax.numpy as jnp
      >>> v = aggregate_ling(0.8, 0.5)(jnp.array([1.0]), jnp.array([2.0]))
      >>> [round(x, 3) for x in v.tolist()]
      [1.8]
    """
    check_number(alpha, "alpha", minimum=0.0, strict=True)
    check_number(beta, "beta", minimum=0.0, strict=True)

    def ling(forget_grad, retain_grad, direction=None):
        del direction
        return alpha * forget_grad + beta * retain_grad

    return ling


# --- focus weightings F(probability, threshold) -> [0, 1], applied leaf by leaf --------------


def focus_probability(probability: jax.Array, threshold: Any = None) -> jax.Array:
    """F_i = P_i (or q_i): the default focus vector; tends to the AND indicator without noise."""
    del threshold
    return probability


def focus_centered(probability: jax.Array, threshold: Any = None) -> jax.Array:
    """F_i = (2 P_i − 1)₊: zero for coordinates whose agreement is a coin flip or worse."""
    del threshold
    return jnp.clip(2.0 * probability - 1.0, 0.0, 1.0)


def focus_above_threshold(probability: jax.Array, threshold: Any) -> jax.Array:
    """F_i = P_i 𝟙[P_i ≥ p]: the PROB mask, with its kept coordinates weighted by P_i."""
    return jnp.where(probability >= threshold, probability, 0.0)


# --- the feasible-update mask -----------------------------------------------------------------


class FeasibleMaskState(NamedTuple):
    """State of :func:`feasible_mask`.

    Attributes:
      count: int32, number of updates so far.
      kept_fraction: float32, the mean of the last mask over all coordinates (for the focus mode,
        the mean weight); 1 before the first update.
    """

    count: jax.Array
    kept_fraction: jax.Array


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _missing(mode: str, names: str) -> TypeError:
    return TypeError(
        f"feasible_mask(mode={mode!r}).update needs the keyword argument(s) {names}; pass them "
        "as extra args, e.g. tx.update(updates, state, params, forget_stats=..., retain_stats=...)"
    )


def feasible_mask(
    mode: str = "and",
    *,
    criterion: str = "agreement",
    threshold: float = 0.45,
    aggregate: Aggregate | None = None,
    weighting: Weighting | None = None,
    apply_to: str = "update",
    distribution: str = "normal",
) -> optax.GradientTransformationExtraArgs:
    """Keep only the coordinates where the step (probably) helps both objectives.

    Let g_U, g_C be the gradients of the unlearning loss (the one the method *minimises*, e.g.
    −CE on the forget set for gradient ascent) and of the retain loss, and d the direction of the
    incoming update in the descent convention (the step is −η d). The transform returns w ⊙ v,
    where v = ``aggregate(g_U, g_C, d)`` (d itself by default) and, per coordinate (project note
    on arXiv 2511.02435, §2.2–2.4; our reconstruction, not the paper's numbered equations):

    - ``mode="and"``: w = 𝟙[ĝ_U ĝ_C > 0] (``criterion="agreement"``), or additionally
      𝟙[v ĝ_U > 0] (``"joint"``): the zero-noise limits of the two criteria;
    - ``mode="prob"``: w = 𝟙[P ≥ p], with P the agreement probability or the joint-feasibility
      probability q of v (:mod:`~jaxunlearn.transforms.mask_probability`) and p = ``threshold``;
    - ``mode="focus"``: w = ``weighting(P, p)`` ∈ [0, 1], P ⊙ v by default.

    With p = 0.45 < ½ the agreement criterion *keeps* coordinates whose gradients are too noisy
    to tell (P → ½) and drops only those that probably conflict; the joint criterion (q → ¼)
    drops them. Both reduce to the AND mask without noise.

    Extra args of ``update`` (keywords, routed by ``optax.chain``; others are ignored):

    - ``forget_stats``, ``retain_stats``: :class:`~jaxunlearn.transforms.grad_stats.GradStats`
      of g_U and g_C (from :func:`~jaxunlearn.transforms.grad_stats.per_example_grad_stats` or
      :func:`~jaxunlearn.transforms.grad_stats.microbatch_mean_stats`). Required by "prob" and
      "focus".
    - ``mode="and"`` also takes plain gradients: g_C is ``retain_stats.mean`` or
      ``retain_grads`` (one is required); g_U is ``forget_stats.mean``, else ``forget_grads``,
      else the incoming direction d itself, which is g_U for a method that descends L_U alone
      (GA, random labels) when the mask sits before the optimizer.

    Placement (``apply_to``):

    - ``"update"`` (default): the incoming values are Optax updates (θ ← θ + u, so d = −u). Put
      the mask last, after the optimizer and weight decay, so masked coordinates do not move at
      all. The mask then discards momentum along masked coordinates, and ``aggregate`` must be
      the identity (replacing the update would bypass the learning rate).
    - ``"gradient"``: the incoming values are gradients (d = u). Put the mask first, before the
      optimizer; ``aggregate`` may replace them. Stale momentum can still move masked
      coordinates. For both effects, chain one mask of each kind around the optimizer.

    Args:
      mode: ``"and"``, ``"prob"`` or ``"focus"``.
      criterion: ``"agreement"`` (P[g_U g_C > 0]) or ``"joint"`` (P[sign d = sign g_U =
        sign g_C]).
      threshold: p ∈ [0, 1], for ``"prob"`` (and weightings that use it). May be a jnp scalar,
        so it can be injected with ``optax.inject_hyperparams``; pass the callables through
        ``static_args=("aggregate", "weighting")`` there, since Optax takes callables for
        schedules.
      aggregate: ``None`` (the identity), :func:`aggregate_ming`, ``aggregate_ling(α, β)``, or any
        ``f(g_U_leaf, g_C_leaf, d_leaf) -> v_leaf`` (applied leaf by leaf, descent convention).
      weighting: for ``"focus"``: :func:`focus_probability` (default), :func:`focus_centered`,
        :func:`focus_above_threshold`, or any ``f(probability_leaf, threshold) -> [0, 1]``.
      apply_to: ``"update"`` or ``"gradient"``, see above.
      distribution: posterior of the sign, ``"normal"`` or ``"student_t"`` (n − 1 degrees of
        freedom).

    Returns:
      A ``GradientTransformationExtraArgs`` with state :class:`FeasibleMaskState`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> tx = optax.chain(feasible_mask("and", aggregate=aggregate_ling(0.8, 0.5),
      ...                                apply_to="gradient"), optax.sgd(1.0))
      >>> params = jnp.zeros(4)
      >>> g_forget = jnp.array([1.0, -2.0, 3.0, 0.0])
      >>> updates, state = tx.update(g_forget, tx.init(params), params,
      ...                            retain_grads=jnp.array([2.0, -1.0, -3.0, 5.0]))
      >>> [round(u, 3) for u in updates.tolist()], float(state[0].kept_fraction)
      ([-1.8, 2.1, 0.0, 0.0], 0.5)
    """
    _check_choice(mode, MODES, "mode")
    _check_choice(criterion, CRITERIA, "criterion")
    _check_choice(apply_to, APPLY_TO, "apply_to")
    check_distribution(distribution)
    check_number(threshold, "threshold", minimum=0.0, maximum=1.0)
    if aggregate is not None and not callable(aggregate):
        raise TypeError(f"aggregate must be None or a callable, got {aggregate!r}")
    if apply_to == "update" and aggregate not in (None, aggregate_identity):
        raise ValueError(
            "aggregate replaces the update, which would bypass the optimizer's learning rate: "
            "use apply_to='gradient' (mask before the optimizer) with an aggregate"
        )
    if weighting is not None:
        if mode != "focus":
            raise ValueError(f"weighting is only used by mode='focus', got mode={mode!r}")
        if not callable(weighting):
            raise TypeError(f"weighting must be None or a callable, got {weighting!r}")
    aggregate = aggregate or aggregate_identity
    weighting = weighting or focus_probability
    sign = 1.0 if apply_to == "gradient" else -1.0

    def init_fn(params: Any) -> FeasibleMaskState:
        del params
        return FeasibleMaskState(jnp.zeros((), jnp.int32), jnp.ones((), jnp.float32))

    def update_fn(updates, state, params=None, *, forget_stats=None, retain_stats=None,
                  forget_grads=None, retain_grads=None, **extra_args):
        del params, extra_args
        for name, stats in (("forget_stats", forget_stats), ("retain_stats", retain_stats)):
            if stats is not None and not isinstance(stats, GradStats):
                raise TypeError(f"{name} must be a GradStats, got {type(stats).__name__}")
        direction = jax.tree_util.tree_map(lambda u: sign * u, updates)
        if mode == "and":
            retain_grad = retain_stats.mean if retain_stats is not None else retain_grads
            if retain_grad is None:
                raise _missing(mode, "retain_stats= or retain_grads=")
            if forget_stats is not None:
                forget_grad = forget_stats.mean
            else:
                forget_grad = direction if forget_grads is None else forget_grads
        else:
            if forget_stats is None or retain_stats is None:
                raise _missing(mode, "forget_stats= and retain_stats=")
            forget_grad, retain_grad = forget_stats.mean, retain_stats.mean
        v = jax.tree_util.tree_map(aggregate, forget_grad, retain_grad, direction)

        if mode == "and":
            weights = sign_agreement(forget_grad, retain_grad)
            if criterion == "joint":
                weights = jax.tree_util.tree_map(
                    lambda w, vv, u: w & (vv * u > 0), weights, v, forget_grad
                )
        else:
            if criterion == "agreement":
                probability = agreement_probability(
                    forget_stats, retain_stats, distribution=distribution)
            else:
                probability = joint_feasibility_probability(
                    forget_stats, retain_stats, v, distribution=distribution)
            if mode == "prob":
                weights = jax.tree_util.tree_map(lambda p: p >= threshold, probability)
            else:
                weights = jax.tree_util.tree_map(lambda p: weighting(p, threshold), probability)

        def apply(w, vv, u):
            step = (sign * vv).astype(u.dtype)
            if mode == "focus":
                return masked_where(w != 0, w.astype(u.dtype) * step)
            return masked_where(w, step)

        masked = jax.tree_util.tree_map(apply, weights, v, updates)
        leaves = jax.tree_util.tree_leaves(weights)
        total = sum(leaf.size for leaf in leaves)
        kept = sum(jnp.sum(leaf.astype(jnp.float32)) for leaf in leaves) / max(total, 1)
        new_state = FeasibleMaskState(
            optax.safe_int32_increment(state.count), jnp.asarray(kept, jnp.float32)
        )
        return masked, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def and_mask(*, criterion: str = "agreement", aggregate: Aggregate | None = None,
             apply_to: str = "update") -> optax.GradientTransformationExtraArgs:
    """The AND mask: keep coordinates where ĝ_U ĝ_C > 0. ``feasible_mask("and", ...)``.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = and_mask(apply_to="gradient")
      >>> g = jnp.array([1.0, -2.0, 3.0, 0.0])
      >>> out, _ = tx.update(g, tx.init(g), retain_grads=jnp.array([2.0, -1.0, -3.0, 5.0]))
      >>> out.tolist()
      [1.0, -2.0, -0.0, -0.0]
    """
    return feasible_mask("and", criterion=criterion, aggregate=aggregate, apply_to=apply_to)


def prob_mask(threshold: float = 0.45, *, criterion: str = "agreement",
              aggregate: Aggregate | None = None, apply_to: str = "update",
              distribution: str = "normal") -> optax.GradientTransformationExtraArgs:
    """The PROB mask: keep coordinates whose probability of alignment is ≥ ``threshold``.

    ``feasible_mask("prob", ...)``; the paper's figures use p = 0.45.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxunlearn.transforms.grad_stats import grad_stats_from_samples
      >>> forget = grad_stats_from_samples(jnp.array([[1.0, 1.0, -1.0], [1.2, 1.0, -1.2]]))
      >>> retain = grad_stats_from_samples(jnp.array([[1.0, -3.0, 1.0], [1.1, 3.0, 1.1]]))
      >>> tx = prob_mask(0.45)
      >>> u = -jnp.array([1.0, 1.0, -1.0])        # an sgd update along −g_U
      >>> out, state = tx.update(u, tx.init(u), forget_stats=forget, retain_stats=retain)
      >>> out.tolist()        # sure agreement, too noisy to tell (kept at p < ½), sure conflict
      [-1.0, -1.0, -0.0]
    """
    return feasible_mask("prob", criterion=criterion, threshold=threshold, aggregate=aggregate,
                         apply_to=apply_to, distribution=distribution)


def focus_mask(*, criterion: str = "agreement", weighting: Weighting | None = None,
               threshold: float = 0.45, aggregate: Aggregate | None = None,
               apply_to: str = "update",
               distribution: str = "normal") -> optax.GradientTransformationExtraArgs:
    """The focus vector: scale each coordinate by its probability of alignment.

    ``feasible_mask("focus", ...)``; F = P by default (see the ``focus_*`` weightings).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxunlearn.transforms.grad_stats import GradStats
      >>> sure = GradStats(jnp.array([1.0, 1.0]), jnp.zeros(2), jnp.array(8))
      >>> retain = GradStats(jnp.array([1.0, -1.0]), jnp.zeros(2), jnp.array(8))
      >>> tx = focus_mask(apply_to="gradient")
      >>> out, _ = tx.update(jnp.array([2.0, 2.0]), tx.init(sure.mean),
      ...                    forget_stats=sure, retain_stats=retain)
      >>> out.tolist()
      [2.0, -0.0]
    """
    return feasible_mask("focus", criterion=criterion, threshold=threshold, aggregate=aggregate,
                         weighting=weighting, apply_to=apply_to, distribution=distribution)
