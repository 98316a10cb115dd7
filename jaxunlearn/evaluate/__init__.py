"""Evaluation of unlearned models against the retrained reference."""

from jaxunlearn.evaluate.accuracy import SPLIT_METRICS, evaluate_splits, gap_to_reference

__all__ = ["SPLIT_METRICS", "evaluate_splits", "gap_to_reference"]
