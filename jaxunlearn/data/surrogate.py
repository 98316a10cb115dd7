"""Another dataset's images as surrogate ("out-of-distribution") public data for a task.

SCAR (Bonato et al., ECCV 2024) distils on images of another distribution (ImageNet images for
CIFAR) instead of the retain set; here any loadable dataset can play that part once its images
have the task's shape: :func:`resize_like` resamples them to the training images' height, width
and channels and standardises each channel with its own statistics, as every loader does.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxunlearn.data.dataset import Dataset
from jaxunlearn.data.normalisation import channel_statistics, normalise


def area_weights(size_in: int, size_out: int) -> np.ndarray:
    """The ``[size_out, size_in]`` matrix of area ("box") resampling in float64: output pixel j
    covers input interval [j·s, (j+1)·s), s = size_in / size_out, and averages the input pixels
    by their overlap with it. Rows sum to 1; an integer reduction is the block mean, an integer
    enlargement repeats each pixel."""
    scale = size_in / size_out
    starts = np.arange(size_out)[:, None] * scale
    lows = np.maximum(starts, np.arange(size_in)[None, :])
    highs = np.minimum(starts + scale, np.arange(size_in)[None, :] + 1)
    return np.maximum(highs - lows, 0.0) / scale


def resize_like(source: Dataset, like: Dataset, *, chunk: int = 4096) -> Dataset:
    """``source``'s images with ``like``'s input shape, standardised per channel.

    Height and width are resampled by area averaging (:func:`area_weights`); one channel is
    repeated to three, three are averaged to one. The result keeps ``source``'s labels (its
    classes are not ``like``'s: use it only where labels are not read, e.g. SCAR's surrogate
    distillation) and is named ``"<source>@HxWxC"``.

    Raises:
      ValueError: if either dataset is not (n, H, W, C) images, the channel counts are neither
        equal nor 1 and 3, or the class counts differ (a public set must share the task's).
    """
    for name, dataset in (("source", source), ("like", like)):
        if len(dataset.input_shape) != 3:
            raise ValueError(f"{name}: needs (n, H, W, C) images, got input shape "
                             f"{dataset.input_shape}")
    if source.num_classes != like.num_classes:
        raise ValueError(f"source has {source.num_classes} classes and like "
                         f"{like.num_classes}; a public set must have the task's class count")
    (h_in, w_in, c_in), (h_out, w_out, c_out) = source.input_shape, like.input_shape
    if c_in != c_out and {c_in, c_out} != {1, 3}:
        raise ValueError(f"source has {c_in} channels and like {c_out}; can only map 1 <-> 3")
    rows, cols = area_weights(h_in, h_out), area_weights(w_in, w_out)
    resized = np.empty((len(source), h_out, w_out, c_out), np.float32)
    for start in range(0, len(source), chunk):
        block = np.einsum("ih,nhwc,jw->nijc", rows, source.inputs[start:start + chunk], cols)
        if c_in == 1 and c_out == 3:
            block = np.repeat(block, 3, axis=-1)
        elif c_in == 3 and c_out == 1:
            block = block.mean(axis=-1, keepdims=True)
        resized[start:start + chunk] = block
    mean, std = channel_statistics(resized)
    return dataclasses.replace(
        source, inputs=normalise(resized, mean, std), mean=mean, std=std,
        name=f"{source.name}@{h_out}x{w_out}x{c_out}", augmentation=like.augmentation)
