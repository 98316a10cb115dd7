"""Class-unlearning metrics: output total variation, prediction agreement and MIA-NN.

Wang, Ebrahimpour-Boroojeny & Sundaram, Tilted ReWeighting (TRW; arXiv 2506.20893; ICML 2026 as
TREW) observe that a model retrained without class c maps class-c inputs to the classes most
similar to c (automobile → truck). They measure how far an unlearned model is from that
behaviour with

* the total-variation distance TV(p_u(·|x), p_r(·|x)) = ½ Σ_k |p_u(k|x) − p_r(k|x)| between the
  unlearned and retrained models' predictive distributions on forget-class inputs
  (:func:`tv_distance`; introduced in the paper's first version), and
* MIA-NN (renamed CMIA in later versions): the forgotten class's nearest-neighbour class is
  identified from several retrained models (:func:`nearest_classes`), an SVM on the logits
  separates forget-class from neighbour-class inputs (:func:`mia_nn`), and the score is the gap
  to the retrained model's (:func:`mia_nn_gap`).

The paper's code and full text were not reachable; the protocol follows public reviews of it, and
what they leave open (the SVM's kernel and regularisation, standardised features, which inputs
and how they are split) is our choice, stated in :func:`mia_nn`. :func:`mia_nn_logistic` is a
different attack kept under its own name: a logistic regression on the log-probabilities of the
neighbour classes, which this library reported as MIA-NN before the paper's protocol was known.
Everything is NumPy/SciPy/scikit-learn.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["tv_distance", "prediction_agreement", "nearest_classes", "mia_nn", "mia_nn_logistic",
           "mia_nn_gap", "MIA_NN_ATTACKERS"]

MIA_NN_ATTACKERS = ("svm_logits", "logistic")
"""The attackers :func:`mia_nn_gap` can run: the paper's SVM on logits (:func:`mia_nn`) and the
logistic regression on neighbour log-probabilities (:func:`mia_nn_logistic`)."""


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


def nearest_classes(retrained_probs_forget, forget_class: int, k: int = 1,
                    rule: str = "vote") -> np.ndarray:
    """The k remaining classes retrained models send the forgotten class to (TRW's MIA-NN).

    The paper identifies the forgotten class's nearest-neighbour class from several retrained
    models (as its reviews report; how they are combined is not given). Here each model's
    preference is the mean probability it assigns to each class c' ≠ forget_class over the
    forget-class inputs, and

    * ``rule="vote"`` (default): each model votes for its most probable remaining class; classes
      are ranked by votes, ties (and the classes no model voted for) by the mean probability over
      all models and inputs;
    * ``rule="mean"``: classes are ranked by that mean probability alone.

    With one model the two rules agree.

    Args:
      retrained_probs_forget: [R, N, C] probabilities of R retrained models on N forget-class
        inputs ([N, C] for one model; more leading axes are flattened into models).
      forget_class: the forgotten class index.
      k: how many neighbours.
      rule: ``"vote"`` or ``"mean"``.

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
    if rule not in ("vote", "mean"):
        raise ValueError(f"rule must be 'vote' or 'mean', got {rule!r}")
    per_model = probs.reshape(-1, probs.shape[-2], num_classes).mean(axis=1)  # [R, C]
    per_model[:, int(forget_class)] = -np.inf
    mean = per_model.mean(axis=0)
    votes = np.zeros(num_classes)
    if rule == "vote":
        np.add.at(votes, per_model.argmax(axis=1), 1.0)
    order = np.lexsort((-mean, -votes))  # the last key is the primary one
    return order[: int(k)]


def _features(probs: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    # Log-probabilities of the neighbour classes: the attacker sees how much mass the model puts
    # on the classes a retrained model would use; the log spreads out near-zero values.
    return np.log(np.clip(probs[:, neighbours], 1e-12, 1.0))


def mia_nn_logistic(probs_forget, probs_neighbours, neighbours, *, train_fraction: float = 0.5,
                    l2: float = 1e-3, seed: int = 0) -> float:
    """A logistic attack on neighbour-class log-probabilities (not the paper's MIA-NN).

    Kept under its own name: this library reported it as MIA-NN before the paper's protocol
    (:func:`mia_nn`, an SVM on logits) was known; comparisons report it as "MIA-NN-logistic".

    After class c is forgotten, a retrained model answers class-c inputs with the classes most
    similar to c (:func:`nearest_classes`), and does so much like it answers those classes' own
    inputs. An unlearned model that instead spreads mass arbitrarily, or keeps it on c, leaves a
    signature there. The attack (all choices ours):

    1. Features: log-probabilities the evaluated model assigns to the ``k`` neighbour classes.
    2. Positives: forget-class inputs (``probs_forget``); negatives: inputs of the neighbour
       classes (``probs_neighbours``), both from held-out (test) data of the same model.
    3. Each set is split ``train_fraction`` / rest; a logistic-regression attacker (L2 ``l2``,
       standardised features) is fitted on the training halves with balanced class weights.
    4. The score is the attacker's balanced accuracy on the held-out halves.

    A perfectly unlearned model scores what the retrained model scores (not 0.5: the retrained
    model still treats class-c inputs somewhat differently); report
    :func:`mia_nn_gap` with ``attacker="logistic"``.

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
      >>> retrained = mia_nn_logistic(probs(0.6, 400), probs(0.6, 400), neighbours=[1])
      >>> unlearned = mia_nn_logistic(probs(0.1, 400), probs(0.6, 400), neighbours=[1])
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
    (train_pos, test_pos), (train_neg, test_neg) = [
        (_features(train, neighbours), _features(held_out, neighbours))
        for train, held_out in (_split(rng, name, probs, train_fraction) for name, probs in
                                (("probs_forget", probs_forget),
                                 ("probs_neighbours", probs_neighbours)))]
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


def _as_logits(logits, name: str) -> np.ndarray:
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"{name} must have shape [N, C] with C >= 2, got {logits.shape}")
    if not np.all(np.isfinite(logits)):
        raise ValueError(f"{name} must be finite")
    return logits


def mia_nn(logits_forget, logits_neighbours, *, train_fraction: float = 0.5,
           kernel: str = "rbf", svm_c: float = 1.0, seed: int = 0) -> float:
    """MIA-NN (TRW's; CMIA in later versions): can an SVM on the model's logits tell
    forget-class inputs from inputs of the forgotten class's nearest-neighbour class?

    A model retrained without class c answers class-c inputs much like the inputs of the class
    nearest to c (:func:`nearest_classes`), so an attacker separates them only as well as it does
    on the retrained model; an unlearned model that still knows c, or spreads c's mass
    elsewhere, is easier to attack. Protocol (the reviews of the paper give the first two points;
    the rest are our choices):

    1. Features: the evaluated model's full logit vector.
    2. Positives: forget-class inputs (``logits_forget``); negatives: inputs of the neighbour
       class(es) (``logits_neighbours``); held-out (test) inputs in our experiments.
    3. Each set is split ``train_fraction`` / rest at random (``seed``); features are
       standardised with the attacker's training split's mean and standard deviation.
    4. The attacker is scikit-learn's ``SVC`` (``kernel``, ``C=svm_c``, ``gamma="scale"``,
       balanced class weights), fitted on the training splits.
    5. The score is its balanced accuracy on the held-out splits.

    A perfectly unlearned model scores what the retrained model scores, not 0.5: report
    :func:`mia_nn_gap`.

    Args:
      logits_forget: [N_f, C] the evaluated model's logits on forget-class inputs.
      logits_neighbours: [N_n, C] its logits on inputs of the neighbour class(es).
      train_fraction: fraction of each set used to fit the attacker.
      kernel: the SVM's kernel (``"rbf"``, ``"linear"``, ...).
      svm_c: the SVM's regularisation constant C (> 0).
      seed: seed of the split.

    Returns:
      Balanced held-out accuracy of the attacker, in [0, 1].

    Example:
      >>> rng = np.random.default_rng(0)
      >>> neighbour = rng.normal([0.0, 4.0, 0.0], 1.0, (200, 3))
      >>> same = mia_nn(rng.normal([0.0, 4.0, 0.0], 1.0, (200, 3)), neighbour)
      >>> apart = mia_nn(rng.normal([4.0, 0.0, 0.0], 1.0, (200, 3)), neighbour)
      >>> bool(abs(same - 0.5) < 0.1 and apart > 0.97)
      True
    """
    from sklearn.svm import SVC

    logits_forget = _as_logits(logits_forget, "logits_forget")
    logits_neighbours = _as_logits(logits_neighbours, "logits_neighbours")
    if logits_forget.shape[1] != logits_neighbours.shape[1]:
        raise ValueError("logits_forget and logits_neighbours must have the same number of "
                         f"classes, got {logits_forget.shape[1]} and {logits_neighbours.shape[1]}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    if not (isinstance(svm_c, (int, float, np.floating, np.integer)) and np.isfinite(svm_c)
            and svm_c > 0):
        raise ValueError(f"svm_c must be a finite number > 0, got {svm_c!r}")
    if kernel not in ("linear", "poly", "rbf", "sigmoid"):
        raise ValueError(f"kernel must be 'linear', 'poly', 'rbf' or 'sigmoid', got {kernel!r}")
    rng = np.random.default_rng(seed)
    (train_pos, test_pos), (train_neg, test_neg) = [
        _split(rng, name, logits, train_fraction)
        for name, logits in (("logits_forget", logits_forget),
                             ("logits_neighbours", logits_neighbours))]
    train_x = np.concatenate([train_pos, train_neg])
    center, scale = train_x.mean(axis=0), train_x.std(axis=0) + 1e-8
    labels = np.concatenate([np.ones(len(train_pos)), np.zeros(len(train_neg))])
    attacker = SVC(kernel=kernel, C=float(svm_c), gamma="scale", class_weight="balanced")
    attacker.fit((train_x - center) / scale, labels)
    true_positive_rate = (attacker.predict((test_pos - center) / scale) == 1).mean()
    true_negative_rate = (attacker.predict((test_neg - center) / scale) == 0).mean()
    return float(0.5 * (true_positive_rate + true_negative_rate))


def _split(rng, name: str, rows: np.ndarray, train_fraction: float):
    n_train = int(round(train_fraction * rows.shape[0]))
    if n_train < 1 or rows.shape[0] - n_train < 1:
        raise ValueError(f"{name} has too few examples ({rows.shape[0]}) to split")
    order = rng.permutation(rows.shape[0])
    return rows[order[:n_train]], rows[order[n_train:]]


def mia_nn_gap(unlearned: tuple, retrained: tuple, neighbours=None, *,
               attacker: str = "svm_logits", **kwargs) -> dict:
    """MIA-NN of an unlearned model next to the retrained model's, and their absolute gap (the
    paper reports the gap to the retrained model).

    Args:
      unlearned: ``(forget_rows, neighbour_rows)`` of the unlearned model: logits for
        ``attacker="svm_logits"`` (:func:`mia_nn`, the paper's), probabilities for
        ``attacker="logistic"`` (:func:`mia_nn_logistic`).
      retrained: the same for the retrained model (same inputs).
      neighbours: the neighbour classes, needed by the logistic attacker only (its features);
        must be ``None`` for the SVM, which reads every logit.
      attacker: ``"svm_logits"`` or ``"logistic"``.
      **kwargs: passed to the attack.

    Returns:
      ``{"unlearned": acc_u, "retrained": acc_r, "gap": |acc_u − acc_r|}``.

    Example:
      >>> p = np.tile([[0.05, 0.6, 0.35]], (10, 1))
      >>> mia_nn_gap((p, p), (p, p), neighbours=[1], attacker="logistic")["gap"]
      0.0
    """
    if attacker == "svm_logits":
        if neighbours is not None:
            raise ValueError("neighbours: the SVM attacker reads every logit; pass neighbours "
                             "only with attacker='logistic'")
        acc_u, acc_r = mia_nn(*unlearned, **kwargs), mia_nn(*retrained, **kwargs)
    elif attacker == "logistic":
        if neighbours is None:
            raise ValueError("neighbours: attacker='logistic' needs the neighbour classes")
        acc_u = mia_nn_logistic(*unlearned, neighbours, **kwargs)
        acc_r = mia_nn_logistic(*retrained, neighbours, **kwargs)
    else:
        raise ValueError(f"attacker must be one of {list(MIA_NN_ATTACKERS)}, got {attacker!r}")
    return {"unlearned": acc_u, "retrained": acc_r, "gap": abs(acc_u - acc_r)}
