"""FT: fine-tune the original model with cross-entropy on the retain set (Warnecke et al. 2023;
Jia et al., NeurIPS 2023, §5 "FT"), relying on catastrophic forgetting of D_f."""

from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.terms import retain_cross_entropy

FINETUNE = register_method(Method(
    name="finetune",
    summary="FT: CE on D_r from the original model",
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.01},  # Unlearn-Sparse README
))
