"""Data parallelism over devices with a ``jax.sharding.Mesh``.

One mesh axis, ``"data"``, spans the devices; the batch axis of every batch is sharded over it and
everything else (parameters, optimizer state, the device-resident dataset) is replicated. The
same code runs on one CPU, one GPU or several; XLA inserts the gradient all-reduce.
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


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Put every leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, replicated(mesh))


def check_divisible(batch_size: int, mesh: Mesh, name: str = "batch_size") -> None:
    """Raise a ``ValueError`` naming ``name`` unless the batch splits evenly over the devices."""
    if batch_size % mesh.size:
        raise ValueError(
            f"{name}={batch_size} must be divisible by the number of devices ({mesh.size})"
        )
