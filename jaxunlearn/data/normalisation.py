"""Per-channel statistics and the `(x / divisor - mean) / std` normalisation applied by the loaders.

Statistics are accumulated in float64 over chunks of examples, so normalising 50,000 CIFAR images
never builds a float64 copy of the whole array.
"""

from __future__ import annotations

import numpy as np

# Published per-channel statistics of each training split, for pixels scaled to [0, 1].
KNOWN_STATISTICS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "svhn_cropped": ((0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970)),
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
}

_CHUNK_EXAMPLES = 4096


def channel_statistics(
    inputs: np.ndarray, *, divisor: float = 1.0, per_channel: bool = True
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and (population) standard deviation of `inputs / divisor`.

    Args:
      inputs: array of shape (n, ..., C); the last axis is the channel axis.
      divisor: the raw values are divided by it first (255 for uint8 pixels).
      per_channel: one statistic per channel if True, else a single global statistic.

    Returns:
      `(mean, std)`, tuples of C values (or of one value when `per_channel` is False).

    Raises:
      ValueError: if `inputs` is empty or a channel is constant (its std would be 0).
    """
    if inputs.shape[0] == 0:
        raise ValueError("inputs must hold at least one example to compute statistics")
    channels = inputs.shape[-1] if per_channel else 1
    total = np.zeros(channels, dtype=np.float64)
    total_squares = np.zeros(channels, dtype=np.float64)
    for start in range(0, inputs.shape[0], _CHUNK_EXAMPLES):
        chunk = inputs[start : start + _CHUNK_EXAMPLES].astype(np.float64) / divisor
        chunk = chunk.reshape(-1, channels)
        total += chunk.sum(axis=0)
        total_squares += np.square(chunk).sum(axis=0)
    count = inputs.size / channels
    mean = total / count
    # E[x^2] - E[x]^2 is accurate enough in float64 for values of order 1.
    variance = np.maximum(total_squares / count - np.square(mean), 0.0)
    std = np.sqrt(variance)
    if np.any(std <= 0.0):
        raise ValueError(f"inputs have a constant channel (std = 0); cannot normalise: std={std}")
    return tuple(float(value) for value in mean), tuple(float(value) for value in std)


def normalise(
    inputs: np.ndarray,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    *,
    divisor: float = 1.0,
) -> np.ndarray:
    """Returns `(inputs / divisor - mean) / std` as float32, broadcasting over the last axis.

    Args:
      inputs: array of shape (n, ..., C), any numeric dtype (e.g. raw uint8 pixels).
      mean: one value or C values.
      std: one value or C values, all > 0.
      divisor: the raw values are divided by it first.

    Returns:
      A new float32 array with the shape of `inputs`.
    """
    mean_array = np.asarray(mean, dtype=np.float32)
    std_array = np.asarray(std, dtype=np.float32)
    result = np.empty(inputs.shape, dtype=np.float32)
    for start in range(0, inputs.shape[0], _CHUNK_EXAMPLES):
        chunk = inputs[start : start + _CHUNK_EXAMPLES].astype(np.float32)
        if divisor != 1.0:
            chunk /= np.float32(divisor)
        chunk -= mean_array
        chunk /= std_array
        result[start : start + _CHUNK_EXAMPLES] = chunk
    return result
