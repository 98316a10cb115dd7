"""Two optimizers in sequence with a silent step between them: ``i2i_decouple``'s phases.

Varshney & Torra (arXiv 2502.04260) unlearn an image-to-image model in two phases, decoupling
(bounded gradient ascent on the forget set) then knowledge retention (fine-tuning on the retained
set); as reconstructed in :mod:`jaxunlearn.certify.i2i`, the step between them is the Gaussian
mechanism's output perturbation (:func:`jaxunlearn.transforms.output_perturbation`), so the
optimizers' own updates are zero there.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class PhaseSwitchState(NamedTuple):
    """State of :func:`phase_switch`: the step count and each phase's own state."""

    count: jax.Array
    first_state: Any
    second_state: Any


def phase_switch(first: optax.GradientTransformation, second: optax.GradientTransformation,
                 switch_step: int) -> optax.GradientTransformationExtraArgs:
    """``first`` for steps ``< switch_step``, zero updates at ``switch_step``, ``second`` after.

    Each phase's state advances only in its own steps, so the second optimizer (e.g. Adam's
    moments) starts fresh at the phase change. Extra args are passed to both.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> tx = phase_switch(optax.scale(-1.0), optax.scale(-10.0), switch_step=1)
      >>> params, state = {"w": jnp.zeros(1)}, None
      >>> state = tx.init(params)
      >>> steps = []
      >>> for _ in range(3):
      ...     updates, state = tx.update({"w": jnp.ones(1)}, state, params)
      ...     steps.append(float(updates["w"][0]))
      >>> steps
      [-1.0, 0.0, -10.0]
    """
    first = optax.with_extra_args_support(first)
    second = optax.with_extra_args_support(second)

    def init(params):
        return PhaseSwitchState(jnp.zeros((), jnp.int32), first.init(params), second.init(params))

    def update(updates, state, params=None, **extra):
        in_first = state.count < switch_step
        in_second = state.count > switch_step
        first_updates, first_state = first.update(updates, state.first_state, params, **extra)
        second_updates, second_state = second.update(updates, state.second_state, params, **extra)

        def pick(a, b):
            return jnp.where(in_first, a, jnp.where(in_second, b, jnp.zeros_like(a)))

        def keep(active, new, old):
            return jax.tree_util.tree_map(lambda n, o: jnp.where(active, n, o), new, old)

        new_updates = jax.tree_util.tree_map(pick, first_updates, second_updates)
        return new_updates, PhaseSwitchState(state.count + 1,
                                             keep(in_first, first_state, state.first_state),
                                             keep(in_second, second_state, state.second_state))

    return optax.GradientTransformationExtraArgs(init, update)
