"""Rényi-unlearning bounds of projected noisy SGD (PNSGD) with cyclic mini-batches.

Chien, Wang, Chen & Li, "Certified Machine Unlearning via Noisy Stochastic Gradient Descent"
(NeurIPS 2024, arXiv 2403.17105). One fixed permutation splits the n points into n/b batches of
size b, visited cyclically for learning and unlearning; each step is
w ← Π_{C_R}(w − η·mean_b clip_M(∇f_i(w)) + sqrt(2ησ²)·W). With c = 1 − ηm the contraction of one
step, the paper tracks the W∞ distance of adjacent (un)learning processes (converged learners are
within Z_B) and converts it to Rényi divergence by privacy amplification by iteration. The
formulas are those of the official code (Graph-COM/SGD_unlearning, ``main_sgd.py``:
``Z_B_loose``, ``epsilon_with_alpha_z``, ``Z_B_sequential``, ``epsilon*_nonconvergent``); the
theorem numbers of the paper could not be checked here. K counts epochs (n/b steps each). For
ALU, n is n_private + n_public (every point sits in some batch). Orders broadcast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxunlearn.certify._validation import (
    check_alpha, check_int, check_int_sequence, check_real,
)
from jaxunlearn.certify.langevin import Order, _as_output

__all__ = ["pnsgd_Z", "pnsgd_renyi", "pnsgd_sequential", "pnsgd_renyi_finite_T"]


def _check_common(step_size, strong_convexity, n, batch_size):
    step_size = check_real(step_size, "step_size", minimum=0.0, strict=True)
    strong_convexity = check_real(strong_convexity, "strong_convexity", minimum=0.0, strict=True)
    if step_size * strong_convexity > 1.0:
        raise ValueError(
            f"step_size must satisfy step_size * strong_convexity <= 1 (c = 1 - eta*m >= 0), "
            f"got {step_size} * {strong_convexity}")
    n = check_int(n, "n", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=n)
    return step_size, strong_convexity, n, batch_size


def _z(step_size, strong_convexity, clip_norm, n, batch_size):
    c = 1.0 - step_size * strong_convexity
    return 2.0 * step_size * clip_norm / (batch_size * (1.0 - c ** (n / batch_size)))


def _renyi(alpha, epochs, step_size, strong_convexity, n, batch_size, sigma, shift, tight):
    c = 1.0 - step_size * strong_convexity
    decay = c ** (2.0 * epochs * n / batch_size)
    base = alpha * shift**2 / (2.0 * step_size * sigma**2)
    if not tight:
        return base * decay
    if epochs == 0 or decay >= 1.0:
        return np.full_like(np.asarray(alpha, dtype=np.float64), np.inf)
    return base * (1.0 - c**2) * decay / (1.0 - decay)


def pnsgd_Z(step_size: float, strong_convexity: float, clip_norm: float, n: int,
            batch_size: int, *, radius: float | None = None) -> float:
    """Z_B = 2ηM / (b(1 − c^{n/b})), c = 1 − ηm: the W∞ gap of adjacent converged learners.

    Chien et al. (PNSGD) bound on W∞(ν_{D|B}, ν_{D′|B}) for one replaced point, as coded in
    ``Z_B_loose``; with a projection radius R it is min(Z_B, 2R) (no two points of the ball
    C_R are further apart). Full batch is ``batch_size=n`` and gives ≈ 2M/(nm) for small ηm.
    There is no S: multi-point requests go through :func:`pnsgd_sequential`.

    Args:
      step_size: η > 0 with ηm ≤ 1.
      strong_convexity: m > 0.
      clip_norm: M > 0.
      n: dataset size ≥ 1 (n_private + n_public for ALU).
      batch_size: b in [1, n].
      radius: optional projection radius R > 0.

    Example:
      >>> n, m = 11_982, 0.011982
      >>> round(pnsgd_Z(1 / (0.25 + m), m, 1.0, n, 128), 4)
      0.0604
      >>> round(pnsgd_Z(1 / (0.25 + m), m, 1.0, n, n), 4)  # about 2M/(nm) = 0.0139
      0.0139
    """
    step_size, strong_convexity, n, batch_size = _check_common(step_size, strong_convexity, n,
                                                               batch_size)
    clip_norm = check_real(clip_norm, "clip_norm", minimum=0.0, strict=True)
    shift = _z(step_size, strong_convexity, clip_norm, n, batch_size)
    if radius is not None:
        shift = min(shift, 2.0 * check_real(radius, "radius", minimum=0.0, strict=True))
    return float(shift)


def pnsgd_renyi(alpha: Order, epochs: int, *, step_size: float, strong_convexity: float,
                clip_norm: float, n: int, batch_size: int, sigma: float,
                tight: bool = False) -> Order:
    """Rényi-unlearning bound of PNSGD after K epochs from converged learning.

        loose: ε(α, K) = α Z_B² c^{2Kn/b} / (2ησ²)
        tight: ε(α, K) = α Z_B² / (2ησ²) · (1 − c²) c^{2Kn/b} / (1 − c^{2Kn/b})

    (Chien et al., PNSGD, strongly convex unlearning guarantee; the official ``main_sgd.py``
    picks K with the loose form.) The tight form is never larger once Kn/b ≥ 1, and is +∞ at
    K = 0 (no unlearning step to amplify). One epoch contracts by c^{2n/b}.

    Args:
      alpha: order(s) α > 1.
      epochs: K ≥ 0 unlearning epochs.
      step_size, strong_convexity, clip_norm, n, batch_size: as in :func:`pnsgd_Z`.
      sigma: σ > 0.
      tight: use the tight form.

    Example:
      >>> kw = dict(step_size=1 / (0.25 + 0.011982), strong_convexity=0.011982, clip_norm=1.0,
      ...           n=11_982, batch_size=128, sigma=0.03)
      >>> bool(pnsgd_renyi(50.0, 1, tight=True, **kw) < pnsgd_renyi(50.0, 1, **kw))
      True
    """
    alpha = check_alpha(alpha)
    epochs = check_int(epochs, "epochs", minimum=0)
    step_size, strong_convexity, n, batch_size = _check_common(step_size, strong_convexity, n,
                                                               batch_size)
    clip_norm = check_real(clip_norm, "clip_norm", minimum=0.0, strict=True)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    shift = _z(step_size, strong_convexity, clip_norm, n, batch_size)
    return _as_output(_renyi(alpha, epochs, step_size, strong_convexity, n, batch_size, sigma,
                             shift, bool(tight)))


def pnsgd_sequential(alpha: Order, epochs_list: Sequence[int], *, step_size: float,
                     strong_convexity: float, clip_norm: float, n: int, batch_size: int,
                     sigma: float, tight: bool = False) -> Order:
    """Rényi-unlearning bound after the last of s sequential one-point requests (W∞ tracking).

    Chien et al. (PNSGD, sequential unlearning), coded as ``Z_B_sequential``: the W∞ gap grows
    linearly, not through Rényi triangle inequalities,

        Z^{(1)} = Z_B,    Z^{(s)} = Z^{(s−1)} · c^{K_{s−1} n/b} + Z_B,

    and the final bound is :func:`pnsgd_renyi` with Z^{(s)} in place of Z_B and K = K_s. One
    request reduces to :func:`pnsgd_renyi`. A request of S points is S one-point requests.

    Args:
      alpha: order(s) α > 1.
      epochs_list: [K_1, ..., K_s], unlearning epochs after each request.
      Others: as in :func:`pnsgd_renyi`.

    Example:
      >>> kw = dict(step_size=3.8, strong_convexity=0.012, clip_norm=1.0, n=11_982,
      ...           batch_size=128, sigma=0.03)
      >>> bool(pnsgd_sequential(10.0, [2], **kw) == pnsgd_renyi(10.0, 2, **kw))
      True
    """
    alpha = check_alpha(alpha)
    epochs_list = check_int_sequence(epochs_list, "epochs_list", minimum=0)
    step_size, strong_convexity, n, batch_size = _check_common(step_size, strong_convexity, n,
                                                               batch_size)
    clip_norm = check_real(clip_norm, "clip_norm", minimum=0.0, strict=True)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    c = 1.0 - step_size * strong_convexity
    single = _z(step_size, strong_convexity, clip_norm, n, batch_size)
    shift = single
    for previous in epochs_list[:-1]:
        shift = shift * c ** (previous * n / batch_size) + single
    return _as_output(_renyi(alpha, epochs_list[-1], step_size, strong_convexity, n, batch_size,
                             sigma, shift, bool(tight)))


def pnsgd_renyi_finite_T(alpha: Order, epochs: int, learn_epochs: int, radius: float, *,
                         step_size: float, strong_convexity: float, clip_norm: float, n: int,
                         batch_size: int, sigma: float, q: float = 2.0,
                         tight: bool = False) -> Order:
    """Rényi-unlearning bound when learning ran only T epochs (not to convergence), radius R.

    The unlearned law P is compared with retraining R (T epochs on D′ from the start) through
    the stationary law Q = ν_{D′}, with the weak triangle inequality of Rényi divergence
    (Mironov 2017, Prop. 11; p = q/(q − 1)):

        ε(α) = (α − 1/p)/(α − 1) · ε2(pα) + ε1(q(α − 1/p)),
        ε1(β) = β (2R)² c^{2Tn/b} / (2ησ²)                   retraining vs ν_{D′}
        ε2(β) = β Z_T² c^{2Kn/b} / (2ησ²),  Z_T = min(Z_B + 2R c^{Tn/b}, 2R)   unlearned vs ν_{D′}

    (``tight=True`` multiplies each term by (1 − c²)/(1 − c^{2·epochs·n/b}) as in
    :func:`pnsgd_renyi`.) Z_T is the W∞ triangle W∞(x_T, ν_D) + W∞(ν_D, ν_{D′}); the official
    ``epsilon2_alpha_loose_nonconvergent`` instead adds 2R·c^{2Tn/b} to the divergence itself,
    which is not what the W∞ argument gives. As T → ∞ this tends to the converged bound with
    the weak-triangle factor. The official runner uses q = 100.

    Args:
      alpha: order(s) α > 1.
      epochs: K ≥ 0 unlearning epochs.
      learn_epochs: T ≥ 0 learning epochs.
      radius: R > 0, the projection radius.
      q: Hölder exponent q > 1.
      Others: as in :func:`pnsgd_renyi`.

    Example:
      >>> kw = dict(step_size=3.8, strong_convexity=0.012, clip_norm=1.0, n=11_982,
      ...           batch_size=128, sigma=0.03)
      >>> short = pnsgd_renyi_finite_T(10.0, 5, 10, 5.0, **kw)
      >>> long = pnsgd_renyi_finite_T(10.0, 5, 1000, 5.0, **kw)
      >>> bool(long < short)
      True
    """
    alpha = check_alpha(alpha)
    epochs = check_int(epochs, "epochs", minimum=0)
    learn_epochs = check_int(learn_epochs, "learn_epochs", minimum=0)
    radius = check_real(radius, "radius", minimum=0.0, strict=True)
    step_size, strong_convexity, n, batch_size = _check_common(step_size, strong_convexity, n,
                                                               batch_size)
    clip_norm = check_real(clip_norm, "clip_norm", minimum=0.0, strict=True)
    sigma = check_real(sigma, "sigma", minimum=0.0, strict=True)
    q = check_real(q, "q", minimum=1.0, strict=True)
    p = q / (q - 1.0)
    c = 1.0 - step_size * strong_convexity
    args = (step_size, strong_convexity, n, batch_size, sigma)
    retrain = _renyi(q * (alpha - 1.0 / p), learn_epochs, *args, 2.0 * radius, bool(tight))
    gap = min(_z(step_size, strong_convexity, clip_norm, n, batch_size)
              + 2.0 * radius * c ** (learn_epochs * n / batch_size), 2.0 * radius)
    unlearn = _renyi(p * alpha, epochs, *args, gap, bool(tight))
    return _as_output((alpha - 1.0 / p) / (alpha - 1.0) * unlearn + retrain)
