"""Evaluation of unlearned models against the retrained reference.

- :mod:`~jaxunlearn.evaluate.accuracy`: UA / RA / TA and the gap (SalUn / Unlearn-Sparse).
- :mod:`~jaxunlearn.evaluate.suite`: every standard metric of several models in one pass.
- :mod:`~jaxunlearn.evaluate.signals`, :mod:`~jaxunlearn.evaluate.roc`: per-example attack
  statistics and ROC metrics (AUC, TPR at low FPR).
- :mod:`~jaxunlearn.evaluate.mia`: MIA-efficacy (SVC, threshold and logistic attackers).
- :mod:`~jaxunlearn.evaluate.lira`, :mod:`~jaxunlearn.evaluate.rmia`: LiRA, U-LiRA and RMIA.
  (LiRA's scores in :mod:`~jaxunlearn.evaluate.lira_scores`, its games over a model pool in
  :mod:`~jaxunlearn.evaluate.lira_games`.)
- :mod:`~jaxunlearn.evaluate.shadows`: shadow pools' membership masks and every model's outputs
  (the pools are trained by :func:`jaxunlearn.train.train_many`).
- :mod:`~jaxunlearn.evaluate.ulira_audit`: U-LiRA between pools of stacked models.
- :mod:`~jaxunlearn.evaluate.competition`: the NeurIPS 2023 unlearning competition's score.
- :mod:`~jaxunlearn.evaluate.epsilon_bounds`: empirical ε lower bounds (Clopper–Pearson).
- :mod:`~jaxunlearn.evaluate.divergence`: Rényi / KL closed forms and variational estimates.
- :mod:`~jaxunlearn.evaluate.renyi_estimator`, :mod:`~jaxunlearn.evaluate.renyi_critic`: the
  variational Rényi estimator for α ≥ 2 with its lower confidence end (DP-Auditorium's recipe).
- :mod:`~jaxunlearn.evaluate.class_metrics`: TV distance, agreement and MIA-NN (class unlearning).
- :mod:`~jaxunlearn.evaluate.generative`: image-to-image metrics (reconstruction errors, OOD
  AUROC, feature distances, the backdoor audit).

The package exports what a user calls (the README's examples, the notebooks and the papers'
named metrics); every helper stays importable from its module (e.g.
``jaxunlearn.evaluate.epsilon_bounds.clopper_pearson_lower``). Statistics are NumPy/SciPy
functions of numbers; this package measures and never trains (pools are trained by
:mod:`jaxunlearn.train.pools`).
"""

from jaxunlearn.evaluate.accuracy import evaluate_splits
from jaxunlearn.evaluate.class_metrics import mia_nn, mia_nn_gap, prediction_agreement, tv_distance
from jaxunlearn.evaluate.competition import forget_quality
from jaxunlearn.evaluate.divergence import renyi_gaussian
from jaxunlearn.evaluate.generative import evaluate_reconstruction, ood_auroc
from jaxunlearn.evaluate.lira import lira, lira_game, ulira, ulira_game
from jaxunlearn.evaluate.mia import mia_efficacy
from jaxunlearn.evaluate.renyi_estimator import RenyiEstimate, estimate_renyi, renyi_confidence_margin
from jaxunlearn.evaluate.rmia import rmia
from jaxunlearn.evaluate.roc import auc, roc_curve, roc_metrics
from jaxunlearn.evaluate.shadows import membership_masks, model_outputs
from jaxunlearn.evaluate.signals import logit_confidence
from jaxunlearn.evaluate.suite import GAP_DEFINITION, evaluate_models, gap_to_reference
from jaxunlearn.evaluate.ulira_audit import ulira_models

__all__ = [
    # UA / RA / TA and the gap to the retrained model
    "evaluate_splits", "evaluate_models", "gap_to_reference", "GAP_DEFINITION",
    # membership inference: MIA-efficacy, LiRA / U-LiRA / RMIA, shadow pools, ROC
    "mia_efficacy", "lira", "lira_game", "ulira", "ulira_game", "ulira_models", "rmia",
    "membership_masks", "model_outputs", "logit_confidence", "auc", "roc_curve", "roc_metrics",
    "forget_quality",
    # class unlearning (TRW's metrics)
    "tv_distance", "prediction_agreement", "mia_nn", "mia_nn_gap",
    # divergence audits (ALU)
    "RenyiEstimate", "estimate_renyi", "renyi_confidence_margin", "renyi_gaussian",
    # image-to-image
    "evaluate_reconstruction", "ood_auroc",
]
