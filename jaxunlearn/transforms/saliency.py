"""SalUn's weight-saliency mask and the element-wise static mask that applies it.

Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency" (ICLR 2024)
restrict unlearning to the weights with the largest forget-loss gradient. The mask is fixed before
unlearning starts; :func:`static_mask` applies it inside an ``optax.chain``.
"""

from __future__ import annotations

from typing import Any

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


def static_mask(mask: Any) -> optax.GradientTransformationExtraArgs:
    """Multiply the update element-wise by a fixed mask (masked coordinates become −0.0).

    ``optax.masked`` and ``optax.freeze`` act on whole leaves; this acts on elements, as SalUn's
    weight-saliency mask needs. Put it **last** in the chain, after weight decay and momentum:
    ``optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.01, momentum=0.9),
    static_mask(m))`` never moves a masked weight. Masking only the gradient lets weight decay
    and momentum move them (SalUn issue #32).

    Args:
      mask: pytree like the params, of booleans or of numbers (a weight per coordinate; 0
        freezes the coordinate).

    Returns:
      A ``GradientTransformationExtraArgs`` with an empty state.

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

    def init_fn(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        if jax.tree_util.tree_structure(updates) != treedef:
            structure = jax.tree_util.tree_structure(updates)
            raise ValueError(f"mask has structure {treedef}, updates have {structure}")

        def apply(m, u):
            if m.shape != u.shape:
                raise ValueError(f"mask leaf of shape {m.shape} for an update of shape {u.shape}")
            if m.dtype == bool:
                return masked_where(m, u)
            return masked_where(m != 0, u * m.astype(u.dtype))

        return jax.tree_util.tree_map(apply, mask, updates), state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
