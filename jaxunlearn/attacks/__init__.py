"""Input attacks: PGD-ℓ2 (Madry et al., 2018) and AMUN's growing-radius adversarial search.

Both take a model as ``apply_fn(variables, inputs, train, rng=None) -> (logits, new_mutable)``
(:class:`jaxunlearn.models.ModelFns`), run it in eval mode, and check their arguments before
compiling (a ``ValueError`` names the offending argument).
"""

from jaxunlearn.attacks.growing_radius import (
    AdversarialSearchResult,
    adversarial_examples_growing_radius,
)
from jaxunlearn.attacks.pgd import pgd_l2

__all__ = [
    "AdversarialSearchResult",
    "adversarial_examples_growing_radius",
    "pgd_l2",
]
