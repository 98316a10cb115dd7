"""Asymmetric Langevin Unlearning (ALU): Langevin unlearning with public data.

Inane, Quirion, Dziugaite & Mitliagkas (ICML 2026, arXiv 2605.11170) train and unlearn with the
projected noisy gradient dynamics of Chien, Wang, Chen & Li (NeurIPS 2024) on private ∪ public
data, where only private rows are ever deleted; the public rows shrink the sensitivity of the
gradient to a deletion, hence the certified Rényi divergence between unlearning and retraining,
by (n_priv/(n_priv + n_pub))². One concern per module:

- :mod:`~jaxunlearn.alu.clipping`: per-example clipped gradients (regulariser inside or after).
- :mod:`~jaxunlearn.alu.objective`: the private/public data, the weighted objective, deletions.
- :mod:`~jaxunlearn.alu.dynamics`: PNGD and PNSGD with ``lax.scan``, vmapped over noise keys.
- :mod:`~jaxunlearn.alu.protocol`: Gibbs initialisation, learn → unlearn, and retraining.
- :mod:`~jaxunlearn.alu.logistic`, :mod:`~jaxunlearn.alu.tasks`: the convex setting.
- :mod:`~jaxunlearn.alu.accounting`: the certificate of a run (:mod:`jaxunlearn.certify`).

The unlearning method ``"alu"`` (:mod:`jaxunlearn.methods.alu`) runs the same dynamics on a
:class:`~jaxunlearn.data.Splits`' retain and public sets for any Flax model. Both update with the
one Langevin chain (:func:`jaxunlearn.transforms.langevin_dynamics`) through the engine's
:func:`jaxunlearn.train.core.update`: the method in the engine's host loop (checkpoints, epoch
curves, ``unlearn_many`` pools), the chains here in one ``lax.scan`` per run.
"""

from jaxunlearn.alu.accounting import certificate, steps_for_target
from jaxunlearn.alu.dynamics import (
    LangevinDynamics,
    chain_permutation,
    pngd_run,
    pnsgd_run,
    run_chains,
    step_noise,
)
from jaxunlearn.alu.logistic import (
    linear_params,
    logistic_accuracy,
    logistic_loss,
    logistic_margins,
)
from jaxunlearn.alu.objective import (
    alu_data,
    alu_objective,
    delete_private,
)
from jaxunlearn.alu.protocol import data_free_init, gibbs_init, learn_unlearn_retrain
from jaxunlearn.alu.tasks import binary_logistic_task

__all__ = [
    "LangevinDynamics",
    "alu_data",
    "alu_objective",
    "binary_logistic_task",
    "certificate",
    "chain_permutation",
    "data_free_init",
    "delete_private",
    "gibbs_init",
    "learn_unlearn_retrain",
    "linear_params",
    "logistic_accuracy",
    "logistic_loss",
    "logistic_margins",
    "pngd_run",
    "pnsgd_run",
    "run_chains",
    "step_noise",
    "steps_for_target",
]
