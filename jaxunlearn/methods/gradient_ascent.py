"""GA: gradient ascent on the forget set (Thudi et al. 2022; Jia et al., NeurIPS 2023, §5 "GA"):
minimise L_U = −CE(θ; D_f) for a few steps with a small learning rate. No retain term."""

from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.terms import forget_ascent

GRADIENT_ASCENT = register_method(Method(
    name="gradient_ascent",
    summary="GA: minimise −CE on D_f",
    forget_term=forget_ascent,
    primary="forget",
    # Unlearn-Sparse README: 5 epochs at 1e-4 (its maintainers' class-wise setting; random
    # forgetting needs a search over [1e-5, 0.1]); batch 256
    defaults={"epochs": 5, "learning_rate": 1e-4, "forget_batch_size": 256},
))
