"""Boundary Expanding (Chen, Gao, Liu, Peng, Zhou, "Boundary Unlearning: Rapid Forgetting of Deep
Networks via Shifting the Decision Space", CVPR 2023, §4.2): give the classifier an extra *shadow*
class, fine-tune on the forget set with every sample labelled as the shadow class, then prune the
shadow neuron, so the forget samples end up wherever the remaining classes' boundaries put them.

As the authors' code does it (the ``boundary_expanding`` function of the paper's code archive,
read in a public copy): the output layer is widened from C to C + 1 rows, the first C copied from
the original, the new row initialised Xavier-normal (std √(2 / (d + C + 1)), d the layer's input
width) with a zero bias; the whole widened network trains with cross-entropy towards class C on
the forget set alone (SGD, learning rate 1e-5, momentum 0.9, no weight decay, 10 epochs over the
forget set), and the pruned network, the trained features and the first C rows, is the result.
The forget batches hold 128 samples (AMUN's code; the batch size of the Boundary Unlearning code
could not be read).

Here the shadow row lives in the parameters as ``params["boundary_expanding_shadow"]``
(``kernel`` (d, 1), ``bias`` (1,)), so every add-on (the masks, Langevin noise) sees it like any
other parameter; the loss term reads the output layer's input by intercepting the Linen
submodule named ``head_name`` (``"head"`` for the library's classifiers) and appends the shadow
logit to its output. The run's result has the shadow row removed: the pruned model. A model whose
output layer is not a Linen submodule of that name is refused before anything compiles.

The AMUN authors' baseline runs differ (``Ali-E/AMUN``, ``adversarial_unlearn.py`` with
``unlearn_method == 'BE'`` and ``helper.expand_model``): they widen the layer again at every epoch
(PyTorch's default initialisation for the new row), never prune, and build the optimizer before
widening, so the widened layer is not trained; this method follows the Boundary Unlearning code.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.losses import cross_entropy
from jaxunlearn.methods.base import (
    Method, Prepared, head_input, logits_of, no_head_error, register_method,
)
from jaxunlearn.train.keys import shadow_init_key

SHADOW = "boundary_expanding_shadow"
"""The ``params`` entry holding the shadow class's row of the output layer during the run."""


def _widen(head_name: str, shadow: dict, found: list):
    """A Linen method interceptor appending the shadow logit ``h · kernel + bias`` to the output
    of the submodule ``head_name`` (``h`` its input); records each call in ``found``."""
    def interceptor(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.module.name == head_name and context.method_name == "__call__":
            features = args[0]
            found.append(int(features.shape[-1]))
            extra = (features.astype(out.dtype) @ shadow["kernel"].astype(out.dtype)
                     + shadow["bias"].astype(out.dtype))
            out = jnp.concatenate([out, extra], axis=-1)
        return out
    return interceptor


_WHY = "Boundary Expanding widens the output layer"


def _forget(params, model_state, batch, context):
    head_name = context.hyper["head_name"]
    model_params = {name: value for name, value in params.items() if name != SHADOW}
    found: list = []
    with nn.intercept_methods(_widen(head_name, params[SHADOW], found)):
        logits, new_state = logits_of(context, model_params, model_state, batch.inputs)
    if not found:
        raise no_head_error(head_name, _WHY)
    shadow_class = jnp.full(batch.labels.shape, logits.shape[-1] - 1, jnp.int32)
    return cross_entropy(logits, shadow_class, batch.weights), new_state


def _prepare(model_fns, variables, splits, hyper, key):
    head_name = hyper["head_name"]
    sample = np.asarray(splits.forget_set.inputs[:1])
    features = jax.eval_shape(
        lambda v, x: head_input(model_fns.apply, v, x, False, head_name, _WHY)[2], variables,
        sample)
    width, classes = int(features.shape[-1]), splits.train.num_classes
    std = math.sqrt(2.0 / (width + classes + 1))  # Xavier-normal on the (C + 1) × d layer
    init_key = shadow_init_key(key)
    shadow = {"kernel": std * jax.random.normal(init_key, (width, 1), jnp.float32),
              "bias": jnp.zeros((1,), jnp.float32)}
    widened = {**variables, "params": {**variables["params"], SHADOW: shadow}}
    return Prepared(variables=widened, log={"shadow_input_width": width})


def prune_shadow(variables: dict) -> dict:
    """The pruned model: ``variables`` without the shadow class's row (a stacked pool too)."""
    return {**variables, "params": {name: value for name, value in variables["params"].items()
                                    if name != SHADOW}}


def _validate(hyper: dict) -> None:
    if not isinstance(hyper["head_name"], str) or not hyper["head_name"]:
        raise ValueError(f"hyperparams: head_name must be the output layer's submodule name, "
                         f"got {hyper['head_name']!r}")


BOUNDARY_EXPANDING = register_method(Method(
    name="boundary_expanding",
    summary="Boundary Expanding: CE towards an extra shadow class on D_f, then prune it",
    forget_term=_forget,
    primary="forget",
    defaults={"epochs": 10, "learning_rate": 1e-5, "momentum": 0.9, "weight_decay": 0.0,
              "forget_batch_size": 128, "head_name": "head"},
    prepare=_prepare,
    finalize=prune_shadow,
    validate=_validate,
))
