"""Stacking M models' unlearning setups on a model axis, and one Optax update for chains that
close over per-model arrays (used by :func:`jaxunlearn.methods.unlearn_many`).

A chain built per model (SalUn's saliency mask: :func:`~jaxunlearn.transforms.static_mask` of the
model's own gradient) is a different Python object per model. Each model's ``tx.update`` is traced
to a jaxpr with the arguments the unlearning step passes; when the M programs agree up to their
array constants, the constants that differ are stacked into the vmapped optimizer state
(:class:`PerModelConstantsState`) and one update evaluates the shared program
(``jax.extend.core.jaxpr_as_fun``) with each model's constants.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import jax
import jax.extend.core as jax_extend_core
import jax.numpy as jnp
import numpy as np
import optax


class PerModelConstantsState(NamedTuple):
    """Optax state of a chain whose update closed over per-model arrays.

    Attributes:
      constants: the arrays (leading model axis when vmapped) the chain closed over that differ
        between models, in the order of the traced update's constants.
      inner: the chain's own state.
    """

    constants: tuple
    inner: Any


class _NotVmappable(Exception):
    """The M runs do not fit one vmapped program (found after ``prepare``)."""


def _stack(trees: Sequence[Any], what: str) -> Any:
    """Stack pytrees along a new leading axis, or raise :class:`_NotVmappable` naming ``what``."""
    structure = jax.tree.structure(trees[0])
    shapes = [(np.shape(leaf), jnp.result_type(leaf)) for leaf in jax.tree.leaves(trees[0])]
    for index, tree in enumerate(trees[1:], start=1):
        if (jax.tree.structure(tree) != structure or
                [(np.shape(leaf), jnp.result_type(leaf)) for leaf in jax.tree.leaves(tree)]
                != shapes):
            raise _NotVmappable(f"{what} of model {index} differs in structure or shape from "
                                "model 0's")
    return jax.tree.map(lambda *leaves: jnp.stack([jnp.asarray(leaf) for leaf in leaves]), *trees)


def _per_model_or_shared(values: Sequence[Any], default: Any, what: str) -> tuple[Any, int | None]:
    """``(shared, None)`` when no model replaces ``default``, else ``(stacked, 0)``."""
    if all(value is None for value in values):
        return default, None
    return _stack([default if value is None else value for value in values], what), 0


def _same_constant(first: Any, second: Any) -> bool:
    if first is second:
        return True
    if np.shape(first) != np.shape(second) or jnp.result_type(first) != jnp.result_type(second):
        return False
    if jax.dtypes.issubdtype(jnp.result_type(first), jax.dtypes.prng_key):
        first, second = jax.random.key_data(first), jax.random.key_data(second)
    return bool(np.array_equal(np.asarray(first), np.asarray(second)))


def _update_arguments(step_builder, tx, arguments) -> tuple:
    """The abstract ``(updates, state, params, extra_args)`` the step hands ``tx.update``."""
    recorded = []

    def update(updates, state, params=None, **extra):
        recorded.append(jax.tree.map(
            lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype),
            (updates, state, params, extra)))
        return tx.update(updates, state, params, **extra)

    jax.eval_shape(step_builder(optax.GradientTransformationExtraArgs(tx.init, update)),
                   *arguments)
    return recorded[0]


def _shared_transform(txs, opt_states, step_builder, arguments):
    """One Optax update for all models, and the models' stacked optimizer states.

    Each model's ``tx.update`` is traced with the arguments the step passes; the programs must
    agree up to array constants. Constants equal for all models stay closed over; the others
    are stacked into :class:`PerModelConstantsState` and read back by the common update.
    """
    stacked_states = _stack(opt_states, "the optimizer state")
    if len(txs) == 1:
        return txs[0], stacked_states
    abstract = _update_arguments(step_builder, txs[0], arguments)
    traced = [jax.make_jaxpr(lambda u, s, p, e, tx=tx: tx.update(u, s, p, **e),
                             return_shape=True)(*abstract) for tx in txs]
    program = str(traced[0][0].jaxpr)
    if any(str(closed.jaxpr) != program for closed, _ in traced[1:]):
        raise _NotVmappable("the add-ons' update programs differ between models (a transform "
                            "closes over per-model values that are not arrays)")
    constants = [closed.consts for closed, _ in traced]
    varying = [index for index in range(len(constants[0]))
               if not all(_same_constant(c[index], constants[0][index]) for c in constants[1:])]
    if not varying:
        return txs[0], stacked_states
    jaxpr, shared = traced[0][0].jaxpr, list(constants[0])
    in_tree, out_tree = jax.tree.structure(abstract), jax.tree.structure(traced[0][1])

    def update_fn(updates, state, params=None, **extra):
        leaves, tree = jax.tree.flatten((updates, state.inner, params, extra))
        if tree != in_tree:
            raise ValueError(f"per-model constants: update called with {tree}, traced with "
                             f"{in_tree}")
        values = list(shared)
        for index, value in zip(varying, state.constants):
            values[index] = value
        program = jax_extend_core.jaxpr_as_fun(jax_extend_core.ClosedJaxpr(jaxpr, values))
        new_updates, inner = jax.tree.unflatten(out_tree, program(*leaves))
        return new_updates, PerModelConstantsState(state.constants, inner)

    def init_fn(params):
        raise NotImplementedError("the per-model states are built by unlearn_many")

    per_model = tuple(_stack([c[index] for c in constants], "a closed-over constant")
                      for index in varying)
    return (optax.GradientTransformationExtraArgs(init_fn, update_fn),
            PerModelConstantsState(per_model, stacked_states))
