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

Statistics are NumPy/SciPy functions of numbers, apart from training (DESIGN.md).
"""

from jaxunlearn.evaluate.accuracy import SPLIT_METRICS, evaluate_splits
from jaxunlearn.evaluate.class_metrics import (
    mia_nn,
    mia_nn_gap,
    nearest_classes,
    prediction_agreement,
    tv_distance,
)
from jaxunlearn.evaluate.competition import (
    competition_score,
    epsilon_from_rates,
    forget_quality,
    per_example_epsilon,
    retrain_ceiling,
)
from jaxunlearn.evaluate.divergence import (
    kl_dv,
    kl_gaussian,
    renyi_gaussian,
    renyi_to_dp,
    renyi_variational,
)
from jaxunlearn.evaluate.epsilon_bounds import (
    clopper_pearson_interval,
    clopper_pearson_lower,
    clopper_pearson_upper,
    epsilon_lower_bound,
)
from jaxunlearn.evaluate.generative import (
    Backdoor,
    backdoor_regeneration,
    error_percentile,
    evaluate_reconstruction,
    frechet_distance,
    mean_cosine_similarity,
    mean_reconstruction_error,
    ood_auroc,
    output_distance,
    penultimate_features,
    per_example_error,
    poison,
    reconstruct,
    reconstruction_errors,
    reconstruction_membership_attack,
    split_errors,
    stamp_cue,
)
from jaxunlearn.evaluate.lira import lira, lira_game, masked_gaussian_fit, ulira, ulira_game
from jaxunlearn.evaluate.mia import (
    MIA_ATTACKERS,
    MIA_FEATURES,
    class_thresholds,
    mia_efficacy,
    mia_features,
)
from jaxunlearn.evaluate.renyi_estimator import (
    RenyiEstimate,
    estimate_renyi,
    renyi_confidence_margin,
    renyi_dv_objective,
)
from jaxunlearn.evaluate.rmia import rmia, tune_offline_a
from jaxunlearn.evaluate.roc import (
    DEFAULT_FPR_TARGETS,
    auc,
    null_auc_standard_error,
    roc_curve,
    roc_metrics,
)
from jaxunlearn.evaluate.shadows import membership_masks, model_outputs
from jaxunlearn.evaluate.signals import (
    cross_entropy_loss,
    entropy,
    logit_confidence,
    margin,
    modified_entropy,
    softmax,
    true_label_prob,
)
from jaxunlearn.evaluate.suite import GAP_DEFINITION, GAP_METRICS, evaluate_models, gap_to_reference
from jaxunlearn.evaluate.ulira_audit import ulira_models

__all__ = [
    "DEFAULT_FPR_TARGETS", "GAP_DEFINITION", "GAP_METRICS", "MIA_ATTACKERS", "MIA_FEATURES",
    "SPLIT_METRICS", "membership_masks", "model_outputs",
    "auc", "class_thresholds", "clopper_pearson_interval", "clopper_pearson_lower",
    "clopper_pearson_upper", "competition_score", "cross_entropy_loss", "entropy",
    "epsilon_from_rates", "epsilon_lower_bound", "evaluate_models", "evaluate_splits",
    "forget_quality", "gap_to_reference", "kl_dv", "kl_gaussian", "lira", "lira_game",
    "logit_confidence",
    "margin", "masked_gaussian_fit", "mia_efficacy", "mia_features", "mia_nn", "mia_nn_gap",
    "modified_entropy", "nearest_classes", "null_auc_standard_error", "per_example_epsilon",
    "prediction_agreement", "RenyiEstimate", "estimate_renyi", "renyi_confidence_margin",
    "renyi_dv_objective", "renyi_gaussian", "renyi_to_dp", "renyi_variational", "retrain_ceiling",
    "rmia", "roc_curve", "roc_metrics", "softmax", "true_label_prob", "tune_offline_a", "tv_distance",
    "ulira", "ulira_game", "ulira_models",
    "Backdoor", "backdoor_regeneration", "error_percentile", "evaluate_reconstruction", "frechet_distance", "mean_cosine_similarity", "mean_reconstruction_error", "ood_auroc", "output_distance", "penultimate_features", "per_example_error", "poison", "reconstruct", "reconstruction_errors", "reconstruction_membership_attack", "split_errors", "stamp_cue",
]
