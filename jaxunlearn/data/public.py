"""Sampling a public set with a controlled distribution shift from a pool of labelled examples.

Some unlearning methods use data that is neither in the training set nor in the test set used
for evaluation ("public" data). Two knobs shift its distribution away from the pool's:

* class skew `s >= 0`: class c (of C) is drawn with probability
  `q_c = n_c * w_c / sum_j n_j * w_j`, where `n_c` is the number of pool examples of class c and
  `w_c = exp(-s * c / (C - 1))` (`w_c = 1` when C == 1). `s = 0` keeps the pool's proportions;
  larger `s` leaves fewer examples of high-index classes (class C-1 is down-weighted by `e^-s`
  relative to class 0).
* corruption `sigma >= 0`: i.i.d. Gaussian noise of standard deviation `sigma` (in normalised
  input units) is added to every input value.
"""

from __future__ import annotations

import numpy as np


def class_skew_weights(num_classes: int, class_skew: float) -> np.ndarray:
    """`w_c = exp(-class_skew * c / (num_classes - 1))` for c in [0, num_classes), float64."""
    if num_classes == 1:
        return np.ones((1,), dtype=np.float64)
    classes = np.arange(num_classes, dtype=np.float64)
    return np.exp(-class_skew * classes / (num_classes - 1))


def allocate_class_counts(available: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """How many examples of each class a sample of `size` takes, so that shares follow `q_c`.

    The ideal count of class c is `size * q_c` with `q_c` proportional to
    `available[c] * weights[c]`. A class whose ideal count exceeds what it has contributes all its
    examples and the remainder is shared among the other classes in the same proportions
    (repeated until no class overflows). Fractional counts are then rounded with the largest
    remainder method (ties go to the lower class index), so the counts sum to `size` exactly.

    Args:
      available: int array (C,), examples of each class in the pool.
      weights: positive float array (C,), the class weights `w_c`.
      size: the sample size, at most `available.sum()`.

    Returns:
      int64 array (C,) of counts with `0 <= counts <= available` and `counts.sum() == size`.
    """
    available = np.asarray(available, dtype=np.int64)
    if size > available.sum():
        raise ValueError(f"size {size} exceeds the {int(available.sum())} available examples")
    ideal = np.zeros(available.shape, dtype=np.float64)
    open_classes = available > 0
    remaining = float(size)
    while open_classes.any():
        mass = np.where(open_classes, available * weights, 0.0)
        share = remaining * mass / mass.sum()
        overflowing = open_classes & (share >= available)
        if not overflowing.any():
            ideal[open_classes] = share[open_classes]
            break
        ideal[overflowing] = available[overflowing]
        remaining -= float(available[overflowing].sum())
        open_classes &= ~overflowing
    counts = np.minimum(np.floor(ideal).astype(np.int64), available)
    missing = size - int(counts.sum())
    if missing > 0:
        remainders = np.where(counts < available, ideal - counts, -np.inf)
        order = np.argsort(-remainders, kind="stable")
        counts[order[:missing]] += 1
    return counts


def sample_public_indices(
    labels: np.ndarray,
    num_classes: int,
    size: int,
    class_skew: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Chooses `size` distinct pool positions whose class shares follow the class skew.

    Per-class counts come from `allocate_class_counts`; within each class the examples are drawn
    uniformly without replacement, class by class in index order, from `rng`.

    Args:
      labels: int array (n,) of the pool's labels in [0, num_classes).
      num_classes: C.
      size: how many positions to choose, 1 <= size <= n.
      class_skew: s >= 0 (see the module docstring).
      rng: the random generator.

    Returns:
      Sorted int64 positions into the pool.
    """
    available = np.bincount(labels, minlength=num_classes)
    counts = allocate_class_counts(available, class_skew_weights(num_classes, class_skew), size)
    chosen = []
    for label in range(num_classes):
        if counts[label]:
            members = np.flatnonzero(labels == label)
            chosen.append(rng.choice(members, size=int(counts[label]), replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def corrupt_inputs(inputs: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """Returns `inputs + noise_std * N(0, 1)` as a new float32 array of the same shape."""
    noise = rng.standard_normal(inputs.shape, dtype=np.float32)
    noise *= np.float32(noise_std)
    return (inputs + noise).astype(np.float32, copy=False)
