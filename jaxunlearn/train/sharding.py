"""Data parallelism over devices with a ``jax.sharding.Mesh``.

One mesh axis, ``"data"``, spans the devices; the batch axis of every batch is sharded over it and
everything else (parameters, optimizer state, the device-resident dataset) is replicated. The
same code runs on one CPU, one GPU or several; XLA inserts the gradient all-reduce.

After ``jax.distributed.initialize`` (:func:`jaxunlearn.distributed.initialize`) ``jax.devices()``
lists the devices of every process, so the mesh spans all hosts. Host data is then placed with
:func:`put`, which builds each process's addressable shards from its own copy (every process
loads the same data), and :func:`to_host` gathers arrays that other processes hold parts of.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-axis ``("data",)`` mesh over ``devices`` (default: all devices)."""
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices: need at least one device")
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding that keeps a full copy of an array on every device of ``mesh``."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """The sharding that splits an array's leading (batch) axis over the ``data`` axis."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def _put_leaf(leaf: Any, sharding: jax.sharding.Sharding) -> jax.Array:
    if isinstance(leaf, jax.Array):
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            data = _put_leaf(jax.random.key_data(leaf), sharding)
            return jax.random.wrap_key_data(data, impl=jax.random.key_impl(leaf))
        if not leaf.is_fully_addressable:  # already global: reshard among the same devices
            return jax.device_put(leaf, sharding)
    host = np.asarray(leaf)
    host = host.astype(jax.dtypes.canonicalize_dtype(host.dtype), copy=False)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def put(tree: Any, sharding: jax.sharding.Sharding) -> Any:
    """Place every leaf of ``tree`` with ``sharding``, in one process or across several.

    With one process this is ``jax.device_put``. When ``sharding`` spans devices of other
    processes, each process builds its addressable shards from its own copy of the leaf, so the
    leaf must hold the same value on every process (the same data, loaded deterministically);
    leaves that are already global arrays are resharded.
    """
    if sharding.is_fully_addressable:
        return jax.device_put(tree, sharding)
    return jax.tree_util.tree_map(lambda leaf: _put_leaf(leaf, sharding), tree)


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Put every leaf of ``tree`` on all devices of ``mesh`` (of all processes)."""
    return put(tree, replicated(mesh))


def to_host(tree: Any) -> Any:
    """Every leaf of ``tree`` as a NumPy array holding its full (global) value.

    Arrays split over devices of several processes are gathered with
    ``multihost_utils.process_allgather``, a collective: in a multi-process run every process
    must call this together. Replicated and single-process arrays are read locally.
    """

    leaves, treedef = jax.tree_util.tree_flatten(tree)
    split = [index for index, leaf in enumerate(leaves)
             if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable
             and not leaf.is_fully_replicated]
    if split:
        leaves = list(leaves)
        named = [i for i in split if isinstance(leaves[i].sharding, NamedSharding)]
        if named:  # one compiled all-gather for the whole tree, not one per leaf
            targets = [NamedSharding(leaves[i].sharding.mesh, PartitionSpec()) for i in named]
            gathered = jax.jit(lambda *xs: xs, out_shardings=tuple(targets))(
                *[leaves[i] for i in named])
            for i, value in zip(named, gathered):
                leaves[i] = value
        for i in split:
            if i not in named:
                from jax.experimental import multihost_utils

                leaves[i] = multihost_utils.process_allgather(leaves[i], tiled=True)
    return jax.tree_util.tree_unflatten(
        treedef, [np.asarray(jax.device_get(leaf)) for leaf in leaves])


def check_divisible(batch_size: int, mesh: Mesh, name: str = "batch_size") -> None:
    """Raise a ``ValueError`` naming ``name`` unless the batch splits evenly over the devices."""
    if batch_size % mesh.size:
        raise ValueError(
            f"{name}={batch_size} must be divisible by the number of devices ({mesh.size})"
        )
