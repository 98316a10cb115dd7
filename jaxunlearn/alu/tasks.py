"""Convex tasks for the certified experiments: binary logistic regression with ‖x‖ = 1, y = ±1.

The official Langevin-unlearning experiments use one-vs-one binary tasks (MNIST 3 vs 8, CIFAR-10
3 vs 8 features) with L2-normalised features and labels 2y − 1. Here the images come from
:mod:`jaxunlearn.data` (scikit-learn digits, Fashion-MNIST IDX files): the private set is a random
subset of the binary training split, the public set is drawn by
:func:`jaxunlearn.data.make_splits` from the rest of the training split (held out from the private
set), optionally shifted by its class skew s (class "positive" drawn e^{−s} times less often) or
additive Gaussian corruption of strength c (in normalised pixel units, before the features are
renormalised), and the test set is the binary test split.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from jaxunlearn.alu.objective import ALUData, alu_data

DATASETS = ("digits", "fashion_mnist")


@dataclasses.dataclass(frozen=True)
class ConvexTask:
    """A binary logistic-regression task: float32 features [n, d] with unit rows, int32 ±1 labels.

    Attributes:
      name: e.g. ``"digits 3v8"``.
      private_inputs / private_labels: the private training set (deletable).
      public_inputs / public_labels: the public set ([0, d] when there is none).
      test_inputs / test_labels: the held-out evaluation set.
      spec: what produced it (dataset, classes, sizes, shift, pooling, seed).
    """

    name: str
    private_inputs: np.ndarray
    private_labels: np.ndarray
    public_inputs: np.ndarray
    public_labels: np.ndarray
    test_inputs: np.ndarray
    test_labels: np.ndarray
    spec: dict

    @property
    def dim(self) -> int:
        return int(self.private_inputs.shape[1])

    @property
    def num_private(self) -> int:
        return int(self.private_labels.shape[0])

    @property
    def num_public(self) -> int:
        return int(self.public_labels.shape[0])

    def data(self, weighting: Any = "uniform", num_public: int | None = None) -> ALUData:
        """D_priv ∪ D_pub (the first ``num_public`` public rows; all by default) as ALUData."""
        count = self.num_public if num_public is None else int(num_public)
        if not 0 <= count <= self.num_public:
            raise ValueError(f"num_public must lie in [0, {self.num_public}], got {num_public}")
        if count == 0:
            return alu_data(self.private_inputs, self.private_labels, weighting=weighting)
        return alu_data(self.private_inputs, self.private_labels, self.public_inputs[:count],
                        self.public_labels[:count], weighting)


def unit_features(inputs: np.ndarray, pool: int = 1) -> np.ndarray:
    """Average-pool images by ``pool`` (p×p blocks), flatten and scale every row to ‖x‖ = 1."""
    inputs = np.asarray(inputs, np.float64)
    if pool > 1 and inputs.ndim == 4:
        n, height, width, channels = inputs.shape
        height, width = height - height % pool, width - width % pool
        inputs = inputs[:, :height, :width].reshape(
            n, height // pool, pool, width // pool, pool, channels).mean(axis=(2, 4))
    flat = inputs.reshape(len(inputs), -1)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    return (flat / np.maximum(norms, 1e-12)).astype(np.float32)


def _load(dataset: str, data_dir: str | None, digits_test_fraction: float):
    from jaxunlearn.data import load_digits, load_fashion_mnist

    if dataset == "digits":
        return load_digits(test_fraction=digits_test_fraction)
    if dataset == "fashion_mnist":
        return load_fashion_mnist(data_dir) if data_dir else load_fashion_mnist()
    raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


def _binary(dataset, negative, positive, name):
    from jaxunlearn.data import from_arrays

    labels = np.asarray(dataset.labels)
    keep = np.isin(labels, negative) | np.isin(labels, positive)
    binary = np.isin(labels[keep], positive).astype(np.int64)
    return from_arrays(np.asarray(dataset.inputs)[keep], binary, num_classes=2, name=name)


def binary_logistic_task(
    dataset: str = "digits",
    *,
    negative: Sequence[int] = (3,),
    positive: Sequence[int] = (8,),
    num_private: int | None = None,
    num_public: int = 0,
    public_class_skew: float = 0.0,
    public_corruption: float = 0.0,
    pool: int = 1,
    seed: int = 0,
    data_dir: str | None = None,
    digits_test_fraction: float = 0.25,
    datasets: tuple | None = None,
) -> ConvexTask:
    """A one-vs-one (or group-vs-group) logistic task with a public set from held-out data.

    Args:
      dataset: ``"digits"`` (scikit-learn) or ``"fashion_mnist"`` (IDX files; raises
        ``FileNotFoundError`` when they are not installed).
      negative / positive: original classes mapped to y = −1 / y = +1 (disjoint).
      num_private: size of the private set, drawn at random from the binary training split
        (default: all of it, leaving no public pool).
      num_public: size of the public set, drawn from the binary training rows not in the private
        set (``make_splits(..., public_source=...)``).
      public_class_skew: s ≥ 0, the public set holds class +1 with relative weight e^{−s}.
      public_corruption: c ≥ 0, std of Gaussian noise added to public pixels (normalised units).
      pool: average-pooling factor of the images before flattening (2 turns 28×28 into 14×14).
      seed: seed of the private draw and of ``make_splits``.
      data_dir: Fashion-MNIST directory (default: the Debian package's).
      digits_test_fraction: test share of the digits split.
      datasets: an already loaded ``(train, test)`` pair of ``dataset`` (to build several tasks
        from one load).

    Returns:
      :class:`ConvexTask`.
    """
    from jaxunlearn.data import make_splits

    negative, positive = tuple(int(c) for c in negative), tuple(int(c) for c in positive)
    if not negative or not positive or set(negative) & set(positive):
        raise ValueError(f"negative and positive must be non-empty disjoint class lists, got "
                         f"{negative} and {positive}")
    if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
        raise ValueError(f"pool must be an int >= 1, got {pool!r}")
    train, test = datasets if datasets is not None else _load(dataset, data_dir,
                                                              digits_test_fraction)
    name = f"{dataset} {'+'.join(map(str, negative))}v{'+'.join(map(str, positive))}"
    train, test = _binary(train, negative, positive, name), _binary(test, negative, positive, name)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    num_private = len(train) if num_private is None else int(num_private)
    if not 1 <= num_private <= len(train):
        raise ValueError(f"num_private must lie in [1, {len(train)}], got {num_private}")
    if num_public < 0 or num_public > len(train) - num_private:
        raise ValueError(f"num_public must lie in [0, {len(train) - num_private}] (the training "
                         f"rows left after the private draw), got {num_public}")
    private = train.subset(np.sort(order[:num_private]))
    public_inputs = np.zeros((0, *train.input_shape), np.float32)
    public_labels = np.zeros((0,), np.int64)
    if num_public > 0:
        pool_set = train.subset(np.sort(order[num_private:]))
        splits = make_splits(private, test, forget_indices=[0], public_size=num_public,
                             public_class_skew=public_class_skew,
                             public_corruption=public_corruption, public_source=pool_set,
                             seed=seed)
        # make_splits returns the public rows sorted by pool position; shuffle them so that a
        # prefix (ConvexTask.data(num_public=k)) is a random subset with the same shift
        shuffle = rng.permutation(num_public)
        public_inputs = np.asarray(splits.public.inputs)[shuffle]
        public_labels = np.asarray(splits.public.labels)[shuffle]

    def signed(labels):
        return (2 * np.asarray(labels, np.int64) - 1).astype(np.int32)

    return ConvexTask(
        name=name,
        private_inputs=unit_features(private.inputs, pool),
        private_labels=signed(private.labels),
        public_inputs=unit_features(public_inputs, pool) if num_public else np.zeros(
            (0, unit_features(private.inputs[:1], pool).shape[1]), np.float32),
        public_labels=signed(public_labels),
        test_inputs=unit_features(test.inputs, pool),
        test_labels=signed(test.labels),
        spec={"dataset": dataset, "negative": list(negative), "positive": list(positive),
              "num_private": num_private, "num_public": int(num_public),
              "public_class_skew": float(public_class_skew),
              "public_corruption": float(public_corruption), "pool": pool, "seed": seed},
    )
