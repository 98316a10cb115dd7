"""LiRA and U-LiRA: per-example likelihood-ratio membership tests from shadow models.

LiRA (Carlini, Chien, Nasr, Song, Terzis, Tramèr, "Membership Inference Attacks From First
Principles", S&P 2022, Algorithm 1 and §IV-C): for each example x, fit Gaussians to its statistic
φ (:func:`jaxunlearn.evaluate.signals.logit_confidence`) over shadow models trained with x (IN)
and without x (OUT), then score the target model's φ

* online:  Λ = log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²)  (Algorithm 1, line 13);
* offline: Λ = −log Pr[Z > φ], Z ~ N(μ_out, σ_out²) — the paper's one-sided test (§IV-C), on
  the −log survival scale so that extreme members keep distinct scores.

With A queries (augmentations) per example the Gaussians are fitted per query and the score is the
mean over queries (``mi_lira_2021/plot.py``). Higher score = member.

U-LiRA (Hayes, Shumailov, Triantafillou, Khalifa, Papernot, "Inexact Unlearning Needs More
Careful Evaluations to Avoid a False Sense of Privacy", SaTML 2025, §4): the same test with IN =
shadow models that were trained on x and then unlearned it, OUT = models that never saw x; the
target is either an unlearned or a retrained model, and the attack's balanced accuracy measures
how far unlearning is from retraining (0.5 = indistinguishable).

Everything here is NumPy/SciPy on arrays of statistics; compute the statistics with a vmapped
model once and keep them as ``[M, N, A]``.

The code is in two modules, both re-exported here:

- :mod:`jaxunlearn.evaluate.lira_scores`: the Gaussian fits and likelihood-ratio scores of one
  target (:func:`masked_gaussian_fit`, :func:`lira`, :func:`ulira`);
- :mod:`jaxunlearn.evaluate.lira_games`: the games over a model pool, each held-out model the
  target of the others (:func:`lira_game`, :func:`ulira_game`).
"""

from jaxunlearn.evaluate.lira_games import lira_game, ulira_game
from jaxunlearn.evaluate.lira_scores import lira, masked_gaussian_fit, ulira

__all__ = ["masked_gaussian_fit", "lira", "lira_game", "ulira", "ulira_game"]
