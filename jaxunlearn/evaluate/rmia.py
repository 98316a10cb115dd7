"""RMIA: the relative membership inference attack (Zarifzadeh, Liu, Shokri, ICML 2024).

For a target model θ, an example x and population examples z not in θ's training set,

    LR_θ(x, z) = [p(x|θ) / p(x)] / [p(z|θ) / p(z)]                    (eq. 3)
    Score(x)   = Pr_z[ LR_θ(x, z) ≥ γ ]                               (eq. 4)

p(·|θ) is the probability the model gives the true label (:func:`jaxunlearn.evaluate.signals.
true_label_prob`), and p(x) = E_θ'[p(x|θ')] over reference models trained on random halves of the
population. Online, p(x) = ½(mean over IN references + mean over OUT references) — the mean over
references with x in their training set half the time. Offline (only OUT references, §3 "offline
RMIA"): p(x) ≈ ½[(1 + a)·p_OUT(x) + (1 − a)], a linear guess of the IN mean from the OUT mean.
The population points z are OUT for every reference; p(z) is their mean over the references, and
in offline mode the same linear correction is applied to it, so that x and z are normalised by
the same estimator of the marginal.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from jaxunlearn.evaluate.holdout import companion_drop, generator, resolve_balance
from jaxunlearn.evaluate.roc import auc

__all__ = ["rmia", "tune_offline_a"]


def _as_probabilities(name: str, values: Any, ndim: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {values.shape}")
    if values.size == 0:
        raise ValueError(f"{name}: is empty")
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{name}: expected probabilities in [0, 1]")
    return values


def _offline_marginal(p_out: np.ndarray, a: float) -> np.ndarray:
    return 0.5 * ((1.0 + a) * p_out + (1.0 - a))


def rmia(
    p_x_target: Any,
    p_x_ref: Any,
    in_mask: Any,
    p_z_target: Any,
    p_z_ref: Any,
    *,
    a: float = 1.0,
    gamma: float = 1.0,
    online: bool = True,
    epsilon: float = 1e-30,
) -> np.ndarray:
    """RMIA scores Pr_z[LR_θ(x, z) ≥ γ] (Zarifzadeh et al., ICML 2024, eqs. 3–4).

    Args:
      p_x_target: ``[N]`` p(x|θ) of the target model on the audited examples.
      p_x_ref: ``[R, N]`` p(x|θ') of R reference models.
      in_mask: ``[R, N]`` True where reference r was trained on x_n. Online mode needs IN and OUT
        references for every example; offline mode uses only the OUT ones (None = all OUT).
      p_z_target: ``[Z]`` p(z|θ) of the target on population examples it was not trained on.
      p_z_ref: ``[R, Z]`` p(z|θ') of the references on them (none was trained on them).
      a: offline interpolation coefficient in [0, 1] (a = 1: p(x) = p_OUT(x)); see
        :func:`tune_offline_a`.
      gamma: threshold γ > 0 on the pairwise likelihood ratio.
      online: use IN and OUT references (True) or OUT only (False).
      epsilon: added to the marginals so that a reference probability of 0 does not divide by 0.

    Returns:
      ``[N]`` scores in [0, 1], higher = member.

    >>> import numpy as np
    >>> p_x_ref = np.array([[0.5, 0.5], [0.5, 0.5]]); in_mask = np.array([[1, 0], [0, 1]])
    >>> p_z_ref = np.full((2, 4), 0.5)
    >>> rmia(np.array([0.9, 0.45]), p_x_ref, in_mask, np.array([0.4, 0.5, 0.6, 0.7]), p_z_ref)
    array([1.  , 0.25])
    """
    p_x_target = _as_probabilities("p_x_target", p_x_target, 1)
    p_x_ref = _as_probabilities("p_x_ref", p_x_ref, 2)
    p_z_target = _as_probabilities("p_z_target", p_z_target, 1)
    p_z_ref = _as_probabilities("p_z_ref", p_z_ref, 2)
    num_refs, num_examples = p_x_ref.shape
    if p_x_target.shape != (num_examples,):
        raise ValueError(f"p_x_target: shape {p_x_target.shape} does not match p_x_ref "
                         f"{p_x_ref.shape} (expected ({num_examples},))")
    if p_z_ref.shape != (num_refs, p_z_target.size):
        raise ValueError(f"p_z_ref: expected shape ({num_refs}, {p_z_target.size}) (references of "
                         f"p_x_ref, population points of p_z_target), got {p_z_ref.shape}")
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"a: expected a value in [0, 1], got {a}")
    if not gamma > 0:
        raise ValueError(f"gamma: must be positive, got {gamma}")
    if in_mask is None:
        if online:
            raise ValueError("in_mask: required for online RMIA")
        in_mask = np.zeros((num_refs, num_examples), dtype=bool)
    in_mask = np.asarray(in_mask)
    if in_mask.shape != (num_refs, num_examples):
        raise ValueError(f"in_mask: expected shape {(num_refs, num_examples)}, got {in_mask.shape}")
    in_mask = in_mask.astype(bool)
    out_mask = ~in_mask
    out_count = out_mask.sum(axis=0)
    if np.any(out_count == 0):
        raise ValueError(f"in_mask: {int(np.sum(out_count == 0))} example(s) have no OUT reference")
    p_out_x = np.sum(np.where(out_mask, p_x_ref, 0.0), axis=0) / out_count
    if online:
        in_count = in_mask.sum(axis=0)
        if np.any(in_count == 0):
            raise ValueError(f"in_mask: {int(np.sum(in_count == 0))} example(s) have no IN "
                             "reference; use online=False")
        p_in_x = np.sum(np.where(in_mask, p_x_ref, 0.0), axis=0) / in_count
        marginal_x = 0.5 * (p_in_x + p_out_x)
        marginal_z = p_z_ref.mean(axis=0)
    else:
        marginal_x = _offline_marginal(p_out_x, a)
        marginal_z = _offline_marginal(p_z_ref.mean(axis=0), a)
    ratio_x = p_x_target / (marginal_x + epsilon)
    ratio_z = p_z_target / (marginal_z + epsilon)
    # LR(x, z) ≥ γ  ⇔  ratio_z ≤ ratio_x / γ (both ratios are non-negative): count by sorting.
    sorted_z = np.sort(ratio_z)
    counts = np.searchsorted(sorted_z, ratio_x / gamma, side="right")
    return counts / sorted_z.size


def tune_offline_a(
    p_x_ref: Any,
    in_mask: Any,
    p_z_ref: Any,
    *,
    target_index: int = 0,
    grid: Sequence[float] = tuple(np.round(np.linspace(0.0, 1.0, 11), 2)),
    gamma: float = 1.0,
    balance: str = "auto",
    key: Any = 0,
) -> tuple[float, dict[float, float]]:
    """Chooses the offline coefficient a by attacking one reference model with the others.

    Zarifzadeh et al. (ICML 2024, §3 and App. B.2.2) tune a on reference models only: reference
    ``target_index`` plays the target, the remaining references (OUT only) the offline
    references, and the a in ``grid`` with the highest AUC on the target's known membership wins.
    With ``balance`` (:mod:`~jaxunlearn.evaluate.holdout`), one more OUT reference is held out
    for each example the target trained on, so that members and non-members of the target are
    normalised by the same number of OUT references: with a balanced membership matrix, the
    target alone leaves one OUT reference more for its members, and identical IN and OUT
    distributions then score an AUC below 0.5 (a non-member's marginal, averaged over fewer
    references, is noisier, and its ratio p(x|θ)/p(x) larger on average: 0.488 at 4 references,
    100 seeds). ``"auto"`` holds out a companion when every example is IN for the same number of
    references.

    Args:
      p_x_ref: ``[R, N]`` (R ≥ 2) reference probabilities on the audited examples.
      in_mask: ``[R, N]`` membership of the references.
      p_z_ref: ``[R, Z]`` reference probabilities on population points.
      target_index, grid, gamma: the reference that plays the target, the values of a tried,
        and γ.
      balance: ``"auto"``, ``"companion"`` or ``"none"`` (the target alone is held out).
      key: seed of the companions (an int, a ``numpy.random.Generator`` or a JAX PRNG key).

    Returns:
      ``(best_a, {a: auc})``; examples that all other references trained on are left out.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> in_mask = rng.random((4, 200)) < 0.5
    >>> p_x_ref = np.clip(rng.normal(0.5 + 0.3 * in_mask, 0.1), 0, 1)
    >>> best_a, aucs = tune_offline_a(p_x_ref, in_mask, np.clip(rng.normal(0.5, 0.1, (4, 100)), 0, 1))
    >>> aucs[best_a] > 0.9
    True
    """
    p_x_ref = _as_probabilities("p_x_ref", p_x_ref, 2)
    p_z_ref = _as_probabilities("p_z_ref", p_z_ref, 2)
    in_mask = np.asarray(in_mask).astype(bool)
    if in_mask.shape != p_x_ref.shape:
        raise ValueError(f"in_mask: expected shape {p_x_ref.shape}, got {in_mask.shape}")
    num_refs = p_x_ref.shape[0]
    if num_refs < 2:
        raise ValueError("p_x_ref: tuning a needs at least two reference models")
    if not 0 <= target_index < num_refs:
        raise ValueError(f"target_index: expected an index below {num_refs}, got {target_index}")
    others = np.arange(num_refs) != target_index
    label, other_in = in_mask[target_index], in_mask[others]
    if resolve_balance(balance, in_mask):
        rng = generator(key)
        # Offline RMIA reads OUT references only: a held-out OUT reference is marked IN.
        other_in = other_in | companion_drop(~other_in & label[None, :], rng)
    # Examples that every other reference trained on have no OUT estimate and are left out.
    usable = (~other_in).any(axis=0)
    if in_mask[target_index, usable].all() or not in_mask[target_index, usable].any():
        raise ValueError("in_mask: the tuning target needs members and non-members with an OUT "
                         "reference among the other models")
    aucs = {}
    for a in grid:
        scores = rmia(p_x_ref[target_index, usable], p_x_ref[others][:, usable],
                      other_in[:, usable], p_z_ref[target_index], p_z_ref[others],
                      a=float(a), gamma=gamma, online=False)
        aucs[float(a)] = auc(scores, in_mask[target_index, usable])
    best = max(aucs, key=aucs.get)
    return best, aucs
