"""The linear maps of dense and convolution layers, and their singular values.

Ebrahimpour Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for Implicitly
Linear Layers", AISTATS 2024 (arXiv:2402.16017; code ``Ali-E/FastClip``). These are the numerics
behind the FastClip Optax transform :func:`jaxunlearn.transforms.clip_spectral_norm`, kept apart
from it because they are not gradient transformations:

- :mod:`~jaxunlearn.spectral.linear_map`: :class:`LayerSpec` (what fixes a layer's map: input
  shape, strides, padding, dilation) and :func:`apply_linear`;
- :mod:`~jaxunlearn.spectral.power_qr`: the paper's PowerQR (block power iteration through the
  forward pass and its transpose) and :func:`spectral_norm`;
- :mod:`~jaxunlearn.spectral.layer_shapes`: :func:`record_layer_shapes` and
  :func:`record_batch_norms` from one traced call of a Flax model, :func:`layer_spectral_norms`;
- :mod:`~jaxunlearn.spectral.clipping`: FastClip's per-layer clipping step, tracking between
  steps, and the batch-norm clamp;
- :mod:`~jaxunlearn.spectral.arguments`: the transform's argument checks and layer-path lookups.
"""

from jaxunlearn.spectral.layer_shapes import (
    LayerSpec,
    apply_linear,
    layer_spectral_norms,
    record_batch_norms,
    record_layer_shapes,
    spectral_norm,
)

__all__ = [
    "LayerSpec",
    "apply_linear",
    "layer_spectral_norms",
    "record_batch_norms",
    "record_layer_shapes",
    "spectral_norm",
]
