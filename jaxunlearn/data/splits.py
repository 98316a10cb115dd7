"""Forget / retain / test / public splits of a dataset, deterministic given a seed.

The original model trains on all of `train`; unlearning removes `forget_set`; the reference model
retrains on `retain_set`; `test` is held out for evaluation; `public` is extra data, disjoint from
`test`, for the methods that use it. Splits save to JSON (indices plus the request) and reload
exactly against the same datasets.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Any

import numpy as np

from jaxunlearn.data import _split_arguments, _validation
from jaxunlearn.data.dataset import Dataset
from jaxunlearn.data.public import corrupt_inputs, sample_public_indices

_FORMAT = "jaxunlearn.splits"
_VERSION = 1


def _public_rng(seed: int) -> np.random.Generator:
    # A stream of its own, so the public draw does not depend on how the forget set was chosen.
    return np.random.default_rng([seed, 1])


def _corruption_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, 2])


def _describe(dataset: Dataset) -> dict[str, Any]:
    return {"name": dataset.name, "fingerprint": dataset.fingerprint(), "size": len(dataset)}


def _check_sorted_unique(indices: Any, size: int, name: str) -> np.ndarray:
    array = _validation.check_indices(indices, size, name)
    if np.any(np.diff(array) <= 0):
        raise ValueError(f"{name} must be sorted in increasing order")
    return array


def _check_positions(indices: Any, length: int, name: str) -> np.ndarray:
    """Sorted distinct positions into a pool of unknown size, one per row of a split."""
    array = _check_sorted_unique(indices, np.iinfo(np.int64).max, name)
    if array.shape != (length,):
        raise ValueError(f"{name} must have one entry per example ({length}), got {array.size}")
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class Splits:
    """The datasets of one unlearning experiment. Build with `make_splits` or `Splits.load`.

    Attributes:
      train: the full training set; the original model trains on it.
      test: the held-out test set, with any public examples removed.
      forget_indices: sorted int64 positions in `train` of the examples to forget.
      retain_indices: sorted int64 positions in `train` of all other examples.
      public: public data for methods that use it, disjoint from `test`, or None.
      spec: JSON-able record of the request: "kind" ("fraction", "classes" or "indices"), the
        forget argument, "seed", "public" settings (or None) and "datasets" (name, fingerprint
        and size of train, the original test set and any public source).
      test_indices: sorted positions of `test`'s rows in the original test set; None means `test`
        is the original test set.
      public_indices: sorted positions of `public`'s rows in the pool it was drawn from (the
        original test set or the public source); None when there is no public set.
    """

    train: Dataset
    test: Dataset
    forget_indices: np.ndarray
    retain_indices: np.ndarray
    public: Dataset | None = None
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)
    test_indices: np.ndarray | None = None
    public_indices: np.ndarray | None = None

    def __post_init__(self) -> None:
        _split_arguments.check_dataset(self.train, "train")
        _split_arguments.check_dataset(self.test, "test")
        if self.public is not None:
            _split_arguments.check_dataset(self.public, "public")
        if not isinstance(self.spec, dict):
            raise TypeError(f"spec must be a dict, got {type(self.spec).__name__}")
        size = len(self.train)
        forget = _check_sorted_unique(self.forget_indices, size, "forget_indices")
        retain = _check_sorted_unique(self.retain_indices, size, "retain_indices")
        if forget.size + retain.size != size or np.intersect1d(forget, retain).size:
            raise ValueError(
                "forget_indices and retain_indices must be disjoint and together cover "
                f"range({size})"
            )
        if self.test_indices is None:
            test_indices = np.arange(len(self.test), dtype=np.int64)
        else:
            test_indices = _check_positions(self.test_indices, len(self.test), "test_indices")
        public_indices = None
        if self.public_indices is not None:
            if self.public is None:
                raise ValueError("public_indices given without a public set")
            public_indices = _check_positions(
                self.public_indices, len(self.public), "public_indices"
            )
        for name, value in (
            ("forget_indices", forget),
            ("retain_indices", retain),
            ("test_indices", test_indices),
            ("public_indices", public_indices),
        ):
            object.__setattr__(self, name, None if value is None else _validation.read_only(value))

    @functools.cached_property
    def forget_set(self) -> Dataset:
        """The training examples to forget (computed once, then cached)."""
        return self.train.subset(self.forget_indices)

    @functools.cached_property
    def retain_set(self) -> Dataset:
        """The training examples to keep (computed once, then cached)."""
        return self.train.subset(self.retain_indices)

    def __repr__(self) -> str:
        return f"Splits({self.summary()})"

    def summary(self) -> dict[str, Any]:
        """Sizes of every split and the classes in the forget set.

        Returns:
          {"dataset", "kind", "train", "forget", "retain", "test", "public" (sizes; public is 0
          without a public set), "forget_classes" (sorted labels present in the forget set),
          "forget_class_counts" ({label: count})}.
        """
        labels, counts = np.unique(self.train.labels[self.forget_indices], return_counts=True)
        return {
            "dataset": self.train.name,
            "kind": self.spec.get("kind"),
            "train": len(self.train),
            "forget": int(self.forget_indices.size),
            "retain": int(self.retain_indices.size),
            "test": len(self.test),
            "public": 0 if self.public is None else len(self.public),
            "forget_classes": labels.tolist(),
            "forget_class_counts": dict(zip(labels.tolist(), counts.tolist())),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Writes the request and the indices as JSON (never pickle).

        The file holds `spec`, `forget_indices`, `test_indices` and `public_indices` (both into
        the original test set or public source); retain indices are the complement and arrays are
        rebuilt from the datasets by `Splits.load`.
        """
        spec = self.spec
        if "datasets" not in spec:
            # Built by hand: only a split whose test set is the original one can be described.
            full_test = np.array_equal(self.test_indices, np.arange(len(self.test)))
            if self.public is not None or not full_test:
                raise ValueError(
                    "splits with a public set or a reduced test set must come from make_splits "
                    "to be saved (spec lacks 'datasets')"
                )
            datasets = {"train": _describe(self.train), "test": _describe(self.test)}
            spec = {**spec, "datasets": datasets}
        record = {
            "format": _FORMAT,
            "version": _VERSION,
            "spec": spec,
            "forget_indices": self.forget_indices.tolist(),
            "test_indices": self.test_indices.tolist(),
            "public_indices": None if self.public_indices is None else self.public_indices.tolist(),
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(record, handle)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        train: Dataset,
        test: Dataset,
        *,
        public_source: Dataset | None = None,
    ) -> Splits:
        """Rebuilds saved splits exactly (including the seeded public corruption noise).

        Args:
          path: a file written by `Splits.save`.
          train: the same training set the splits were made from.
          test: the same original (full) test set.
          public_source: the public source, if the splits drew their public set from one.

        Raises:
          ValueError: if the file is not a splits file, or a dataset's size or fingerprint differs
            from the one recorded.
        """
        _split_arguments.check_dataset(train, "train")
        _split_arguments.check_dataset(test, "test")
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        if not isinstance(record, dict) or record.get("format") != _FORMAT:
            raise ValueError(f"path {os.fspath(path)!r} is not a saved Splits file")
        if record.get("version") != _VERSION:
            raise ValueError(
                f"path {os.fspath(path)!r} has unsupported version {record.get('version')}"
            )
        spec = record["spec"]
        datasets = spec["datasets"]
        public_spec = spec.get("public")
        uses_source = public_spec is not None and public_spec["source"] == "public_source"
        expected = {"train": train, "test": test}
        if uses_source:
            if public_source is None:
                raise ValueError("public_source must be given: the saved public set came from one")
            _split_arguments.check_dataset(public_source, "public_source")
            expected["public_source"] = public_source
        for name, dataset in expected.items():
            saved, actual = datasets[name], _describe(dataset)
            if (saved["size"], saved["fingerprint"]) != (actual["size"], actual["fingerprint"]):
                raise ValueError(
                    f"{name} does not match the saved splits: saved {saved['name']!r} with "
                    f"{saved['size']} examples and fingerprint {saved['fingerprint']}, got "
                    f"{actual['name']!r} with {actual['size']} examples and fingerprint "
                    f"{actual['fingerprint']}"
                )
        forget = _check_sorted_unique(record["forget_indices"], len(train), "forget_indices")
        public_indices = None
        if public_spec is not None:
            pool = public_source if uses_source else test
            public_indices = _check_sorted_unique(
                record["public_indices"], len(pool), "public_indices"
            )
        splits = _assemble(train, test, forget, public_source, public_indices, spec)
        if splits.test_indices.tolist() != record["test_indices"]:
            raise ValueError(
                f"path {os.fspath(path)!r} has test_indices inconsistent with its public set"
            )
        return splits


def _assemble(
    train: Dataset,
    test: Dataset,
    forget_indices: np.ndarray,
    public_source: Dataset | None,
    public_indices: np.ndarray | None,
    spec: dict[str, Any],
) -> Splits:
    """Builds the `Splits` from checked indices; shared by `make_splits` and `Splits.load`."""
    retain_indices = np.setdiff1d(np.arange(len(train), dtype=np.int64), forget_indices)
    test_indices = np.arange(len(test), dtype=np.int64)
    public = None
    public_spec = spec.get("public")
    if public_spec is not None:
        from_test = public_spec["source"] == "test"
        pool = test if from_test else public_source
        public = pool.subset(public_indices)
        if public_spec["corruption"] > 0.0:
            rng = _corruption_rng(spec["seed"])
            noisy = corrupt_inputs(public.inputs, public_spec["corruption"], rng)
            public = dataclasses.replace(public, inputs=noisy)
        if from_test:
            test_indices = np.setdiff1d(test_indices, public_indices)
            test = test.subset(test_indices)
    return Splits(
        train=train,
        test=test,
        forget_indices=forget_indices,
        retain_indices=retain_indices,
        public=public,
        spec=spec,
        test_indices=test_indices,
        public_indices=public_indices,
    )


def make_splits(
    train: Dataset,
    test: Dataset,
    *,
    forget_fraction: float | None = None,
    forget_classes: int | list[int] | None = None,
    forget_indices: Any = None,
    public_fraction: float | None = None,
    public_size: int | None = None,
    public_class_skew: float = 0.0,
    public_corruption: float = 0.0,
    public_source: Dataset | None = None,
    seed: int = 0,
) -> Splits:
    """Chooses the forget set (and optionally a public set), deterministically given `seed`.

    Give exactly one of:
      forget_fraction: a random `round(forget_fraction * len(train))` examples (Python rounding),
        drawn without replacement with `np.random.default_rng(seed)`; 0 < forget_fraction < 1.
      forget_classes: a class or list of distinct classes; forgets every train example with
        those labels (class-wise forgetting).
      forget_indices: explicit distinct positions in `train`.
    The forget set must be non-empty and leave a non-empty retain set.

    Public set (optional; give at most one of public_fraction / public_size):
      public_fraction: draw `round(public_fraction * len(pool))` examples, 0 < fraction < 1.
      public_size: draw this many examples, 1 <= public_size <= len(pool).
      The pool is the test set, and the drawn examples are removed from the returned test set so
      public and test are disjoint (at least one test example must remain); with
      `public_source` the pool is that dataset and the test set is left whole.
      public_class_skew: s >= 0. Class c of C is drawn with probability proportional to
        `n_c * exp(-s * c / (C - 1))`, `n_c` its count in the pool: 0 keeps the pool's class
        proportions (a stratified sample), larger values give fewer high-index classes. Counts
        per class are fixed first (see `public.allocate_class_counts`), then examples are drawn
        uniformly within each class, from `np.random.default_rng([seed, 1])`.
      public_corruption: sigma >= 0. Adds i.i.d. Gaussian noise of std sigma (normalised input
        units) to every public input value, drawn from `np.random.default_rng([seed, 2])`.
    seed: a non-negative integer.

    Every argument is checked before anything is drawn: a wrong type raises `TypeError`, an
    unusable value `ValueError`, each naming the argument.

    Returns:
      The `Splits`; `spec` records the request so `Splits.save`/`Splits.load` reproduce it.
    """
    _split_arguments.check_dataset(train, "train")
    _split_arguments.check_dataset(test, "test")
    _split_arguments.check_compatible(train, test, "test")
    if public_source is not None:
        _split_arguments.check_dataset(public_source, "public_source")
        _split_arguments.check_compatible(train, public_source, "public_source")
    seed = _validation.check_integer(seed, "seed", minimum=0)
    forget_request = _split_arguments.check_forget_request(
        train, forget_fraction, forget_classes, forget_indices
    )
    public_request = _split_arguments.check_public_request(
        test, public_source, public_fraction, public_size, public_class_skew, public_corruption
    )

    if forget_request.indices is None:
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(train), size=forget_request.count, replace=False)
        forget = np.sort(chosen).astype(np.int64)
    else:
        forget = forget_request.indices
    public_indices = None
    if public_request is not None:
        pool = test if public_request.from_test else public_source
        public_indices = sample_public_indices(
            pool.labels,
            pool.num_classes,
            public_request.size,
            public_request.class_skew,
            _public_rng(seed),
        )
    datasets = {"train": _describe(train), "test": _describe(test)}
    if public_source is not None:
        datasets["public_source"] = _describe(public_source)
    spec = {
        "kind": forget_request.kind,
        **forget_request.spec,
        "seed": seed,
        "public": None if public_request is None else public_request.spec,
        "datasets": datasets,
    }
    return _assemble(train, test, forget, public_source, public_indices, spec)
