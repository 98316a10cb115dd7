"""Add-ons by name: the Optax transforms that compose with every first-order method.

``unlearn(..., addons=("prob_mask", ("clip_spectral_norm", {"max_norm": 2.0})))`` and
``jaxunlearn unlearn --addon prob_mask --addon clip_spectral_norm:max_norm=2`` build the masked
or clipped variant of any method. A raw ``optax.GradientTransformation`` is accepted too and placed
after the optimizer.

Placement: the masks go after the optimizer (``apply_to="update"``), so masked coordinates never
move, momentum and weight decay included (the SalUn issue #32 lesson, masks.md §7.2); spectral
clipping and Langevin noise also act on the final update.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.config import parse_like
from jaxunlearn.losses import cross_entropy
from jaxunlearn.transforms import (
    add_langevin_noise,
    and_mask,
    clip_spectral_norm,
    focus_mask,
    prob_mask,
    saliency_mask,
    static_mask,
)
from jaxunlearn.spectral import record_batch_norms, record_layer_shapes


@dataclasses.dataclass
class AddonContext:
    """What an add-on may use when it is built (outside jit).

    Attributes:
      model_fns: the model's pure functions.
      variables: the starting variables.
      splits: the data splits.
      hyper: the method's hyperparameters (``learning_rate`` for Langevin noise).
      key: an int seed.
      module: the Flax module, when known (spectral clipping records its layer shapes).
      tx: the optimizer the caller passed to ``unlearn(..., tx=...)``, or ``None`` when the
        method's own optimizer (built from ``hyper``) runs.
    """

    model_fns: Any
    variables: dict
    splits: Any
    hyper: dict
    key: int
    module: Any = None
    tx: Any = None


@dataclasses.dataclass(frozen=True)
class Addon:
    """A named add-on.

    Attributes:
      name: registry key.
      build: ``build(context, **options) -> GradientTransformation``.
      needs: what the method must provide: ``"forget_term"``, ``"retain_term"``, ``"stats"``
        (micro-batch gradient statistics), ``"module"`` (the Flax module).
      options: accepted option names and defaults.
    """

    name: str
    build: Callable[..., optax.GradientTransformation]
    needs: frozenset = frozenset()
    options: dict = dataclasses.field(default_factory=dict)


def saliency_static_mask(context: AddonContext, keep_fraction: float = 0.5,
                         batch_size: int = 256):
    """SalUn's mask (Fan et al., ICLR 2024, Eq. (4)): the top ``keep_fraction`` coordinates of
    |∇_θ L_f(θ_o)|, L_f the forget loss being minimised (−CE for the ascent SalUn uses)."""
    forget = context.splits.forget_set
    variables = context.variables
    apply_fn = context.model_fns.apply

    @jax.jit
    def gradient(params, inputs, labels, weights):
        def loss(p):
            logits, _ = apply_fn({**variables, "params": p}, inputs, False)
            return -cross_entropy(logits, labels, weights) * jnp.sum(weights)

        return jax.grad(loss)(params)

    total = jax.tree_util.tree_map(jnp.zeros_like, variables["params"])
    for start in range(0, len(forget), batch_size):
        inputs = np.asarray(forget.inputs[start:start + batch_size])
        labels = np.asarray(forget.labels[start:start + batch_size])
        real = len(labels)
        pad = batch_size - real
        weights = np.concatenate([np.ones(real, np.float32), np.zeros(pad, np.float32)])
        inputs = np.concatenate([inputs, np.zeros((pad, *inputs.shape[1:]), inputs.dtype)])
        labels = np.concatenate([labels, np.zeros(pad, labels.dtype)])
        total = jax.tree_util.tree_map(jnp.add, total, gradient(variables["params"], inputs,
                                                                labels, weights))
    return static_mask(saliency_mask(total, keep_fraction))


def _flag(value: Any, name: str) -> bool:
    """A boolean option (text forms were parsed by :func:`parse_addon`)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"addons: clip_spectral_norm option {name} must be true or false, "
                     f"got {value!r}")


def _spectral(context: AddonContext, max_norm: float = 1.0, every_k_steps: int = 50,
              num_iterations: int = 5, conv_two_sided: Any = True,
              two_sided_tolerance: float = 0.05, track_every_step: Any = False,
              batch_norm: str = "leave"):
    """FastClip (see :func:`jaxunlearn.transforms.clip_spectral_norm`): convolutions two-sided
    by default as in the authors' code; batch-norm scales left alone (``batch_norm="leave"``) or
    clamped to ±c·sqrt(running_var + eps) (``"clamp"``, the authors' clipBN_hard; the unlearning
    step hands the transform the model's ``batch_stats``)."""
    conv_two_sided = _flag(conv_two_sided, "conv_two_sided")
    track_every_step = _flag(track_every_step, "track_every_step")
    if batch_norm not in ("leave", "clamp"):
        raise ValueError(f"addons: clip_spectral_norm option batch_norm must be 'leave' or "
                         f"'clamp', got {batch_norm!r}")
    if context.module is None:
        raise ValueError("addons: clip_spectral_norm needs the Flax module (pass module=...)")
    sample = np.asarray(context.splits.train.inputs[:1])
    layers = record_layer_shapes(context.module, context.variables, sample, train=False)
    batch_norms = (record_batch_norms(context.module, context.variables, sample, train=False)
                   if batch_norm == "clamp" else None)
    if batch_norm == "clamp" and not batch_norms:
        raise ValueError("addons: clip_spectral_norm batch_norm='clamp' needs a model with "
                         "batch norm; this one has none")
    return clip_spectral_norm(max_norm, layers, every_k_steps=every_k_steps,
                              num_iterations=num_iterations, seed=context.key,
                              conv_two_sided=conv_two_sided,
                              two_sided_tolerance=two_sided_tolerance,
                              track_every_step=track_every_step, batch_norm=batch_norm,
                              batch_norms=batch_norms)


def _langevin(context: AddonContext, sigma: float = 0.01, step_size: Any = None):
    """Langevin noise N(0, 2·η·σ²·I) added to every update (Chien et al., NeurIPS 2024, Eq. (2);
    :func:`jaxunlearn.transforms.add_langevin_noise`), η the step size of the optimizer it
    follows. ``step_size`` gives η; left out, it is the method's ``learning_rate``, which is the
    optimizer's step size only when the method's own optimizer runs: with a custom ``tx`` the
    step size cannot be read off an arbitrary Optax transform, so ``step_size`` is required."""
    if step_size is None:
        if context.tx is not None:
            raise ValueError(
                "addons: langevin_noise needs the option step_size (η of the tx passed to "
                "unlearn, e.g. ('langevin_noise', {'sigma': 0.01, 'step_size': 0.05}) or "
                "--addon langevin_noise:sigma=0.01,step_size=0.05): its variance 2·η·σ² must "
                "use the custom optimizer's step size, which cannot be read from the tx")
        step_size = context.hyper["learning_rate"]
    return add_langevin_noise(step_size, sigma, key=context.key)


ADDONS: dict[str, Addon] = {
    addon.name: addon
    for addon in (
        Addon("and_mask", lambda context: and_mask(), frozenset({"forget_term", "retain_term"})),
        Addon("prob_mask", lambda context, threshold=0.45, criterion="agreement":
              prob_mask(threshold, criterion=criterion),
              frozenset({"forget_term", "retain_term", "stats"}),
              {"threshold": 0.45, "criterion": "agreement"}),
        Addon("focus_mask", lambda context, criterion="agreement": focus_mask(criterion=criterion),
              frozenset({"forget_term", "retain_term", "stats"}), {"criterion": "agreement"}),
        Addon("salun_mask", saliency_static_mask, frozenset(), {"keep_fraction": 0.5, "batch_size": 256}),
        Addon("clip_spectral_norm", _spectral, frozenset({"module"}),
              {"max_norm": 1.0, "every_k_steps": 50, "num_iterations": 5, "batch_norm": "leave",
               "conv_two_sided": True, "two_sided_tolerance": 0.05, "track_every_step": False}),
        Addon("langevin_noise", _langevin, frozenset(), {"sigma": 0.01, "step_size": None}),
    )
}


def parse_addon(spec: Any) -> tuple[str, dict] | optax.GradientTransformation:
    """``"name"``, ``"name:key=value,key=value"``, ``(name, options)`` or an Optax transform."""
    if isinstance(spec, optax.GradientTransformation):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], dict):
        name, options = spec
    elif isinstance(spec, str):
        name, _, text = spec.partition(":")
        options = {}
        for item in filter(None, text.split(",")):
            key, equals, value = item.partition("=")
            if not equals:
                raise ValueError(f"addons: option {item!r} of {name!r} must look like key=value")
            options[key.strip()] = value
    else:
        raise TypeError(f"addons: expected a name, (name, options) or an Optax transform, got {spec!r}")
    if name not in ADDONS:
        raise ValueError(f"addons: unknown add-on {name!r}; available: {sorted(ADDONS)}")
    unknown = set(options) - set(ADDONS[name].options)
    if unknown:
        raise ValueError(f"addons: {name!r} has no option {sorted(unknown)}; "
                         f"options: {sorted(ADDONS[name].options)}")
    # text values take the type of the option's default (the parser config overrides use)
    defaults = ADDONS[name].options
    return name, {key: parse_like(value, defaults[key], f"addons: {name} option {key}")
                  for key, value in options.items()}


def resolve_addons(specs, method, module, *, require_module: bool = True,
                   ) -> list[tuple[str, dict] | optax.GradientTransformation]:
    """Parse ``specs`` and check each add-on's needs against ``method`` before anything runs.

    ``require_module=False`` skips the check for the Flax module, for callers that validate the
    request before they have built the model.
    """
    resolved = [parse_addon(spec) for spec in specs]
    for item in resolved:
        if isinstance(item, optax.GradientTransformation):
            continue
        name, _ = item
        needs = ADDONS[name].needs
        if "retain_term" in needs and method.retain_term is None:
            raise ValueError(f"addons: {name!r} needs a retain gradient, but method "
                             f"{method.name!r} has no retain term")
        if "forget_term" in needs and method.forget_term is None:
            raise ValueError(f"addons: {name!r} needs an unlearning gradient, but method "
                             f"{method.name!r} has no forget term")
        if "module" in needs and module is None and require_module:
            raise ValueError(f"addons: {name!r} needs the Flax module (pass module=...)")
    return resolved


def build_addons(resolved, context: AddonContext) -> tuple[list, int]:
    """The transforms to chain after the optimizer, and K for gradient statistics (0 if none)."""
    transforms, microbatches = [], 0
    for item in resolved:
        if isinstance(item, optax.GradientTransformation):
            transforms.append(item)
            continue
        name, options = item
        transforms.append(ADDONS[name].build(context, **options))
        if "stats" in ADDONS[name].needs:
            microbatches = 4
    return transforms, microbatches
