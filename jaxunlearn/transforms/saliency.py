"""SalUn's weight-saliency mask and the element-wise static mask that applies it.

Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency" (ICLR 2024)
restrict unlearning to the weights with the largest forget-loss gradient. The mask is fixed before
unlearning starts; :func:`static_mask` applies it inside an ``optax.chain``, carrying it in its
state (:class:`StaticMaskState`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxunlearn.transforms._validation import check_number


def masked_where(keep: jax.Array, update: jax.Array) -> jax.Array:
    """``update`` where ``keep``, else −0.0.

    −0.0 is the additive identity of IEEE floats (x + (−0.0) = x bit for bit, ±0 included), so a
    masked coordinate stays bit-identical under ``optax.apply_updates``; ``where`` rather than a
    product keeps it so even where the update is not finite.
    """
    return jnp.where(keep, update, jnp.full_like(update, -0.0))


def saliency_mask(grads: Any, keep_fraction: float = 0.5) -> Any:
    """SalUn's weight-saliency mask: the top ``keep_fraction`` of |g| over all leaves at once.

    Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency" (ICLR
    2024): the weight saliency map m_S = 𝟙[|∇ℓ_f(θ_0)| ≥ γ], with γ the quantile that keeps
    ``keep_fraction`` of the weights ranked globally, as their ``generate_mask.py`` does (it keeps
    ranks < int(N · fraction)). ``grads`` is typically Σ_batches ∇(−CE_f) at θ_0.

    Args:
      grads: pytree of gradients (N coordinates in all).
      keep_fraction: in (0, 1]; exactly ``int(N * keep_fraction)`` coordinates are kept. Ties
        in |g| are broken by position (leaf order of ``jax.tree_util``, then row-major), first
        kept.

    Returns:
      A pytree of booleans like ``grads``.

    Example:
      >>> import jax.numpy as jnp
      >>> mask = saliency_mask({"a": jnp.array([0.1, -3.0]), "b": jnp.array([2.0, 0.2])}, 0.5)
      >>> mask["a"].tolist(), mask["b"].tolist()
      ([False, True], [True, False])
    """
    check_number(keep_fraction, "keep_fraction", minimum=0.0, strict=True, maximum=1.0)
    leaves, treedef = jax.tree_util.tree_flatten(grads)
    if not leaves:
        raise ValueError("grads has no leaves")
    flat = jnp.concatenate([jnp.abs(jnp.ravel(leaf)).astype(jnp.float32) for leaf in leaves])
    keep = int(flat.size * keep_fraction)
    order = jnp.argsort(-flat, stable=True)
    flat_mask = jnp.zeros(flat.size, bool).at[order[:keep]].set(True)
    pieces, start = [], 0
    for leaf in leaves:
        pieces.append(flat_mask[start:start + leaf.size].reshape(leaf.shape))
        start += leaf.size
    return jax.tree_util.tree_unflatten(treedef, pieces)


class StaticMaskState(NamedTuple):
    """State of :func:`static_mask`: the mask itself.

    The mask is a per-model constant, so it lives in the state rather than in the update's
    closure: the update is then one program for every mask with the same uniform leaves, and M
    models' states stacked on a leading axis ``jax.vmap`` through it
    (:func:`jaxunlearn.methods.unlearn_many`).

    Attributes:
      mask: pytree like the params, of booleans or of finite numbers.
    """

    mask: Any


def static_mask(mask: Any) -> optax.GradientTransformationExtraArgs:
    """Multiply the update element-wise by a fixed mask (masked coordinates become −0.0).

    ``optax.masked`` and ``optax.freeze`` act on whole leaves; this acts on elements, as SalUn's
    weight-saliency mask needs. Put it **last** in the chain, after weight decay and momentum:
    ``optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.01, momentum=0.9),
    static_mask(m))`` never moves a masked weight. Masking only the gradient lets weight decay
    and momentum move them (SalUn issue #32).

    ``init`` puts the mask into the state (:class:`StaticMaskState`) and ``update`` reads it from
    there, so masks that differ only in their mixed leaves share one update program. A leaf
    whose elements are all equal (all kept, all frozen, one weight) is the exception: the update
    applies it as the constant it is, so that XLA simplifies it as it would any constant (an
    all-ones mask leaves the update bit for bit as it would be without the mask); the state's
    copy of such a leaf is not read.

    Args:
      mask: pytree like the params, of booleans or of numbers (a weight per coordinate; 0
        freezes the coordinate).

    Returns:
      A ``GradientTransformationExtraArgs`` with state :class:`StaticMaskState`.

    Raises:
      ValueError: ``mask`` without leaves, with leaves neither boolean nor numeric, or not
        finite; at ``update``, a mask whose structure or leaf shapes differ from the updates'.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = static_mask(jnp.array([True, False]))
      >>> out, _ = tx.update(jnp.array([0.5, 0.5]), tx.init(None))
      >>> out.tolist()
      [0.5, -0.0]
    """
    leaves, treedef = jax.tree_util.tree_flatten(mask)
    if not leaves:
        raise ValueError("mask has no leaves")
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    for leaf in leaves:
        if leaf.dtype != bool and not jnp.issubdtype(leaf.dtype, jnp.number):
            raise ValueError(f"mask leaves must be boolean or numeric, got dtype {leaf.dtype}")
        if leaf.dtype != bool and not bool(jnp.all(jnp.isfinite(leaf))):
            raise ValueError("mask must be finite")
    mask = jax.tree_util.tree_unflatten(treedef, leaves)
    # the uniform leaves, closed over as constants (None: read from the state)
    constants = tuple(leaf if leaf.size and bool(jnp.all(leaf == jnp.ravel(leaf)[0])) else None
                      for leaf in leaves)

    def init_fn(params: Any) -> StaticMaskState:
        del params
        return StaticMaskState(mask)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        state_leaves, state_treedef = jax.tree_util.tree_flatten(state.mask)
        structure = jax.tree_util.tree_structure(updates)
        if structure != treedef:
            raise ValueError(f"mask has structure {treedef}, updates have {structure}")
        if state_treedef != treedef:
            raise ValueError(f"state: its mask has structure {state_treedef}, the transform's "
                             f"{treedef}")
        update_leaves = jax.tree_util.tree_leaves(updates)
        masked = [_mask_leaf(state_leaf if constant is None else constant, update)
                  for constant, state_leaf, update in zip(constants, state_leaves, update_leaves)]
        return jax.tree_util.tree_unflatten(structure, masked), state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _mask_leaf(keep: jax.Array, update: jax.Array) -> jax.Array:
    """One leaf of :func:`static_mask`: ``update`` where ``keep`` is True or nonzero (times the
    weight), −0.0 elsewhere."""
    if keep.shape != update.shape:
        raise ValueError(f"mask leaf of shape {keep.shape} for an update of shape {update.shape}")
    if keep.dtype == bool:
        return masked_where(keep, update)
    return masked_where(keep != 0, update * keep.astype(update.dtype))
