"""Accuracy on the forget, retain and test sets (UA / RA / TA).

Definitions as in SalUn (Fan et al., ICLR 2024, §5) and Unlearn-Sparse (Jia et al., NeurIPS
2023, §5): UA = 1 − accuracy on the forget set D_f, RA = accuracy on the retain set D_r, TA =
accuracy on the test set D_t, all in percent. The gap to the retrained model is
:func:`jaxunlearn.evaluate.suite.gap_to_reference` (it adds MIA-efficacy).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from jaxunlearn.evaluate.signals import cross_entropy_loss
from jaxunlearn.train.steps import predict_logits

SPLIT_METRICS = ("UA", "RA", "TA")


def _accuracy_and_loss(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    loss = float(np.mean(cross_entropy_loss(logits, labels)))
    accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
    return accuracy, loss


def evaluate_splits(
    apply_fn: Callable, variables: dict, splits: Any, *, batch_size: int = 512, mesh=None
) -> dict[str, float]:
    """UA, RA, TA (percent) plus per-split accuracy and mean cross-entropy.

    Args:
      apply_fn: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``.
      variables: the model variables to evaluate (eval mode: batch-norm running statistics).
      splits: a :class:`jaxunlearn.data.Splits` (``forget_set``, ``retain_set``, ``test``).

    Returns:
      ``{"UA", "RA", "TA", "forget_accuracy", "retain_accuracy", "test_accuracy",
      "forget_loss", "retain_loss", "test_loss"}``; accuracies are fractions, UA/RA/TA percents.
    """
    results: dict[str, float] = {}
    for name, dataset in (
        ("forget", splits.forget_set),
        ("retain", splits.retain_set),
        ("test", splits.test),
    ):
        logits = predict_logits(apply_fn, variables, dataset.inputs, batch_size=batch_size, mesh=mesh)
        accuracy, loss = _accuracy_and_loss(logits, dataset.labels)
        results[f"{name}_accuracy"] = accuracy
        results[f"{name}_loss"] = loss
    results["UA"] = 100.0 * (1.0 - results["forget_accuracy"])
    results["RA"] = 100.0 * results["retain_accuracy"]
    results["TA"] = 100.0 * results["test_accuracy"]
    return results
