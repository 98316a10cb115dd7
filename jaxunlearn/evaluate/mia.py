"""Population membership attacks and the MIA-efficacy of an unlearned model.

MIA-efficacy (SalUn, Fan et al., ICLR 2024, §5 and ``Classification/evaluation/SVC_MIA.py``;
Unlearn-Sparse, Jia et al., NeurIPS 2023): an attacker is fitted on the evaluated model's own
outputs, with retain examples as members (label 1) and test examples as non-members (label 0), and
applied to the forget set; the efficacy is the fraction of forget examples predicted
*non-member*. Higher = the forget set looks less like training data. The number is only
meaningful next to the same number for the retrained model.

Attackers:

* ``"svc"`` — SalUn's ``sklearn.svm.SVC(C=3, gamma="auto", kernel="rbf")``, the larger of the two
  shadow sets truncated to the size of the smaller (SalUn keeps the first |D_t| retain examples).
* ``"threshold"`` — Song & Mittal's metric attack (USENIX Security 2021, §4.1;
  ``_thre_setting`` / ``_mem_inf_thre``): per class c, the threshold τ_c over the shadow values
  that maximises ½(TPR + TNR); an example is a member iff its feature is on the member side of
  τ_{y}.
* ``"logreg"`` — a logistic regression on standardised features (a smooth population attacker).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxunlearn.evaluate import signals

__all__ = ["MIA_FEATURES", "MIA_ATTACKERS", "mia_features", "mia_efficacy", "class_thresholds"]

MIA_FEATURES = ("confidence", "entropy", "modified_entropy", "loss", "logit_confidence",
                "correctness", "probabilities")
MIA_ATTACKERS = ("svc", "threshold", "logreg")

# Which side of the threshold a member lies on, per feature (members are fitted better).
_HIGHER_IS_MEMBER = {"confidence": True, "entropy": False, "modified_entropy": False,
                     "loss": False, "logit_confidence": True, "correctness": True}


def mia_features(logits: Any, labels: Any, feature: str = "confidence") -> np.ndarray:
    """Per-example attack features of SalUn's MIA-efficacy and Song & Mittal's metric attacks.

    Args:
      logits: ``[N, C]`` outputs of the evaluated model.
      labels: integer ``[N]``.
      feature: ``"confidence"`` (p_y), ``"entropy"`` (H(p)), ``"modified_entropy"`` (Song &
        Mittal's Mentr, eq. 5), ``"loss"`` (−log p_y), ``"logit_confidence"`` (LiRA's φ),
        ``"correctness"`` (1[argmax p = y]) or ``"probabilities"`` (the softmax vector).

    Returns:
      ``[N]`` float64 (``[N, C]`` for ``"probabilities"``).

    >>> import numpy as np
    >>> mia_features(np.array([[0.0, 0.0], [0.0, 2.0]]), np.array([0, 1]), "correctness")
    array([1., 1.])
    """
    if feature == "confidence":
        return signals.true_label_prob(logits, labels).astype(np.float64)
    if feature == "entropy":
        return signals.entropy(logits, labels).astype(np.float64)
    if feature == "modified_entropy":
        return signals.modified_entropy(logits, labels).astype(np.float64)
    if feature == "loss":
        return signals.cross_entropy_loss(logits, labels).astype(np.float64)
    if feature == "logit_confidence":
        return signals.logit_confidence(logits, labels).astype(np.float64)
    if feature == "correctness":
        # argmax ties are broken towards the lowest index, as torch/NumPy argmax do.
        signals._prepare(logits, labels)
        return (np.argmax(np.asarray(logits), axis=-1) == np.asarray(labels)).astype(np.float64)
    if feature == "probabilities":
        logits_array, _ = signals._prepare(logits, labels)
        return signals.softmax(logits_array)
    raise ValueError(f"feature: expected one of {MIA_FEATURES}, got {feature!r}")


def _as_features(name: str, values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(f"{name}: expected shape [N] or [N, D], got {values.shape}")
    if values.shape[0] == 0:
        raise ValueError(f"{name}: is empty")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return values


def _as_labels(name: str, labels: Any, num_examples: int) -> np.ndarray:
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name}: expected integer class labels, got dtype {labels.dtype}")
    if labels.shape != (num_examples,):
        raise ValueError(f"{name}: expected shape ({num_examples},), got {labels.shape}")
    return labels


def _best_threshold(member_values: np.ndarray, nonmember_values: np.ndarray) -> tuple[float, float]:
    """Song & Mittal's ``_thre_setting``: τ among the observed values maximising ½(TPR + TNR).

    Members are predicted by value ≥ τ. Among equally good τ the smallest is returned.
    Returns (τ, balanced accuracy on the shadow data).
    """
    candidates = np.unique(np.concatenate([member_values, nonmember_values]))
    members_sorted = np.sort(member_values)
    nonmembers_sorted = np.sort(nonmember_values)
    # TPR(τ) = #{members ≥ τ}/n₁; TNR(τ) = #{non-members < τ}/n₀.
    tpr = 1.0 - np.searchsorted(members_sorted, candidates, side="left") / members_sorted.size
    tnr = np.searchsorted(nonmembers_sorted, candidates, side="left") / nonmembers_sorted.size
    accuracy = 0.5 * (tpr + tnr)
    best = int(np.argmax(accuracy))
    return float(candidates[best]), float(accuracy[best])


def class_thresholds(
    feature_members: Any,
    feature_nonmembers: Any,
    labels_members: Any,
    labels_nonmembers: Any,
    *,
    higher_is_member: bool = True,
) -> tuple[dict[int, float], float]:
    """Song & Mittal's per-class thresholds (USENIX Security 2021, §4.1, ``_thre_setting``).

    For each class present in both shadow sets, τ_c maximises ½(TPR + TNR) over that class's
    shadow members and non-members; the rule is "member iff value ≥ τ_c" (on the negated feature
    when ``higher_is_member`` is False — the thresholds returned are then on the negated values).

    Returns:
      ``(thresholds, global_threshold)``: a dict class → τ_c and the class-agnostic τ used for
      classes missing from either shadow set.

    >>> thresholds, _ = class_thresholds([0.9, 0.8, 0.6, 0.7], [0.5, 0.7, 0.2, 0.3],
    ...                                  [0, 0, 1, 1], [0, 0, 1, 1])
    >>> thresholds
    {0: 0.8, 1: 0.6}
    """
    members = _as_features("feature_members", feature_members)
    nonmembers = _as_features("feature_nonmembers", feature_nonmembers)
    for name, values in (("feature_members", members), ("feature_nonmembers", nonmembers)):
        if values.ndim != 1:
            raise ValueError(f"{name}: the threshold attacker needs a scalar feature per example, "
                             f"got shape {values.shape}")
    labels_m = _as_labels("labels_members", labels_members, members.size)
    labels_n = _as_labels("labels_nonmembers", labels_nonmembers, nonmembers.size)
    sign = 1.0 if higher_is_member else -1.0
    members, nonmembers = sign * members, sign * nonmembers
    global_threshold, _ = _best_threshold(members, nonmembers)
    thresholds = {}
    for label in np.intersect1d(labels_m, labels_n):
        thresholds[int(label)], _ = _best_threshold(members[labels_m == label],
                                                    nonmembers[labels_n == label])
    return thresholds, global_threshold


def mia_efficacy(
    feature_members: Any,
    feature_nonmembers: Any,
    feature_forget: Any,
    attacker: str = "svc",
    *,
    labels_members: Any = None,
    labels_nonmembers: Any = None,
    labels_forget: Any = None,
    feature: str | None = None,
    higher_is_member: bool | None = None,
    balance: bool = True,
    seed: int = 0,
) -> float:
    """MIA-efficacy: fraction of the forget set that an attacker predicts to be non-members.

    SalUn (Fan et al., ICLR 2024, §5, "MIA-Efficacy" = 1 − mean(predict(D_f)), ``SVC_MIA.py``).
    The attacker is fitted on (``feature_members``, 1) and (``feature_nonmembers``, 0) — SalUn
    uses the evaluated model's retain and test outputs — and applied to ``feature_forget``.

    Args:
      feature_members: ``[N₁]`` or ``[N₁, D]`` features of shadow members.
      feature_nonmembers: ``[N₀]`` or ``[N₀, D]`` features of shadow non-members.
      feature_forget: ``[N_f]`` or ``[N_f, D]`` features of the forget set.
      attacker: ``"svc"`` (SalUn's SVC(C=3, gamma="auto", kernel="rbf")), ``"threshold"`` (Song &
        Mittal's per-class threshold; scalar features) or ``"logreg"``.
      labels_members, labels_nonmembers, labels_forget: integer class labels for the threshold
        attacker's per-class thresholds. Without them a single class-agnostic threshold is used.
      feature: the name of the feature (see :func:`mia_features`); only used to orient the
        threshold attacker when ``higher_is_member`` is None.
      higher_is_member: member side of the threshold; None = from ``feature`` when given, else
        the side on which the shadow members' mean lies.
      balance: truncate the larger shadow set to the size of the smaller (first examples kept,
        as SalUn does) for the SVC and logistic attackers.
      seed: random state of the logistic regression solver.

    Returns:
      The efficacy in [0, 1] (SalUn reports it ×100).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> members, nonmembers = rng.normal(2, 1, 400), rng.normal(0, 1, 400)
    >>> efficacy = mia_efficacy(members, nonmembers, rng.normal(0, 1, 200), attacker="threshold")
    >>> 0.7 < efficacy < 0.95  # ≈ TNR of the optimal threshold, Φ(1) ≈ 0.84
    True
    """
    if attacker not in MIA_ATTACKERS:
        raise ValueError(f"attacker: expected one of {MIA_ATTACKERS}, got {attacker!r}")
    members = _as_features("feature_members", feature_members)
    nonmembers = _as_features("feature_nonmembers", feature_nonmembers)
    forget = _as_features("feature_forget", feature_forget)
    if not (members.ndim == nonmembers.ndim == forget.ndim) or (
        members.ndim == 2 and not members.shape[1] == nonmembers.shape[1] == forget.shape[1]
    ):
        raise ValueError(
            f"feature_forget: feature shapes differ: members {members.shape}, non-members "
            f"{nonmembers.shape}, forget {forget.shape}"
        )
    if attacker == "threshold":
        predicted_member = _threshold_attack(
            members, nonmembers, forget, labels_members, labels_nonmembers, labels_forget,
            feature, higher_is_member)
        return float(1.0 - predicted_member.mean())

    if balance:
        size = min(members.shape[0], nonmembers.shape[0])
        members, nonmembers = members[:size], nonmembers[:size]
    inputs = np.concatenate([members, nonmembers]).reshape(members.shape[0] + nonmembers.shape[0], -1)
    targets = np.concatenate([np.ones(members.shape[0]), np.zeros(nonmembers.shape[0])])
    if attacker == "svc":
        from sklearn.svm import SVC

        classifier = SVC(C=3, gamma="auto", kernel="rbf")
    else:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        classifier = make_pipeline(StandardScaler(), LogisticRegression(random_state=seed))
    classifier.fit(inputs, targets)
    predicted_member = classifier.predict(forget.reshape(forget.shape[0], -1))
    return float(1.0 - np.mean(predicted_member))


def _threshold_attack(members, nonmembers, forget, labels_members, labels_nonmembers,
                      labels_forget, feature, higher_is_member) -> np.ndarray:
    if forget.ndim != 1:
        raise ValueError(f"feature_forget: the threshold attacker needs a scalar feature per "
                         f"example, got shape {forget.shape}")
    if higher_is_member is None:
        if feature is not None:
            if feature not in _HIGHER_IS_MEMBER:
                raise ValueError(f"feature: the threshold attacker supports {tuple(_HIGHER_IS_MEMBER)}, "
                                 f"got {feature!r}")
            higher_is_member = _HIGHER_IS_MEMBER[feature]
        else:
            higher_is_member = bool(members.mean() >= nonmembers.mean())
    given = [labels is not None for labels in (labels_members, labels_nonmembers, labels_forget)]
    if any(given) and not all(given):
        missing = [name for name, was_given in zip(
            ("labels_members", "labels_nonmembers", "labels_forget"), given) if not was_given]
        raise ValueError(f"{missing[0]}: the per-class threshold attacker needs all three label "
                         "arrays (or none, for one class-agnostic threshold)")
    sign = 1.0 if higher_is_member else -1.0
    if not all(given):
        threshold, _ = _best_threshold(sign * members, sign * nonmembers)
        return sign * forget >= threshold
    thresholds, global_threshold = class_thresholds(
        members, nonmembers, labels_members, labels_nonmembers, higher_is_member=higher_is_member)
    labels_forget = _as_labels("labels_forget", labels_forget, forget.size)
    per_example = np.array([thresholds.get(int(label), global_threshold) for label in labels_forget])
    return sign * forget >= per_example
