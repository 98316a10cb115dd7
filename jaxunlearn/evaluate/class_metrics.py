"""Class-unlearning metrics: output total variation, prediction agreement and MIA-NN.

Ebrahimpour-Boroojeny, Wang & Sundaram, "On the Necessity of Output Distribution Reweighting for
Effective Class Unlearning" (TRW; arXiv 2506.20893, 2025) observe that a model retrained without
class c maps class-c inputs to the classes most similar to c (automobile → truck). They measure
how far an unlearned model is from that behaviour with

* the total-variation distance TV(p_u(·|x), p_r(·|x)) = ½ Σ_k |p_u(k|x) − p_r(k|x)| between the
  unlearned and retrained models' predictive distributions on forget-class inputs, and
* MIA-NN, a membership attack that reads the probabilities the model assigns to the classes
  nearest to c.

The exact MIA-NN protocol of the paper was not available when this module was written; the
version here is stated in full in :func:`mia_nn` and scored, as the paper does, by its gap to the
retrained model's value. Everything is NumPy/SciPy.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["tv_distance", "prediction_agreement", "nearest_classes", "mia_nn", "mia_nn_gap"]


def _as_probs(probs, name: str) -> np.ndarray:
    probs = np.asarray(probs, np.float64)
    if probs.ndim < 2:
        raise ValueError(f"{name} must have shape [..., N, C], got {probs.shape}")
    if probs.shape[-2] == 0 or probs.shape[-1] < 2:
        raise ValueError(f"{name} needs at least one example and two classes, got {probs.shape}")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    if not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-4):
        raise ValueError(f"{name} rows must sum to 1 (pass probabilities, not logits)")
    return probs


def tv_distance(p_u, p_r, reduction: str = "none"):
    """Total-variation distance ½‖p_u(·|x) − p_r(·|x)‖₁ per example (TRW, arXiv 2506.20893).

    Args:
      p_u: [..., N, C] class probabilities of the unlearned model(s) on N inputs.
      p_r: [..., N, C] the same for the retrained model(s) (same shape).
      reduction: ``"none"`` → [..., N] per-example distances, ``"mean"`` → mean over N ([...]).

    Returns:
      Distances in [0, 1].

    Example:
      >>> tv_distance([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], [[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
      array([0.5, 0. ])
    """
    p_u = _as_probs(p_u, "p_u")
    p_r = _as_probs(p_r, "p_r")
    if p_u.shape != p_r.shape:
        raise ValueError(f"p_u and p_r must have the same shape, got {p_u.shape} and {p_r.shape}")
    distances = 0.5 * np.abs(p_u - p_r).sum(axis=-1)
    if reduction == "none":
        return distances
    if reduction == "mean":
        return distances.mean(axis=-1)
    raise ValueError(f"reduction must be 'none' or 'mean', got {reduction!r}")


def prediction_agreement(logits_a, logits_b):
    """Fraction of inputs on which two models predict the same class (argmax of logits or probs).

    Args:
      logits_a, logits_b: [..., N, C] of the same shape.

    Returns:
      Agreement in [0, 1], shape [...] (a float for [N, C] inputs).

    Example:
      >>> prediction_agreement([[2.0, 1.0], [0.0, 3.0]], [[5.0, 0.0], [4.0, 1.0]])
      0.5
    """
    logits_a = np.asarray(logits_a)
    logits_b = np.asarray(logits_b)
    if logits_a.ndim < 2 or logits_a.shape[-2] == 0:
        raise ValueError(f"logits_a must have shape [..., N, C] with N >= 1, got {logits_a.shape}")
    if logits_a.shape != logits_b.shape:
        raise ValueError(
            f"logits_a and logits_b must have the same shape, got {logits_a.shape} and "
            f"{logits_b.shape}")
    agreement = (logits_a.argmax(axis=-1) == logits_b.argmax(axis=-1)).mean(axis=-1)
    return float(agreement) if np.ndim(agreement) == 0 else agreement


def nearest_classes(retrained_probs_forget, forget_class: int, k: int = 1) -> np.ndarray:
    """The k remaining classes a retrained model sends the forgotten class to (TRW, §3).

    Ranks classes c' ≠ forget_class by the mean probability that the retrained model(s) assign
    to c' on forget-class inputs (averaged over models and inputs).

    Args:
      retrained_probs_forget: [..., N, C] retrained probabilities on forget-class inputs
        (e.g. [R, N, C] for R retrained models).
      forget_class: the forgotten class index.
      k: how many neighbours.

    Returns:
      int array [k], most similar first.

    Example:
      >>> nearest_classes([[0.0, 0.2, 0.7, 0.1], [0.0, 0.3, 0.6, 0.1]], forget_class=0, k=2)
      array([2, 1])
    """
    probs = _as_probs(retrained_probs_forget, "retrained_probs_forget")
    num_classes = probs.shape[-1]
    if not 0 <= int(forget_class) < num_classes:
        raise ValueError(f"forget_class must be in [0, {num_classes}), got {forget_class}")
    if not 1 <= int(k) < num_classes:
        raise ValueError(f"k must be in [1, {num_classes - 1}], got {k}")
    mean = probs.reshape(-1, num_classes).mean(axis=0)
    mean[int(forget_class)] = -np.inf
    order = np.argsort(-mean, kind="stable")
    return order[: int(k)]


def _features(probs: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    # Log-probabilities of the neighbour classes: the attacker sees how much mass the model puts
    # on the classes a retrained model would use; the log spreads out near-zero values.
    return np.log(np.clip(probs[:, neighbours], 1e-12, 1.0))


def mia_nn(probs_forget, probs_neighbours, neighbours, *, train_fraction: float = 0.5,
           l2: float = 1e-3, seed: int = 0) -> float:
    """MIA-NN for class unlearning: can the model's neighbour-class outputs reveal class c?

    After class c is forgotten, a retrained model answers class-c inputs with the classes most
    similar to c (:func:`nearest_classes`), and does so much like it answers those classes' own
    inputs. An unlearned model that instead spreads mass arbitrarily, or keeps it on c, leaves a
    signature there. The attack (assumptions stated, following TRW's description; arXiv
    2506.20893):

    1. Features: log-probabilities the evaluated model assigns to the ``k`` neighbour classes.
    2. Positives: forget-class inputs (``probs_forget``); negatives: inputs of the neighbour
       classes (``probs_neighbours``), both from held-out (test) data of the same model.
    3. Each set is split ``train_fraction`` / rest; a logistic-regression attacker (L2 ``l2``,
       standardised features) is fitted on the training halves with balanced class weights.
    4. The score is the attacker's balanced accuracy on the held-out halves.

    A perfectly unlearned model scores what the retrained model scores (not 0.5: the retrained
    model still treats class-c inputs somewhat differently); report :func:`mia_nn_gap`.

    Args:
      probs_forget: [N_f, C] the evaluated model's probabilities on forget-class inputs.
      probs_neighbours: [N_n, C] its probabilities on inputs of the neighbour classes.
      neighbours: [k] neighbour class indices (from the retrained models).
      train_fraction: fraction of each set used to fit the attacker.
      l2: ridge penalty of the attacker.
      seed: seed of the split.

    Returns:
      Balanced held-out accuracy of the attacker, in [0, 1].

    Example:
      >>> rng = np.random.default_rng(0)
      >>> def probs(neighbour_mass, n):  # 3 classes: 0 forgotten, 1 its neighbour, 2 other
      ...     m = np.clip(rng.normal(neighbour_mass, 0.05, n), 0.01, 0.98)
      ...     return np.stack([np.full(n, 0.01), m, 0.99 - m], axis=1)
      >>> retrained = mia_nn(probs(0.6, 400), probs(0.6, 400), neighbours=[1])
      >>> unlearned = mia_nn(probs(0.1, 400), probs(0.6, 400), neighbours=[1])
      >>> bool(retrained < 0.6 < 0.95 < unlearned)
      True
    """
    probs_forget = _as_probs(probs_forget, "probs_forget")
    probs_neighbours = _as_probs(probs_neighbours, "probs_neighbours")
    if probs_forget.ndim != 2 or probs_neighbours.ndim != 2:
        raise ValueError("probs_forget and probs_neighbours must have shape [N, C]")
    if probs_forget.shape[1] != probs_neighbours.shape[1]:
        raise ValueError("probs_forget and probs_neighbours must have the same number of classes")
    neighbours = np.atleast_1d(np.asarray(neighbours))
    num_classes = probs_forget.shape[1]
    if (neighbours.ndim != 1 or neighbours.size == 0 or not np.issubdtype(neighbours.dtype,
                                                                          np.integer)
            or np.any(neighbours < 0) or np.any(neighbours >= num_classes)):
        raise ValueError(f"neighbours must be a non-empty list of class indices in [0, "
                         f"{num_classes}), got {neighbours}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    rng = np.random.default_rng(seed)
    splits = []
    for name, probs in (("probs_forget", probs_forget), ("probs_neighbours", probs_neighbours)):
        n_train = int(round(train_fraction * probs.shape[0]))
        if n_train < 1 or probs.shape[0] - n_train < 1:
            raise ValueError(f"{name} has too few examples ({probs.shape[0]}) to split")
        order = rng.permutation(probs.shape[0])
        splits.append((_features(probs[order[:n_train]], neighbours),
                       _features(probs[order[n_train:]], neighbours)))
    (train_pos, test_pos), (train_neg, test_neg) = splits
    train_x = np.concatenate([train_pos, train_neg])
    center, scale = train_x.mean(axis=0), train_x.std(axis=0) + 1e-8
    # Balanced class weights: both classes carry the same total weight whatever their sizes.
    weight_pos = 0.5 / train_pos.shape[0]
    weight_neg = 0.5 / train_neg.shape[0]
    weights = np.concatenate([np.full(train_pos.shape[0], weight_pos),
                              np.full(train_neg.shape[0], weight_neg)]) * train_x.shape[0]
    labels = np.concatenate([np.ones(train_pos.shape[0]), np.zeros(train_neg.shape[0])])
    w = _fit_weighted_logistic((train_x - center) / scale, labels, weights, l2)
    dim = train_x.shape[1]

    def predict(x):
        return ((x - center) / scale) @ w[:dim] + w[dim] > 0.0

    true_positive_rate = predict(test_pos).mean()
    true_negative_rate = 1.0 - predict(test_neg).mean()
    return float(0.5 * (true_positive_rate + true_negative_rate))


def _fit_weighted_logistic(features, labels, weights, l2):
    dim = features.shape[1]
    total = weights.sum()

    def loss_and_grad(w):
        logits = features @ w[:dim] + w[dim]
        loss = (weights @ (np.logaddexp(0.0, logits) - labels * logits)) / total
        loss += 0.5 * l2 * w[:dim] @ w[:dim]
        residual = weights * (1.0 / (1.0 + np.exp(-logits)) - labels) / total
        grad = np.concatenate([features.T @ residual + l2 * w[:dim], [residual.sum()]])
        return loss, grad

    return optimize.minimize(loss_and_grad, np.zeros(dim + 1), jac=True, method="L-BFGS-B").x


def mia_nn_gap(unlearned: tuple, retrained: tuple, neighbours, **kwargs) -> dict:
    """MIA-NN of an unlearned model next to the retrained model's, and their absolute gap.

    Args:
      unlearned: ``(probs_forget, probs_neighbours)`` of the unlearned model.
      retrained: the same for the retrained model (same inputs).
      neighbours: neighbour classes, e.g. :func:`nearest_classes` of the retrained outputs.
      **kwargs: passed to :func:`mia_nn`.

    Returns:
      ``{"unlearned": acc_u, "retrained": acc_r, "gap": |acc_u − acc_r|}``.

    Example:
      >>> p = np.tile([[0.05, 0.6, 0.35]], (10, 1))
      >>> mia_nn_gap((p, p), (p, p), neighbours=[1])["gap"]
      0.0
    """
    acc_u = mia_nn(*unlearned, neighbours, **kwargs)
    acc_r = mia_nn(*retrained, neighbours, **kwargs)
    return {"unlearned": acc_u, "retrained": acc_r, "gap": abs(acc_u - acc_r)}
