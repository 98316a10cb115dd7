"""GA: gradient ascent on the forget set (Thudi et al. 2022; Jia et al., NeurIPS 2023, §5 "GA"):
minimise L_U = −CE(θ; D_f) for a few steps with a small learning rate. No retain term."""

from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.terms import forget_ascent

GRADIENT_ASCENT = register_method(Method(
    name="gradient_ascent",
    summary="GA: minimise −CE on D_f",
    forget_term=forget_ascent,
    primary="forget",
    defaults={"epochs": 2, "learning_rate": 0.1, "momentum": 0.0, "weight_decay": 0.0,
              "forget_batch_size": 32},
))
