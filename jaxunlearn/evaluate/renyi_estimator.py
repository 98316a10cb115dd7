"""A variational Rényi-divergence estimator that stays stable for α ≥ 2, with a confidence end.

Rényi–Donsker–Varadhan (Birrell, Dupuis, Katsoulakis, Rey-Bellet & Wang, SIAM J. Math. Data Sci.
2021, Thm 2.1), written for D_α = α·R_α (the RDP convention, Mironov 2017):

    D_α(P‖Q) = sup_g (α/(α − 1)) log E_P[e^{(α−1)g}] − log E_Q[e^{αg}],   g* = log dP/dQ + c.

The recipe is DP-Auditorium's Rényi tester (Kong, Muñoz Medina, Ribero & Syed, "DP-Auditorium",
IEEE S&P 2024, arXiv 2307.05608, Alg. 2; ``dp_auditorium/testers/renyi_tester.py``): a critic
bounded by B (an MLP, by default two hidden layers of 100, output B·tanh) is re-initialised per
call and fitted with Adam on one half of each sample set; the objective of that fixed critic on the
other half is the estimate, and a Chernoff bound on the two empirical means gives its lower
confidence end.

Why plain DV training breaks down for α ≥ 2, and what is done about it: the objective weights Q
samples by e^{αg}, so on a finite training set it is maximised by a critic that is +B on a few P
points where no Q training point lies (the train estimate climbs towards 2αB while the held-out
one collapses: on 10-dimensional Gaussians at α = 4, B = 2, a training objective of 6 against
D_α = 0.4 and a held-out one of −1.5). Three measures, each found on such Gaussians to matter
(the slow test compares the plain fit):

1. B defaults to log(n_train)/(2α), so the largest weight ratio e^{2αB} equals the number of Q
   training samples: a region holding one training sample's worth of Q mass cannot dominate.
2. A logistic warm start (``warm_start_steps``): the critic is first fitted as a P-vs-Q
   classifier, whose logit converges to the same g* = log dP/dQ with bounded per-example
   gradients; the DV phase then only refines it.
3. Checkpoint selection on a validation part of the training half (every ``eval_every`` steps,
   the critic with the best validation objective is kept). The held-out half is never seen, so
   the estimate on it stays an honest lower bound in expectation.

Birrell et al.'s infimal-convolution form (ICLR 2023) is not used: with an unrestricted critic its
optimum is −g ∝ (dP/dQ)^α, so its Q term E_Q[−g] has the same relative variance
E_Q[r^{2α}]/E_Q[r^α]² as the DV term E_Q[e^{αg*}]; its lower variance comes from restricting the
critic class (e.g. to Lipschitz functions), which estimates a smaller, different divergence.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp

from jaxunlearn.evaluate.renyi_critic import (
    apply_renyi_critic,
    fit_renyi_critic,
    init_renyi_critic,
    renyi_dv_objective,
)

__all__ = ["RenyiEstimate", "estimate_renyi", "renyi_dv_objective", "renyi_confidence_margin",
           "default_critic_bound", "fit_renyi_critic", "apply_renyi_critic",
           "init_renyi_critic"]

MIN_SAMPLES = 10


def _log_mean_exp(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return logsumexp(values, axis=axis) - np.log(values.shape[axis])


def dv_objective_float64(g_p, g_q, alpha: float | None, axis: int = -1):
    """:func:`renyi_dv_objective` (D_α scale; KL for ``alpha=None``) in NumPy float64, along
    ``axis`` (so a ``[B, n]`` stack of bootstrap resamples is evaluated at once)."""
    g_p, g_q = np.asarray(g_p, np.float64), np.asarray(g_q, np.float64)
    if alpha is None:
        return np.mean(g_p, axis=axis) - _log_mean_exp(g_q, axis)
    return (alpha / (alpha - 1.0) * _log_mean_exp((alpha - 1.0) * g_p, axis)
            - _log_mean_exp(alpha * g_q, axis))


def renyi_confidence_margin(num_p: int, num_q: int, alpha: float, bound: float,
                            beta: float = 0.05) -> tuple[float, float, float]:
    """How far an estimate on held-out samples can exceed its critic's population value.

    For a critic with |g| ≤ B, the held-out means T̂_P = mean e^{(α−1)g(x_p)} and
    T̂_Q = mean e^{αg(x_q)} are averages of variables whose range spans a factor e^{2(α−1)B} and
    e^{2αB}. The multiplicative Chernoff bounds (upper tail for P, factor 3; lower tail for Q,
    factor 2; each failing with probability β/2) give T̂_P ≤ (1 + γ_P) T_P and
    T̂_Q ≥ (1 − γ_Q) T_Q with

        γ_P = sqrt(3 log(2/β) e^{2(α−1)B} / N_P),   γ_Q = sqrt(2 log(2/β) e^{2αB} / N_Q)

    (DP-Auditorium's ``_compute_error_from_samples``), so with probability ≥ 1 − β

        D̂_α − D_α(g) ≤ (α/(α − 1)) log(1 + γ_P) − log(1 − γ_Q).

    DP-Auditorium subtracts log((1 + γ)/(1 − γ)) with γ = max(γ_P, γ_Q), which omits the weight
    α/(α − 1) of the P term; the margin here keeps it. The Chernoff forms hold for γ ≤ 1; beyond
    that the margin is +inf (no finite lower end).

    Returns:
      ``(gamma_p, gamma_q, margin)`` on the D_α scale.

    >>> gamma_p, gamma_q, margin = renyi_confidence_margin(100_000, 100_000, 2.0, 0.5)
    >>> round(gamma_q, 4), round(margin, 4)
    (0.0233, 0.058)
    >>> renyi_confidence_margin(100, 100, 4.0, 2.0)[2]
    inf
    """
    alpha, bound, beta = float(alpha), float(bound), float(beta)
    if not alpha > 1.0:
        raise ValueError(f"alpha must be > 1 for the confidence margin, got {alpha}")
    if not bound > 0.0:
        raise ValueError(f"bound must be positive, got {bound}")
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must lie in (0, 1), got {beta}")
    for name, value in (("num_p", num_p), ("num_q", num_q)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    log_term = math.log(2.0 / beta)
    gamma_p = math.sqrt(3.0 * log_term * math.exp(2.0 * (alpha - 1.0) * bound) / num_p)
    gamma_q = math.sqrt(2.0 * log_term * math.exp(2.0 * alpha * bound) / num_q)
    if gamma_p > 1.0 or gamma_q >= 1.0:
        return gamma_p, gamma_q, math.inf
    margin = alpha / (alpha - 1.0) * math.log1p(gamma_p) - math.log1p(-gamma_q)
    return gamma_p, gamma_q, margin


def default_critic_bound(alpha: float | None, num_train: int) -> float:
    """B = log(n_train)/(2α), clipped to [0.25, 5]: the largest Q weight ratio e^{2αB} equals the
    number of Q training samples (α = 1 for KL). A heuristic for estimation accuracy; a useful
    lower confidence end needs a smaller B (see :func:`renyi_confidence_margin`).

    >>> round(default_critic_bound(2.0, 20_000), 3)
    2.476
    """
    order = 1.0 if alpha is None else float(alpha)
    return float(np.clip(math.log(max(int(num_train), 2)) / (2.0 * order), 0.25, 5.0))


# ----------------------------------------------------------------------------------------------
# Inputs, splits and the estimator.


def _as_samples(samples, name: str, minimum: int = MIN_SAMPLES) -> np.ndarray:
    samples = np.asarray(samples, np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.ndim != 2:
        raise ValueError(f"{name} must have shape [n] or [n, d], got {samples.shape}")
    if samples.shape[0] < minimum:
        raise ValueError(f"{name} needs at least {minimum} samples, got {samples.shape[0]}")
    if samples.shape[1] == 0:
        raise ValueError(f"{name} has no features (shape {samples.shape})")
    if not np.all(np.isfinite(samples)):
        raise ValueError(f"{name} must be finite")
    return samples


def check_sample_pair(samples_p, samples_q, minimum: int = MIN_SAMPLES):
    """Both sample sets as float64 ``[n, d]`` arrays of the same dimension (ValueError if not)."""
    x_p = _as_samples(samples_p, "samples_p", minimum)
    x_q = _as_samples(samples_q, "samples_q", minimum)
    if x_p.shape[1] != x_q.shape[1]:
        raise ValueError(f"samples_p and samples_q must have the same dimension, got "
                         f"{x_p.shape[1]} and {x_q.shape[1]}")
    return x_p, x_q


@dataclasses.dataclass(frozen=True)
class CriticFit:
    """A fitted critic's values on the training and held-out halves (internal to the estimators)."""

    g_train_p: np.ndarray
    g_train_q: np.ndarray
    g_test_p: np.ndarray
    g_test_q: np.ndarray
    bound: float
    history: np.ndarray


def fit_and_evaluate_critic(x_p, x_q, alpha, key, *, bound, hidden, steps, warm_start_steps,
                            learning_rate, batch_size, eval_every, train_fraction=0.5,
                            validation_fraction=0.2) -> CriticFit:
    """Split, standardise, fit :func:`fit_renyi_critic` and evaluate it on both halves."""
    if key is None:
        raise ValueError("key is required to fit the critic (a jax.random key)")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    hidden = (int(hidden),) if np.ndim(hidden) == 0 else tuple(int(h) for h in hidden)
    if not hidden or min(hidden) < 1:
        raise ValueError(f"hidden must be positive layer widths, got {hidden}")
    for name, value, low in (("steps", steps, 0), ("warm_start_steps", warm_start_steps, 0),
                             ("batch_size", batch_size, 1), ("eval_every", eval_every, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    if steps % eval_every:
        raise ValueError(f"steps ({steps}) must be a multiple of eval_every ({eval_every})")
    if steps + warm_start_steps < 1:
        raise ValueError("steps + warm_start_steps must be >= 1")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    split_key, fit_key = jax.random.split(key)
    # The split is drawn by NumPy from bits of the key: a jax.random.permutation would compile
    # once per sample count.
    rng = np.random.default_rng(np.asarray(jax.random.bits(split_key, (4,))).tolist())
    x_p, x_q = x_p[rng.permutation(x_p.shape[0])], x_q[rng.permutation(x_q.shape[0])]
    n_p, n_q = int(train_fraction * x_p.shape[0]), int(train_fraction * x_q.shape[0])
    v_p, v_q = int(validation_fraction * n_p), int(validation_fraction * n_q)
    if min(v_p, v_q, x_p.shape[0] - n_p, x_q.shape[0] - n_q) < 2:
        raise ValueError("too few samples for a training, validation and held-out split; "
                         f"samples_p has {x_p.shape[0]}, samples_q has {x_q.shape[0]}")
    if bound is None:
        bound = default_critic_bound(alpha, min(n_p - v_p, n_q - v_q))
    bound = float(bound)
    if not bound > 0:
        raise ValueError(f"bound must be positive, got {bound}")
    # Standardising is part of the critic (statistics of the training half only).
    pooled = np.concatenate([x_p[:n_p], x_q[:n_q]])
    center, scale = pooled.mean(axis=0), pooled.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)

    # Order: P train, Q train, P held-out, Q held-out (one array, so one evaluation).
    ordered = np.concatenate([x_p[:n_p], x_q[:n_q], x_p[n_p:], x_q[n_q:]])
    ordered = jnp.asarray((ordered - center) / scale, jnp.float32)
    n_train = n_p + n_q
    params, history = fit_renyi_critic(
        fit_key, ordered[v_p:n_p], ordered[n_p + v_q:n_train], ordered[:v_p],
        ordered[n_p:n_p + v_q], jnp.float32(1.0 if alpha is None else alpha),
        jnp.float32(bound), jnp.float32(learning_rate), hidden=hidden, steps=int(steps),
        warm_start_steps=int(warm_start_steps), batch_size=int(batch_size),
        eval_every=int(eval_every), kl=alpha is None)
    values = np.asarray(_apply_jit(params, ordered, jnp.float32(bound)), np.float64)
    test_split = n_train + x_p.shape[0] - n_p
    return CriticFit(values[:n_p], values[n_p:n_train], values[n_train:test_split],
                     values[test_split:], bound, np.asarray(history))


_apply_jit = jax.jit(apply_renyi_critic)


@dataclasses.dataclass(frozen=True)
class RenyiEstimate:
    """The result of :func:`estimate_renyi` (all on the D_α scale unless ``rescaled`` is False).

    Attributes:
      alpha: the order.
      train: the objective of the fitted critic on the training half (optimistic).
      test: its objective on the held-out half, a lower bound on D_α in expectation.
      lower: the lower confidence end at level 1 − β (−inf when the margin is unbounded).
      gamma_p, gamma_q: the Chernoff multiplicative errors of the held-out means.
      bound: the critic's bound B.
      num_train, num_test: samples per distribution (P, Q) in each half.
      rescaled: True for D_α, False for R_α = D_α/α.
      beta: the failure probability of ``lower``.
    """

    alpha: float
    train: float
    test: float
    lower: float
    gamma_p: float
    gamma_q: float
    bound: float
    num_train: tuple[int, int]
    num_test: tuple[int, int]
    rescaled: bool
    beta: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def estimate_renyi(samples_p, samples_q, alpha: float, *, critic: str | Callable = "tanh_mlp",
                   bound: float | None = None, hidden: Sequence[int] = (100, 100),
                   steps: int = 1000, learning_rate: float = 2e-4, batch_size: int = 500,
                   key: jax.Array | None = None, beta: float = 0.05, rescaled: bool = True,
                   warm_start_steps: int = 500, eval_every: int = 50) -> RenyiEstimate:
    """Estimate D_α(P‖Q) from samples with a bounded critic, and its lower confidence end.

    DP-Auditorium's recipe (module docstring): split each sample set in halves (random, from
    ``key``), fit a bounded tanh-MLP critic on the first half (a fifth of it held back for
    checkpoint selection) by a logistic warm start and then Adam on
    (α/(α−1)) log Ê_P e^{(α−1)g} − log Ê_Q e^{αg}, and evaluate that objective on the second
    half. ``lower`` = test − margin (:func:`renyi_confidence_margin`) lower-bounds D_α with
    probability ≥ 1 − β over the held-out draw.

    Accuracy on isotropic Gaussians (D_α = α‖Δ‖²/(2σ²); 100,000 samples per distribution, so
    50,000 held out; the defaults; 4 seeds, tests/evaluate/test_evaluate_divergence_estimator.py):
    mean error ≤ 5% for α = 1.5 (d = 2, 10), α = 2 (d = 2, 5, 10) and α = 4 (d = 2), −8% at
    α = 4, d = 5; single runs within 8% for α ≤ 2 and up to 17% at α = 4 (D = 0.4), where the
    held-out sampling error alone is 6% s.d. — the optimal critic log dP/dQ, evaluated on the
    same held-out halves, scatters ±10%. That error has relative variance about
    (e^{2αD} − 1 + (α/(α−1))²(e^{2(α−1)²D/α} − 1))/(N D²): large α·D needs many samples.

    Args:
      samples_p: ``[n, d]`` (or ``[n]``) draws from P (e.g. unlearned models' outputs).
      samples_q: ``[m, d]`` (or ``[m]``) draws from Q (e.g. retrained models' outputs).
      alpha: order α > 1.
      critic: ``"tanh_mlp"`` (fitted), or a fixed function ``[n, d] -> [n]``, clipped to
        [−B, B] and evaluated on all samples (no training half; ``train`` is NaN).
      bound: B; None = :func:`default_critic_bound` (α, training samples). Smaller B gives a
        tighter ``lower`` but may not reach D_α (any |g| ≤ B critic gives at most 2αB).
      hidden: hidden layer widths of the critic.
      steps: DV steps after the warm start (a multiple of ``eval_every``).
      learning_rate: Adam's step size in the DV phase.
      batch_size: samples of each distribution per step.
      key: ``jax.random`` key (split, initialisation, batches); required for the fitted critic.
      beta: failure probability of the lower confidence end.
      rescaled: return D_α (True) or R_α = D_α/α (False).
      warm_start_steps: logistic steps before the DV phase (0 = DP-Auditorium's plain fit).
      eval_every: DV steps between validation checks.

    Returns:
      A :class:`RenyiEstimate`.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> p, q = rng.normal(1.0, 1.0, (20000, 1)), rng.normal(0.0, 1.0, (20000, 1))
      >>> result = estimate_renyi(p, q, 2.0, critic=lambda x: x[:, 0] - 0.5, bound=3.0)
      >>> 0.9 < result.test < 1.1 and result.lower < 1.0  # D_2(N(1,1) ‖ N(0,1)) = 1
      True
    """
    alpha = float(alpha)
    if not alpha > 1.0 or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite order > 1, got {alpha}")
    if not 0.0 < float(beta) < 1.0:
        raise ValueError(f"beta must lie in (0, 1), got {beta}")
    x_p, x_q = check_sample_pair(samples_p, samples_q)
    if callable(critic):
        if bound is None:
            bound = default_critic_bound(alpha, min(x_p.shape[0], x_q.shape[0]))
        bound = float(bound)
        if not bound > 0:
            raise ValueError(f"bound must be positive, got {bound}")
        g_p = np.asarray(critic(x_p), np.float64).reshape(-1)
        g_q = np.asarray(critic(x_q), np.float64).reshape(-1)
        if g_p.shape != (x_p.shape[0],) or g_q.shape != (x_q.shape[0],):
            raise ValueError("critic must map [n, d] samples to [n] values")
        g_test_p, g_test_q = np.clip(g_p, -bound, bound), np.clip(g_q, -bound, bound)
        train = math.nan
        num_train = (0, 0)
    elif critic == "tanh_mlp":
        fit = fit_and_evaluate_critic(
            x_p, x_q, alpha, key, bound=bound, hidden=hidden, steps=steps,
            warm_start_steps=warm_start_steps, learning_rate=learning_rate,
            batch_size=batch_size, eval_every=eval_every)
        bound, g_test_p, g_test_q = fit.bound, fit.g_test_p, fit.g_test_q
        train = float(dv_objective_float64(fit.g_train_p, fit.g_train_q, alpha))
        num_train = (fit.g_train_p.size, fit.g_train_q.size)
    else:
        raise ValueError(f"critic must be 'tanh_mlp' or a callable, got {critic!r}")
    test = float(dv_objective_float64(g_test_p, g_test_q, alpha))
    gamma_p, gamma_q, margin = renyi_confidence_margin(g_test_p.size, g_test_q.size, alpha,
                                                       bound, beta)
    lower = test - margin if math.isfinite(test) else math.nan
    scale = 1.0 if rescaled else 1.0 / alpha
    return RenyiEstimate(alpha=alpha, train=train * scale, test=test * scale,
                         lower=lower * scale, gamma_p=gamma_p, gamma_q=gamma_q, bound=bound,
                         num_train=num_train, num_test=(g_test_p.size, g_test_q.size),
                         rescaled=bool(rescaled), beta=float(beta))
