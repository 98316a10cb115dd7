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
:class:`~jaxunlearn.data.Splits`' retain and public sets for any Flax model.
"""

from jaxunlearn.alu.accounting import certificate, certificate_kwargs, steps_for_target
from jaxunlearn.alu.clipping import (
    REGULARIZERS,
    clip_tree,
    clipped_value_and_grad,
    per_example_clipped_grad,
    per_example_value_and_clipped_grads,
    register_closed_form,
    tree_norm,
)
from jaxunlearn.alu.dynamics import (
    LangevinDynamics,
    LangevinRun,
    chain_permutation,
    langevin_update,
    pngd_run,
    pnsgd_run,
    project_ball,
    run_chains,
    step_noise,
)
from jaxunlearn.alu.logistic import (
    linear_params,
    logistic_accuracy,
    logistic_clipped_value_and_grad,
    logistic_loss,
    logistic_margins,
)
from jaxunlearn.alu.objective import (
    ADJACENCIES,
    ALUData,
    alu_data,
    alu_objective,
    check_weighting,
    delete_private,
    example_weights,
    replacement_rows,
)
from jaxunlearn.alu.protocol import ChainDraws, data_free_init, gibbs_init, learn_unlearn_retrain
from jaxunlearn.alu.tasks import ConvexTask, binary_logistic_task, unit_features

__all__ = [
    "ADJACENCIES",
    "ALUData",
    "ChainDraws",
    "ConvexTask",
    "LangevinDynamics",
    "LangevinRun",
    "REGULARIZERS",
    "alu_data",
    "alu_objective",
    "binary_logistic_task",
    "certificate",
    "certificate_kwargs",
    "chain_permutation",
    "check_weighting",
    "clip_tree",
    "clipped_value_and_grad",
    "data_free_init",
    "delete_private",
    "example_weights",
    "gibbs_init",
    "langevin_update",
    "learn_unlearn_retrain",
    "linear_params",
    "logistic_accuracy",
    "logistic_clipped_value_and_grad",
    "logistic_loss",
    "logistic_margins",
    "per_example_clipped_grad",
    "per_example_value_and_clipped_grads",
    "pngd_run",
    "pnsgd_run",
    "project_ball",
    "register_closed_form",
    "replacement_rows",
    "run_chains",
    "step_noise",
    "steps_for_target",
    "tree_norm",
    "unit_features",
]
