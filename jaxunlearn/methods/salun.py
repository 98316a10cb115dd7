"""SalUn (Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency",
ICLR 2024): random-label unlearning restricted to salient weights.

The saliency mask m = 1[|∇_θ L_f(θ_o)| ≥ γ] keeps the top ``keep_fraction`` coordinates of the
forget-loss gradient at the original model (their Eq. (4), γ the median for 50 %); then RL
(Eq. (6)) updates only those: θ = m ⊙ (θ_o + Δ) + (1 − m) ⊙ θ_o (Eq. (5)). The mask is a
:func:`~jaxunlearn.transforms.static_mask` placed after the optimizer, so weight decay and
momentum cannot move masked weights.
"""

from jaxunlearn.methods.addons import AddonContext, saliency_static_mask
from jaxunlearn.methods.base import Method, register_method
from jaxunlearn.methods.random_label import _prepare_fixed_labels
from jaxunlearn.methods.terms import forget_cross_entropy, retain_cross_entropy


def _prepare(model_fns, variables, splits, hyper, key):
    prepared = _prepare_fixed_labels(model_fns, variables, splits, hyper, key)
    context = AddonContext(model_fns, variables, splits, hyper, key)
    prepared.addons = (saliency_static_mask(context, keep_fraction=hyper["keep_fraction"]),)
    prepared.log = {"saliency_keep_fraction": hyper["keep_fraction"]}
    return prepared


SALUN = register_method(Method(
    name="salun",
    summary="SalUn: RL on the top-k saliency coordinates of the forget gradient",
    forget_term=forget_cross_entropy,
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 10, "learning_rate": 0.013, "keep_fraction": 0.5},  # SalUn README
    prepare=_prepare,
))
