"""Per-example signals computed from a model's logits, the inputs of every membership attack.

All functions take ``logits[..., C]`` and integer ``labels[...]`` (any leading shape, e.g.
``[N]``, ``[M, N]`` or ``[M, N, A]``), accept NumPy or JAX arrays and return NumPy arrays of shape
``labels.shape``. They are evaluated in float64 when the logits are float64 and in float32
otherwise (bfloat16/float16 logits are promoted first), with the log-sum-exp shift so that
logits of magnitude 100 or more give finite values.

* :func:`logit_confidence` — LiRA's statistic φ = log(p_y / (1 − p_y)) (Carlini et al., S&P 2022,
  "Membership Inference Attacks From First Principles", §IV-B), written as
  φ = z_y − logsumexp_{j≠y} z_j, which never forms p_y or 1 − p_y.
* :func:`true_label_prob` — p_y, the confidence feature of Song & Mittal (USENIX Security 2021)
  and SalUn's MIA-efficacy, and the RMIA signal p(x|θ) (Zarifzadeh et al., ICML 2024).
* :func:`cross_entropy_loss` — −log p_y.
* :func:`entropy` — H(p) = −Σ_i p_i log p_i.
* :func:`modified_entropy` — Song & Mittal's Mentr (eq. 5 of "Systematic Evaluation of Privacy
  Risks of Machine Learning Models"): −(1 − p_y) log p_y − Σ_{i≠y} p_i log(1 − p_i), row-wise.
* :func:`margin` — z_y − max_{j≠y} z_j.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "logit_confidence",
    "true_label_prob",
    "cross_entropy_loss",
    "entropy",
    "modified_entropy",
    "margin",
    "softmax",
]


def _prepare(logits: Any, labels: Any, *, min_classes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Checks shapes and returns (logits as float32/float64, one-hot boolean mask of the label)."""
    logits = np.asarray(logits)
    if logits.ndim < 1:
        raise ValueError("logits: expected shape [..., C], got a scalar")
    if not (np.issubdtype(logits.dtype, np.floating) or np.issubdtype(logits.dtype, np.integer)):
        # bfloat16 from JAX arrives as an ml_dtypes type that NumPy does not call floating.
        try:
            logits = logits.astype(np.float32)
        except (TypeError, ValueError) as error:
            raise ValueError(f"logits: expected a real array, got dtype {logits.dtype}") from error
    dtype = np.float64 if logits.dtype == np.float64 else np.float32
    logits = logits.astype(dtype)
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels: expected integer class indices, got dtype {labels.dtype}")
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels: shape {labels.shape} does not match logits {logits.shape} without the "
            "class axis"
        )
    num_classes = logits.shape[-1]
    if num_classes < min_classes:
        raise ValueError(f"logits: need at least {min_classes} classes, got {num_classes}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels: values must lie in [0, {num_classes}), got "
                         f"[{labels.min()}, {labels.max()}]")
    if not np.all(np.isfinite(logits)):
        raise ValueError("logits: contain NaN or infinite values")
    one_hot = np.arange(num_classes) == labels[..., None]
    return logits, one_hot


def _logsumexp(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """log Σ exp along ``axis``; entries equal to −inf are ignored (at least one is finite)."""
    shift = np.max(values, axis=axis, keepdims=True)
    summed = np.sum(np.exp(values - shift), axis=axis)
    return np.log(summed) + np.squeeze(shift, axis=axis)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    return logits - _logsumexp(logits)[..., None]


def softmax(logits: Any) -> np.ndarray:
    """Class probabilities along the last axis, computed stably in float64.

    >>> softmax([[0.0, 0.0]]).tolist()
    [[0.5, 0.5]]
    """
    return np.exp(_log_softmax(np.asarray(logits, np.float64)))


def _true_logit(logits: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    return np.sum(np.where(one_hot, logits, 0), axis=-1)


def _logsumexp_others(logits: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    return _logsumexp(np.where(one_hot, -np.inf, logits))


def logit_confidence(logits: Any, labels: Any) -> np.ndarray:
    """LiRA's logit-scaled confidence φ = log(p_y / (1 − p_y)) = z_y − logsumexp_{j≠y} z_j.

    Carlini et al., S&P 2022, §IV-B ("logit scaling"). The right-hand form is exact and does not
    saturate when p_y → 1 (a float64 probability rounds to 1 once z_y exceeds the others by ~37).

    Args:
      logits: ``[..., C]`` with ``C >= 2``.
      labels: integer ``[...]``.

    Returns:
      φ of shape ``labels.shape``.

    >>> import numpy as np
    >>> phi = logit_confidence(np.array([[2.0, 0.0, 0.0], [200.0, 0.0, 0.0]]), np.array([0, 0]))
    >>> np.round(phi, 4)  # log(e^2 / 2) and 200 - log 2
    array([  1.3069, 199.3069])
    """
    logits, one_hot = _prepare(logits, labels, min_classes=2)
    return _true_logit(logits, one_hot) - _logsumexp_others(logits, one_hot)


def true_label_prob(logits: Any, labels: Any) -> np.ndarray:
    """Softmax probability of the true label, p_y = exp(z_y − logsumexp_j z_j).

    The "confidence" feature of Song & Mittal (USENIX Security 2021) and of SalUn's MIA-efficacy,
    and the signal p(x|θ) of RMIA (Zarifzadeh et al., ICML 2024, eq. 3).

    >>> import numpy as np
    >>> true_label_prob(np.array([[0.0, 0.0]]), np.array([1]))
    array([0.5])
    """
    logits, one_hot = _prepare(logits, labels)
    return np.exp(_true_logit(logits, one_hot) - _logsumexp(logits))


def cross_entropy_loss(logits: Any, labels: Any) -> np.ndarray:
    """Per-example cross-entropy −log p_y = logsumexp_j z_j − z_y (the loss attack's statistic).

    >>> import numpy as np
    >>> np.round(cross_entropy_loss(np.array([[0.0, 0.0]]), np.array([0])), 4)
    array([0.6931])
    """
    logits, one_hot = _prepare(logits, labels)
    return _logsumexp(logits) - _true_logit(logits, one_hot)


def entropy(logits: Any, labels: Any = None) -> np.ndarray:
    """Prediction entropy H(p) = −Σ_i p_i log p_i (Song & Mittal 2021, eq. 4; SalUn's feature).

    ``labels`` is accepted for a uniform signature and only checked when given.

    >>> import numpy as np
    >>> np.round(entropy(np.zeros((1, 4))), 4)  # log 4
    array([1.3863])
    """
    if labels is None:
        labels = np.zeros(np.shape(logits)[:-1], dtype=np.int32)
    logits, _ = _prepare(logits, labels)
    log_probs = _log_softmax(logits)
    return -np.sum(np.exp(log_probs) * log_probs, axis=-1)


def modified_entropy(logits: Any, labels: Any) -> np.ndarray:
    """Song & Mittal's modified entropy, row-wise (USENIX Security 2021, eq. 5).

    Mentr(p, y) = −(1 − p_y) log p_y − Σ_{i≠y} p_i log(1 − p_i).

    It is monotonically decreasing in p_y for a correct prediction and increasing for a wrong one.
    (SalUn's ``m_entropy`` indexes whole columns and takes log p for log(1 − p); this is the
    formula of the paper and of ``inspire-group/membership-inference-evaluation``.) log(1 − p_i)
    is evaluated as log1p(−p_i), except for the largest class, where it is
    logsumexp_{j≠i} z_j − logsumexp_j z_j, so the result stays accurate when p_i → 1.

    Args:
      logits: ``[..., C]`` with ``C >= 2``.
      labels: integer ``[...]``.

    >>> import numpy as np
    >>> np.round(modified_entropy(np.array([[0.0, 0.0]]), np.array([0])), 4)  # 2 * 0.5 log 2
    array([0.6931])
    """
    logits, one_hot = _prepare(logits, labels, min_classes=2)
    total = _logsumexp(logits)
    log_probs = logits - total[..., None]
    probs = np.exp(log_probs)
    # log(1 - p_i): log1p is accurate for p_i <= 1/2, which holds for every class but the argmax.
    log_complement = np.log1p(-np.minimum(probs, 0.5))
    top = np.argmax(logits, axis=-1)
    top_hot = np.arange(logits.shape[-1]) == top[..., None]
    log_complement_top = _logsumexp(np.where(top_hot, -np.inf, logits)) - total
    log_complement = np.where(top_hot, log_complement_top[..., None], log_complement)
    log_true = np.sum(np.where(one_hot, log_probs, 0), axis=-1)
    log_complement_true = np.sum(np.where(one_hot, log_complement, 0), axis=-1)
    wrong_terms = np.sum(np.where(one_hot, 0, probs * log_complement), axis=-1)
    return -np.exp(log_complement_true) * log_true - wrong_terms


def margin(logits: Any, labels: Any) -> np.ndarray:
    """Logit margin z_y − max_{j≠y} z_j (positive iff the prediction is correct and unique).

    >>> import numpy as np
    >>> margin(np.array([[3.0, 1.0, 2.0]]), np.array([0]))
    array([1.])
    """
    logits, one_hot = _prepare(logits, labels, min_classes=2)
    return _true_logit(logits, one_hot) - np.max(np.where(one_hot, -np.inf, logits), axis=-1)
