"""The ALU objective over private and public data, and deletion of private rows.

Asymmetric Langevin Unlearning (Inane, Quirion, Dziugaite & Mitliagkas, ICML 2026) trains and
unlearns with the Langevin dynamics of Chien et al. (NeurIPS 2024) on D = D_priv ∪ D_pub, where
only private rows can ever be deleted. Only the abstract of the paper could be read; following the
project's reconstruction (alu.md §4.2) the objective is

    F_D(θ) = Σ_i a_i f(θ; d_i) + (m/2)‖θ‖²,
    a_i = 1/(n_priv + n_pub)                          weighting "uniform" (default)
    a_i = (1 − w)/n_priv (private), w/n_pub (public)  weighting w ∈ [0, 1)

so one replaced private row moves ∇F by at most 2M/(n_priv + n_pub), resp. 2M(1 − w)/n_priv
(per-example clipping to M), and n_pub = 0 is symmetric Langevin unlearning. The data live in an
:class:`ALUData` whose shapes never change: a deletion either **replaces** the rows (the official
code: random unit-norm points with random labels, n fixed) or **removes** them by giving them
weight 0 and renormalising, so learning, unlearning and retraining share one compiled program.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

ADJACENCIES = ("replace", "remove")


@struct.dataclass
class ALUData:
    """Private rows followed by public rows, with the weights a_i of the ALU objective.

    Attributes:
      inputs: [n, ...] float32, private rows first.
      labels: [n] labels (±1 for the convex logistic tasks, class indices otherwise).
      weights: [n] float32 a_i ≥ 0, summing to 1 (0 for removed rows).
      public: [n] bool, True for public rows (never deleted).
      active: [n] bool, False for removed private rows.
      weighting: ``"uniform"`` or the public weight w (static, not a pytree leaf).
    """

    inputs: jax.Array
    labels: jax.Array
    weights: jax.Array
    public: jax.Array
    active: jax.Array
    weighting: Any = struct.field(pytree_node=False, default="uniform")

    @property
    def num_private(self) -> int:
        """Active private rows."""
        return int(np.sum(np.asarray(self.active) & ~np.asarray(self.public)))

    @property
    def num_public(self) -> int:
        return int(np.sum(np.asarray(self.public)))

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def check_weighting(weighting: Any, name: str = "weighting") -> Any:
    """``"uniform"`` or a public weight w ∈ [0, 1); anything else raises ``ValueError``."""
    if isinstance(weighting, str):
        if weighting != "uniform":
            raise ValueError(f"{name} must be 'uniform' or a public weight in [0, 1), "
                             f"got {weighting!r}")
        return weighting
    if isinstance(weighting, bool) or not isinstance(weighting, numbers.Real) or not (
            0.0 <= float(weighting) < 1.0):
        raise ValueError(f"{name} must be 'uniform' or a public weight in [0, 1), "
                         f"got {weighting!r}")
    return float(weighting)


def example_weights(public: Any, active: Any, weighting: Any = "uniform") -> np.ndarray:
    """The a_i of the ALU objective (module docstring) as float32, summing to 1.

    Args:
      public: [n] bool, public rows.
      active: [n] bool, rows that are part of the dataset (removed private rows are False).
      weighting: ``"uniform"`` or the public weight w.
    """
    weighting = check_weighting(weighting)
    public = np.asarray(public, bool)
    active = np.asarray(active, bool) | public
    private = active & ~public
    if not private.any() and not public.any():
        raise ValueError("the dataset holds no active row")
    if weighting == "uniform":
        weights = active / active.sum()
    else:
        if public.sum() == 0 and weighting > 0:
            raise ValueError(f"weighting w = {weighting} gives weight to public data, but there "
                             "is no public row")
        if private.sum() == 0:
            raise ValueError("weighting w < 1 needs at least one private row")
        weights = np.where(private, (1.0 - weighting) / private.sum(), 0.0)
        if public.sum():
            weights = np.where(public, weighting / public.sum(), weights)
    return weights.astype(np.float32)


def alu_data(
    private_inputs: Any,
    private_labels: Any,
    public_inputs: Any = None,
    public_labels: Any = None,
    weighting: Any = "uniform",
) -> ALUData:
    """D = D_priv ∪ D_pub as an :class:`ALUData` (private rows first).

    Args:
      private_inputs / private_labels: [n_priv, ...] and [n_priv], n_priv ≥ 1.
      public_inputs / public_labels: [n_pub, ...] and [n_pub], or ``None`` (n_pub = 0: symmetric
        Langevin unlearning).
      weighting: ``"uniform"`` (a_i = 1/n for every row) or w ∈ [0, 1) (public mass w).

    Returns:
      The :class:`ALUData`.

    Example:
      >>> import numpy as np
      >>> data = alu_data(np.ones((2, 3)), np.ones(2), np.zeros((6, 3)), -np.ones(6))
      >>> data.weights.tolist() == [0.125] * 8, data.num_private, data.num_public
      (True, 2, 6)
    """
    weighting = check_weighting(weighting)
    private_inputs = np.asarray(private_inputs, np.float32)
    private_labels = np.asarray(private_labels)
    if private_inputs.shape[0] != private_labels.shape[0] or private_inputs.shape[0] == 0:
        raise ValueError(f"private_inputs and private_labels must hold the same number (>= 1) of "
                         f"rows, got {private_inputs.shape[0]} and {private_labels.shape[0]}")
    if (public_inputs is None) != (public_labels is None):
        raise ValueError("public_inputs and public_labels must be given together")
    if public_inputs is None:
        public_inputs = np.zeros((0, *private_inputs.shape[1:]), np.float32)
        public_labels = np.zeros((0,), private_labels.dtype)
    public_inputs = np.asarray(public_inputs, np.float32)
    public_labels = np.asarray(public_labels)
    if public_inputs.shape[1:] != private_inputs.shape[1:]:
        raise ValueError(f"public_inputs rows have shape {public_inputs.shape[1:]}, private rows "
                         f"{private_inputs.shape[1:]}")
    if public_inputs.shape[0] != public_labels.shape[0]:
        raise ValueError(f"public_inputs and public_labels must hold the same number of rows, got "
                         f"{public_inputs.shape[0]} and {public_labels.shape[0]}")
    inputs = np.concatenate([private_inputs, public_inputs])
    labels = np.concatenate([private_labels, public_labels.astype(private_labels.dtype)])
    public = np.concatenate([np.zeros(len(private_labels), bool),
                             np.ones(len(public_labels), bool)])
    active = np.ones(len(labels), bool)
    weights = example_weights(public, active, weighting)
    return ALUData(jnp.asarray(inputs), jnp.asarray(labels), jnp.asarray(weights),
                   jnp.asarray(public), jnp.asarray(active), weighting)


def replacement_rows(inputs: np.ndarray, labels: np.ndarray, count: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random rows as the official code draws them (``get_removed_data``): Gaussian
    inputs rescaled to the mean row norm of ``inputs`` (1 for the normalised convex tasks) and
    labels drawn uniformly from the distinct values of ``labels`` (±1 there)."""
    shape = inputs.shape[1:]
    noise = rng.standard_normal((count, *shape))
    flat = noise.reshape(count, -1)
    scale = np.mean(np.linalg.norm(inputs.reshape(len(inputs), -1), axis=1))
    noise = (flat / np.linalg.norm(flat, axis=1, keepdims=True) * scale).reshape(noise.shape)
    values = np.unique(labels)
    return noise.astype(np.float32), rng.choice(values, size=count).astype(labels.dtype)


def delete_private(
    data: ALUData,
    indices: Any,
    *,
    adjacency: str = "replace",
    seed: int | np.random.Generator = 0,
    replacement: tuple[Any, Any] | None = None,
) -> ALUData:
    """D′: the dataset after a deletion request for private rows ``indices``.

    Args:
      data: the current :class:`ALUData`.
      indices: positions of the rows to delete; each must be an active private row.
      adjacency: ``"replace"`` — the rows are overwritten (``replacement`` if given, else
        :func:`replacement_rows`), n is unchanged and a replace-S neighbour has sensitivity
        2SM·a; ``"remove"`` — the rows get weight 0 and the weights are renormalised.
      seed: seed (or Generator) of the random replacement rows.
      replacement: optional ``(inputs, labels)`` with one row per index.

    Returns:
      A new :class:`ALUData` of the same shapes.
    """
    if adjacency not in ADJACENCIES:
        raise ValueError(f"adjacency must be one of {ADJACENCIES}, got {adjacency!r}")
    indices = np.asarray(indices, np.int64).reshape(-1)
    public, active = np.asarray(data.public), np.asarray(data.active)
    if indices.size == 0:
        raise ValueError("indices must name at least one row to delete")
    if np.any(indices < 0) or np.any(indices >= len(data)):
        raise ValueError(f"indices must lie in [0, {len(data)})")
    if np.unique(indices).size != indices.size:
        raise ValueError("indices must be distinct")
    if np.any(public[indices]):
        raise ValueError("indices name public rows; only private rows can be deleted")
    if not np.all(active[indices]):
        raise ValueError("indices name rows that were already removed")
    if adjacency == "remove":
        active = active.copy()
        active[indices] = False
        weights = example_weights(public, active, data.weighting)
        return data.replace(weights=jnp.asarray(weights), active=jnp.asarray(active))
    inputs, labels = np.array(data.inputs), np.array(data.labels)
    if replacement is None:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        private = active & ~public
        new_inputs, new_labels = replacement_rows(inputs[private], labels[private], indices.size,
                                                  rng)
    else:
        new_inputs, new_labels = (np.asarray(a) for a in replacement)
        if new_inputs.shape != (indices.size, *inputs.shape[1:]) or new_labels.shape != (
                indices.size,):
            raise ValueError("replacement must hold one (input, label) row per index")
    inputs[indices], labels[indices] = new_inputs, new_labels
    return data.replace(inputs=jnp.asarray(inputs), labels=jnp.asarray(labels))


def alu_objective(loss_fn: Callable, params: Any, data: ALUData,
                  regularization: float = 0.0) -> jax.Array:
    """F_D(θ) = Σ_i a_i f(θ; d_i) + (m/2)‖θ‖² (no clipping: the function whose Gibbs measure
    ∝ exp(−F/σ²) the dynamics sample when no per-example gradient is clipped).

    Args:
      loss_fn: ``loss_fn(params, x, y) -> scalar``.
      params: parameter pytree.
      data: :class:`ALUData`.
      regularization: m ≥ 0.
    """
    losses = jax.vmap(lambda x, y: loss_fn(params, x, y))(data.inputs, data.labels)
    squared = sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(params))
    return jnp.sum(data.weights * losses) + 0.5 * regularization * squared
