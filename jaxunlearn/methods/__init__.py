"""Unlearning methods. The foundation ships the reference and the two simplest baselines."""

from jaxunlearn.methods.simple import finetune, gradient_ascent, retrain

__all__ = ["finetune", "gradient_ascent", "retrain"]
