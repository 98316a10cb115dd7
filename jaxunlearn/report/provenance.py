"""What produced a result: package versions and devices, recorded in every result's JSON."""

from __future__ import annotations

import importlib.metadata
import platform

import jax

_PACKAGES = ("jaxunlearn", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "chex", "numpy")


def environment_info() -> dict:
    """Python and package versions, JAX backend, device kind and count."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    devices = jax.devices()
    return {
        "python": platform.python_version(),
        "packages": versions,
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "process_count": jax.process_count(),
    }
