"""Pure-function views of Flax models: the only form of a model the rest of the library sees.

A model is a pair of pure functions (:class:`ModelFns`) over a variables pytree, a plain dict
``{'params': ..., <other collections>: ...}``. Training code differentiates with respect to
``variables['params']`` and threads the other collections (batch-norm statistics, RNG state)
through ``new_mutable``::

    model = create_model_fns("resnet18", num_classes=10)
    variables = model.init(jax.random.key(0), images[:1])
    logits, new_mutable = model.apply(variables, images, train=True)
    variables = {**variables, **new_mutable}
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import flax.core
import flax.linen as nn
import jax
import numpy as np
from flax import nnx, traverse_util

from jaxunlearn.models.registry import get_model

PARAMS = "params"
"""Key of the trainable parameters in a variables dict."""

# Layout of an NNX module's state in a variables dict: key and the NNX variable types stored under
# it, in split order (a variable goes to the first key whose filter it matches). ``...`` catches
# every other variable type, e.g. ``nnx.Intermediate`` or user-defined ones.
NNX_COLLECTIONS: tuple[tuple[str, Any], ...] = (
    (PARAMS, nnx.Param),
    ("batch_stats", nnx.BatchStat),
    ("rng_state", nnx.RngState),
    ("other_state", ...),
)


class ModelFns(NamedTuple):
    """A model as two pure, jittable functions.

    Attributes:
        init: ``init(prng_key, sample_inputs) -> variables``. ``sample_inputs`` is a batch with
            the input shape, e.g. ``(1, 32, 32, 3)``; ``variables`` is a plain dict with the
            parameters under ``'params'`` and any other state (e.g. ``'batch_stats'``) under
            its own key.
        apply: ``apply(variables, inputs, train, rng=None) -> (logits, new_mutable)``. ``train``
            is a static Python bool (pass ``static_argnames='train'`` to ``jax.jit``); ``rng``,
            if given, seeds the ``'dropout'`` stream. ``logits`` has shape
            ``(n, num_classes)``. ``new_mutable`` holds every non-parameter collection: updated
            in train mode, returned unchanged in eval mode, ``{}`` for a stateless model, so
            ``variables = {**variables, **new_mutable}`` is always valid.
    """

    init: Callable[[jax.Array, jax.Array], dict]
    apply: Callable[..., tuple[jax.Array, dict]]


def _static_train_flag(train: Any) -> bool:
    if isinstance(train, (bool, np.bool_)):
        return bool(train)
    raise TypeError(
        "`train` must be a static Python bool, e.g. jax.jit(apply, static_argnames='train'); "
        f"got {type(train).__name__}"
    )


def _non_param_collections(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in variables.items() if name != PARAMS}


def _check_variables(variables: Any) -> None:
    if not isinstance(variables, Mapping) or PARAMS not in variables:
        raise ValueError(
            f"`variables` must be a dict with a {PARAMS!r} entry, as returned by init; "
            f"got {type(variables).__name__}"
            + (f" with keys {sorted(variables)}" if isinstance(variables, Mapping) else "")
        )


def from_linen(module: nn.Module) -> ModelFns:
    """Wraps a Flax Linen module called as ``module(x, train=...)`` into :class:`ModelFns`.

    In train mode every non-parameter collection present in ``variables`` is mutable and its
    updated value is returned (the new ``batch_stats`` for batch norm); ``rng`` is passed as the
    ``'dropout'`` RNG stream.

    Args:
        module: an unbound Linen module, e.g. from :func:`get_model`.

    Returns:
        The module's :class:`ModelFns`.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"`module` must be a flax.linen.Module, got {type(module).__name__}")

    def init(prng_key: jax.Array, sample_inputs: jax.Array) -> dict:
        return flax.core.unfreeze(module.init(prng_key, sample_inputs, train=False))

    def apply(
        variables: Mapping[str, Any],
        inputs: jax.Array,
        train: bool,
        rng: jax.Array | None = None,
    ) -> tuple[jax.Array, dict]:
        train = _static_train_flag(train)
        _check_variables(variables)
        rngs = None if rng is None else {"dropout": rng}
        state = _non_param_collections(variables)
        if not train or not state:
            logits = module.apply(variables, inputs, train=train, rngs=rngs)
            return logits, state
        logits, new_state = module.apply(
            variables, inputs, train=True, rngs=rngs, mutable=list(state)
        )
        return logits, flax.core.unfreeze(new_state)

    return ModelFns(init=init, apply=apply)


def _path_key(path: tuple[Any, ...]) -> tuple[str, ...]:
    # Checkpoint round trips turn integer path entries (list indices) into strings.
    return tuple(str(entry) for entry in path)


def _state_from_pure_dict(template: nnx.State, values: Any, collection: str) -> nnx.State:
    """Puts the arrays of ``values`` into the variables of ``template``, matched by path."""
    if not isinstance(values, Mapping):
        raise ValueError(
            f"`variables[{collection!r}]` must be a nested dict, got {type(values).__name__}"
        )
    flat_values = {
        _path_key(path): value
        for path, value in traverse_util.flatten_dict(dict(values)).items()
    }
    flat_state = []
    for path, variable in nnx.to_flat_state(template):
        key = _path_key(path)
        if key not in flat_values:
            raise ValueError(
                f"`variables[{collection!r}]` has no entry for {'/'.join(key)!r}; "
                "it must come from this model's init"
            )
        flat_state.append((path, variable.replace(flat_values[key])))
    return nnx.from_flat_state(flat_state)


def _split_nnx(module: nnx.Module) -> tuple[nnx.GraphDef, list[nnx.State]]:
    graphdef, *states = nnx.split(module, *(filter_ for _, filter_ in NNX_COLLECTIONS))
    return graphdef, states


def _pure_variables(states: list[nnx.State]) -> dict:
    """The variables dict of split NNX states: a pure nested dict per non-empty collection."""
    variables = {}
    for (name, _), state in zip(NNX_COLLECTIONS, states):
        pure = nnx.to_pure_dict(state)
        if pure or name == PARAMS:
            variables[name] = pure
    return variables


def _reseed_dropout(module: nnx.Module, rng: jax.Array) -> None:
    # NNX dropout draws from the 'dropout' stream and falls back to 'default' when a module was
    # built with a single seed, so both are reseeded (with independent keys).
    dropout_key, default_key = jax.random.split(rng)
    nnx.reseed(module, dropout=dropout_key, default=default_key)


def from_nnx(module_or_factory: nnx.Module | Callable[[nnx.Rngs], nnx.Module]) -> ModelFns:
    """Wraps a Flax NNX module into :class:`ModelFns` through ``nnx.split`` / ``nnx.merge``.

    The module is called as ``module(inputs)``; ``apply`` merges a fresh copy from the given
    variables and switches it with ``.train()`` / ``.eval()`` first, so the wrapped module is
    never mutated. The variables dict holds pure nested dicts of arrays (paths as in
    ``nnx.to_pure_dict``), one per non-empty group of :data:`NNX_COLLECTIONS`: ``'params'``
    (``nnx.Param``), ``'batch_stats'`` (``nnx.BatchStat``), ``'rng_state'`` (the keys and
    counters of ``nnx.Rngs`` streams held by e.g. ``nnx.Dropout``) and ``'other_state'``
    (any other variable). In train mode every group but ``'params'`` is returned updated, so
    dropout masks change from step to step even without ``rng``; a given ``rng`` reseeds the
    ``'dropout'`` and ``'default'`` streams first.

    Args:
        module_or_factory: either a factory ``f(rngs: nnx.Rngs) -> nnx.Module`` (``init(key, x)``
            builds it with ``nnx.Rngs(key)``), or a built module (``init`` returns its current
            state and ignores the key). ``sample_inputs`` is not used, since NNX modules are
            built with their shapes.

    Returns:
        The module's :class:`ModelFns`.
    """
    if isinstance(module_or_factory, nnx.Module):
        built_module = module_or_factory
        graphdef, templates = _split_nnx(built_module)

        def init(prng_key: jax.Array, sample_inputs: jax.Array) -> dict:
            return _pure_variables(_split_nnx(built_module)[1])

    elif callable(module_or_factory):
        factory = module_or_factory

        def build_module(rngs: nnx.Rngs) -> nnx.Module:
            module = factory(rngs)
            if not isinstance(module, nnx.Module):
                raise TypeError(
                    "`module_or_factory` must return an nnx.Module when called with nnx.Rngs, "
                    f"got {type(module).__name__}"
                )
            return module

        # Structure only: nothing is allocated or initialised.
        graphdef, templates = _split_nnx(nnx.eval_shape(lambda: build_module(nnx.Rngs(0))))

        def init(prng_key: jax.Array, sample_inputs: jax.Array) -> dict:
            return _pure_variables(_split_nnx(build_module(nnx.Rngs(prng_key)))[1])

    else:
        raise TypeError(
            "`module_or_factory` must be an nnx.Module or a callable f(rngs) -> nnx.Module, "
            f"got {type(module_or_factory).__name__}"
        )

    stateful_collections = [
        name
        for (name, _), template in zip(NNX_COLLECTIONS, templates)
        if name != PARAMS and nnx.to_flat_state(template)
    ]

    def apply(
        variables: Mapping[str, Any],
        inputs: jax.Array,
        train: bool,
        rng: jax.Array | None = None,
    ) -> tuple[jax.Array, dict]:
        train = _static_train_flag(train)
        _check_variables(variables)
        states = [
            _state_from_pure_dict(template, variables.get(name, {}), name)
            for (name, _), template in zip(NNX_COLLECTIONS, templates)
        ]
        module = nnx.merge(graphdef, *states)
        if train:
            module.train()
        else:
            module.eval()
        if rng is not None:
            _reseed_dropout(module, rng)
        logits = module(inputs)
        if not train:
            return logits, _non_param_collections(variables)
        new_variables = _pure_variables(_split_nnx(module)[1])
        return logits, {name: new_variables.get(name, {}) for name in stateful_collections}

    return ModelFns(init=init, apply=apply)


def create_model_fns(
    name: str, num_classes: int, *, dtype: Any = "float32", **kwargs: Any
) -> ModelFns:
    """:func:`get_model` followed by :func:`from_linen`; arguments as for :func:`get_model`."""
    return from_linen(get_model(name, num_classes, dtype=dtype, **kwargs))


def count_params(variables: Mapping[str, Any]) -> int:
    """Number of scalar parameters in ``variables['params']`` (other collections not counted).

    Works on arrays and on ``jax.ShapeDtypeStruct`` leaves (from ``jax.eval_shape(init, ...)``),
    so large models can be counted without allocating them.
    """
    _check_variables(variables)
    return sum(math.prod(np.shape(leaf)) for leaf in jax.tree.leaves(variables[PARAMS]))


@contextlib.contextmanager
def submodule_inputs(name: str) -> Iterator[list]:
    """Within the block, the first positional input of every ``__call__`` of the Linen submodule
    named ``name`` is appended to the yielded list (method interception): the penultimate
    features when ``name`` is the output layer."""
    found: list = []

    def interceptor(next_fun, args, kwargs, context):
        if context.module.name == name and context.method_name == "__call__":
            found.append(args[0])
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(interceptor):
        yield found
