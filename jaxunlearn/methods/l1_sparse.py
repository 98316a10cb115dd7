"""ℓ1-sparse unlearning (Jia et al., "Model Sparsity Can Simplify Machine Unlearning", NeurIPS
2023, Eq. (4)): fine-tune on D_r with CE + γ_t‖θ‖₁, γ_t = γ·(1 − e/E) decaying linearly over the
epochs e = 0..E−1 (their ``FT_iter``). There is no forget term."""

import jax.numpy as jnp

from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.terms import l1_norm, retain_cross_entropy


def _retain(params, model_state, batch, context):
    loss, new_state = retain_cross_entropy(params, model_state, batch, context)
    epoch = (context.step // context.steps_per_epoch).astype(jnp.float32)
    gamma = context.hyper["gamma"] * jnp.maximum(0.0, 1.0 - epoch / context.hyper["epochs"])
    return loss + gamma * l1_norm(params), new_state


L1_SPARSE = register_method(Method(
    name="l1_sparse",
    summary="l1-sparse: CE on D_r + decaying gamma * ||theta||_1",
    retain_term=_retain,
    primary="retain",
    # Unlearn-Sparse: lr 0.01, 10 epochs; γ (their --alpha) is tuned, 5e-4 a middle value
    defaults={"epochs": 10, "learning_rate": 0.01, "gamma": 5e-4},
))
