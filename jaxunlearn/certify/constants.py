"""Problem constants of the certificates: gradient sensitivity, strong convexity, smoothness.

The Langevin/ALU certificates need three numbers about the objective F that the noisy iterations
minimise: its strong-convexity constant m, its smoothness L (the step size must satisfy
η ≤ 1/L), and the sensitivity Δ = sup_x ‖∇F_D(x) − ∇F_D′(x)‖ over adjacent datasets D, D′.

References: Chien, Wang, Chen & Li, "Langevin Unlearning" (NeurIPS 2024, arXiv 2401.10371),
strongly convex corollary of Sec. 3, whose ε0 = 4αS²M²/(mσ²n²) is α·Δ²/(mσ²) with Δ = 2SM/n
(official code Graph-COM/Langevin_unlearning, ``calculate_epsilon0``, ``get_metadata``); for
public data, Inane, Quirion, Dziugaite & Mitliagkas, "Unlearning with Asymmetric Sources" (ALU,
ICML 2026, arXiv 2605.11170), whose O(1/n_pub²) factor is Δ² with Δ ∝ 1/(n_priv + n_pub).
"""

from __future__ import annotations

from jaxunlearn.certify._validation import check_int, check_real

__all__ = ["gradient_sensitivity", "logistic_constants"]


def gradient_sensitivity(num_deleted: int, clip_norm: float, n_private: int, n_public: int = 0,
                         public_weight: float | None = None,
                         adjacency: str = "replace") -> float:
    """Gradient sensitivity Δ = sup_x ‖∇F_D(x) − ∇F_D′(x)‖ of a private/public objective.

    The objective is the mean of per-sample terms whose gradients are clipped to norm ≤ M
    (``clip_norm``); only private points are ever deleted, public points never change (ALU).

    * uniform weights (``public_weight=None``): F = (1/n) Σ_{private ∪ public} f_i with
      n = n_private + n_public, and Δ = 2SM/n. With n_public = 0 this is the symmetric Langevin
      unlearning sensitivity 2SM/n (Chien et al. 2024, ε0 of the strongly convex corollary).
    * weighted (``public_weight=w``): F = (1 − w)·F_private + w·F_public, each a mean over its own
      source, and Δ = 2SM(1 − w)/n_private: the public term cancels.

    ``adjacency="replace"`` (the official code's ``get_removed_data``: S private points are
    replaced, n fixed): the two sums differ in S terms of norm ≤ M each, so
    ‖∇F_D − ∇F_D′‖ ≤ (1/n)·2SM.

    ``adjacency="remove"`` (D′ = D minus S private points): with G the sum over the n − S kept
    points and R the sum over the S removed ones,

        ∇F_D − ∇F_D′ = (G + R)/n − G/(n − S) = R/n − S·G/(n(n − S)),

    and ‖R‖ ≤ SM, ‖G‖ ≤ (n − S)M, so Δ ≤ SM/n + SM/n = 2SM/n with n the size of the *larger*
    dataset D (before deletion): the same bound as replacement. In the weighted form the same
    argument applies to F_private alone, giving 2SM(1 − w)/n_private.

    A regulariser shared by D and D′ (inside or outside the clip, as long as it is identical for
    the two datasets outside it) cancels in the difference and does not change Δ.

    Args:
      num_deleted: S ≥ 1, private points deleted per request (≤ n_private).
      clip_norm: M > 0, the per-sample gradient norm bound.
      n_private: number of private points ≥ 1 (before deletion).
      n_public: number of public points ≥ 0.
      public_weight: w ∈ [0, 1) for the weighted objective, or None for uniform weights.
      adjacency: ``"replace"`` or ``"remove"``.

    Returns:
      Δ as a float.

    Example:
      >>> gradient_sensitivity(1, 1.0, 10_000)
      0.0002
      >>> gradient_sensitivity(100, 1.0, 10_000, n_public=90_000)
      0.002
      >>> round(gradient_sensitivity(100, 1.0, 10_000, n_public=90_000, public_weight=0.9), 12)
      0.002
    """
    n_private = check_int(n_private, "n_private", minimum=1)
    n_public = check_int(n_public, "n_public", minimum=0)
    num_deleted = check_int(num_deleted, "num_deleted", minimum=1, maximum=n_private)
    clip_norm = check_real(clip_norm, "clip_norm", minimum=0.0, strict=True)
    if adjacency not in ("replace", "remove"):
        raise ValueError(f"adjacency must be 'replace' or 'remove', got {adjacency!r}")
    if public_weight is None:
        n_total = n_private + n_public
        if adjacency == "remove" and num_deleted >= n_total:
            raise ValueError(
                f"num_deleted must leave at least one point after removal, got {num_deleted} "
                f"of {n_total}")
        return 2.0 * num_deleted * clip_norm / n_total
    weight = check_real(public_weight, "public_weight", minimum=0.0, maximum=1.0,
                        maximum_strict=True)
    if weight > 0.0 and n_public == 0:
        raise ValueError("public_weight > 0 needs n_public >= 1 (an empty public source)")
    if adjacency == "remove" and num_deleted >= n_private:
        raise ValueError(
            f"num_deleted must leave at least one private point when removing with a weighted "
            f"objective, got {num_deleted} of {n_private}")
    return 2.0 * num_deleted * clip_norm * (1.0 - weight) / n_private


def logistic_constants(regularization: float, n_total: int,
                       feature_norm: float = 1.0) -> tuple[float, float]:
    """(m, L) of ℓ2-regularised logistic regression in the official code's convention.

    Graph-COM/Langevin_unlearning (``get_metadata``, and ``langevin.py``'s per-sample gradient
    ``x(σ(y xᵀw) − 1)y + (λn)w``) scales the regulariser by the dataset size: the objective is
    (1/n) Σ ℓ(y_i x_iᵀw) + (λn/2)‖w‖², so

        m = λ · n_total,      L = feature_norm² / 4 + m,

    since the logistic Hessian σ′(·)·x xᵀ has norm ≤ ‖x‖²/4 (features are L2-normalised to 1 in
    the code). For ALU, n_total = n_private + n_public: m then grows with public data (faster
    contraction and a smaller ε0 ∝ 1/m); pass a fixed m to the certificates instead to isolate
    the Δ ∝ 1/n effect. The official step size is η = 1/L.

    Args:
      regularization: λ > 0 (``--lam``, 1e-6 in the paper's experiments).
      n_total: the number of points the objective averages over, ≥ 1.
      feature_norm: bound on ‖x_i‖, > 0.

    Returns:
      ``(strong_convexity, smoothness)`` = (m, L).

    Example:
      >>> m, L = logistic_constants(1e-6, 10_000)
      >>> round(m, 6), round(L, 6), round(1 / L, 4)
      (0.01, 0.26, 3.8462)
    """
    regularization = check_real(regularization, "regularization", minimum=0.0, strict=True)
    n_total = check_int(n_total, "n_total", minimum=1)
    feature_norm = check_real(feature_norm, "feature_norm", minimum=0.0, strict=True)
    strong_convexity = regularization * n_total
    return strong_convexity, feature_norm**2 / 4.0 + strong_convexity
