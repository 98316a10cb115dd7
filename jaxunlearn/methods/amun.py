"""AMUN, Adversarial Machine UNlearning (Ebrahimpour-Boroojeny, Sundaram, Chandrasekaran):
fine-tune on the forget samples together with adversarial examples of them.

For each forget sample (x, y), an ℓ2 adversarial example x′ is found by PGD within a radius that
starts at ``initial_epsilon`` and grows by ``growth`` until the model's label changes
(:func:`jaxunlearn.attacks.adversarial_examples_growing_radius`), and labelled with that wrong
label y′. The model is then fine-tuned with cross-entropy on D_f ∪ D_adv (the forget stream,
with the original labels on D_f) and on D_r when it is available: the retrained model is less
confident on forget samples, and the nearby adversarial examples lower that confidence locally
without moving the rest of the input space.
"""

import jax
import numpy as np

from jaxunlearn.attacks import adversarial_examples_growing_radius
from jaxunlearn.methods.base import Method, Prepared, register_method
from jaxunlearn.methods.terms import forget_cross_entropy, retain_cross_entropy


def _prepare(model_fns, variables, splits, hyper, key):
    forget = splits.forget_set
    search = adversarial_examples_growing_radius(
        model_fns.apply, variables, forget.inputs, forget.labels,
        initial_epsilon=hyper["initial_epsilon"], growth=hyper["growth"],
        max_rounds=int(hyper["max_rounds"]), num_steps=int(hyper["pgd_steps"]),
        key=jax.random.key(key + 2),
    )
    success = np.asarray(search.success)
    inputs = np.concatenate([forget.inputs, np.asarray(search.adversarial_inputs)[success]])
    labels = np.concatenate([forget.labels, np.asarray(search.adversarial_labels)[success]])
    epsilons = np.asarray(search.epsilons)[success]
    log = {
        "amun_adversarial_found": int(success.sum()),
        "amun_forget_size": len(forget),
        "amun_median_epsilon": float(np.median(epsilons)) if len(epsilons) else None,
    }
    return Prepared(forget_inputs=inputs.astype(np.float32), forget_labels=labels.astype(np.int32),
                    log=log)


AMUN = register_method(Method(
    name="amun",
    summary="AMUN: fine-tune on D_f with its adversarial examples (labelled as misclassified), plus D_r",
    forget_term=forget_cross_entropy,
    retain_term=retain_cross_entropy,
    primary="retain",
    # the authors' code: PGD-50 with step ε/10, ε from 0.01 doubling until the label flips
    defaults={"epochs": 10, "learning_rate": 0.01, "initial_epsilon": 0.01, "growth": 2.0,
              "max_rounds": 12, "pgd_steps": 50},
    prepare=_prepare,
))
