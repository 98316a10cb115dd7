"""Behaviour of `make_splits` and `Splits`: determinism, coverage, public sets, save/load."""

import json

import numpy as np
import pytest

from jaxunlearn.data import Dataset, Splits, make_splits


def _dataset(n, num_classes=10, seed=0, labels=None, name="toy"):
    rng = np.random.default_rng(seed)
    if labels is None:
        labels = rng.permutation(np.arange(n) % num_classes)
    inputs = rng.normal(size=(n, 4, 4, 2)).astype(np.float32)
    return Dataset(inputs=inputs, labels=labels, num_classes=num_classes, name=name)


@pytest.fixture(scope="module")
def train():
    return _dataset(300, seed=0)


@pytest.fixture(scope="module")
def test():
    return _dataset(1000, seed=1)


def _assert_partition(splits, size):
    forget, retain = splits.forget_indices, splits.retain_indices
    assert forget.dtype == np.int64 and retain.dtype == np.int64
    assert np.all(np.diff(forget) > 0) and np.all(np.diff(retain) > 0)
    assert np.intersect1d(forget, retain).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([forget, retain])), np.arange(size))


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9, 0.0051])
def test_fraction_forgets_rounded_count_and_partitions(train, test, fraction):
    splits = make_splits(train, test, forget_fraction=fraction, seed=4)
    assert splits.forget_indices.size == round(fraction * 300)
    _assert_partition(splits, 300)
    np.testing.assert_array_equal(splits.forget_set.inputs, train.inputs[splits.forget_indices])
    np.testing.assert_array_equal(splits.retain_set.labels, train.labels[splits.retain_indices])
    assert splits.test is test and splits.public is None


def test_same_seed_same_indices_different_seed_different(train, test):
    first = make_splits(train, test, forget_fraction=0.2, public_size=50, seed=7)
    again = make_splits(train, test, forget_fraction=0.2, public_size=50, seed=7)
    other = make_splits(train, test, forget_fraction=0.2, public_size=50, seed=8)
    np.testing.assert_array_equal(first.forget_indices, again.forget_indices)
    np.testing.assert_array_equal(first.public_indices, again.public_indices)
    assert not np.array_equal(first.forget_indices, other.forget_indices)
    assert not np.array_equal(first.public_indices, other.public_indices)
    # The fraction draw follows numpy's generator for the given seed.
    expected = np.sort(np.random.default_rng(7).choice(300, size=60, replace=False))
    np.testing.assert_array_equal(first.forget_indices, expected)


def test_class_forgetting_selects_exactly_those_labels(train, test):
    splits = make_splits(train, test, forget_classes=[7, 2])
    expected = np.flatnonzero((train.labels == 2) | (train.labels == 7))
    np.testing.assert_array_equal(splits.forget_indices, expected)
    assert set(splits.forget_set.labels.tolist()) == {2, 7}
    assert not np.isin(splits.retain_set.labels, [2, 7]).any()
    _assert_partition(splits, 300)
    summary = splits.summary()
    assert summary["forget_classes"] == [2, 7]
    assert summary["forget"] + summary["retain"] == 300
    assert summary["forget_class_counts"] == {
        2: int(np.sum(train.labels == 2)), 7: int(np.sum(train.labels == 7))
    }
    single = make_splits(train, test, forget_classes=3)
    np.testing.assert_array_equal(single.forget_indices, np.flatnonzero(train.labels == 3))


def test_explicit_indices_are_sorted_and_kept(train, test):
    splits = make_splits(train, test, forget_indices=np.array([299, 4, 17], dtype=np.int32))
    np.testing.assert_array_equal(splits.forget_indices, [4, 17, 299])
    _assert_partition(splits, 300)
    assert splits.spec["kind"] == "indices"


def test_public_from_test_is_removed_from_test(train, test):
    splits = make_splits(train, test, forget_fraction=0.1, public_fraction=0.25, seed=2)
    assert len(splits.public) == 250 and len(splits.test) == 750
    assert np.intersect1d(splits.public_indices, splits.test_indices).size == 0
    np.testing.assert_array_equal(
        np.sort(np.concatenate([splits.public_indices, splits.test_indices])), np.arange(1000)
    )
    np.testing.assert_array_equal(splits.public.inputs, test.inputs[splits.public_indices])
    np.testing.assert_array_equal(splits.test.inputs, test.inputs[splits.test_indices])
    np.testing.assert_array_equal(splits.test.labels, test.labels[splits.test_indices])
    assert splits.summary()["public"] == 250 and splits.summary()["test"] == 750


def test_public_source_leaves_test_whole(train, test):
    source = _dataset(80, seed=5, name="extra")
    splits = make_splits(train, test, forget_fraction=0.1, public_size=80, public_source=source)
    assert splits.test is test and len(splits.public) == 80
    np.testing.assert_array_equal(splits.public.inputs, source.inputs)


def test_zero_skew_keeps_pool_proportions(train):
    labels = np.repeat(np.arange(4), [400, 300, 200, 100])
    pool = _dataset(1000, num_classes=4, labels=labels, seed=3)
    splits = make_splits(train_of(4), pool, forget_fraction=0.5, public_size=200)
    counts = np.bincount(splits.public.labels, minlength=4)
    np.testing.assert_array_equal(counts, [80, 60, 40, 20])


def train_of(num_classes):
    return _dataset(40, num_classes=num_classes, seed=9)


@pytest.mark.parametrize("skew", [1.0, 3.0])
def test_class_skew_shifts_proportions_towards_low_classes(train, test, skew):
    splits = make_splits(train, test, forget_fraction=0.1, public_size=200, public_class_skew=skew)
    counts = np.bincount(splits.public.labels, minlength=10)
    # The pool is balanced, so class c should get 200 * w_c / sum(w), w_c = exp(-skew * c / 9).
    weights = np.exp(-skew * np.arange(10) / 9)
    expected = 200 * weights / weights.sum()
    assert counts.sum() == 200
    assert np.all(np.abs(counts - expected) <= 1)
    assert np.all(np.diff(counts) <= 0) and counts[0] > counts[-1]
    assert counts[0] / counts[-1] == pytest.approx(np.exp(skew), rel=0.25)
    unskewed = make_splits(train, test, forget_fraction=0.1, public_size=200)
    np.testing.assert_array_equal(np.bincount(unskewed.public.labels), np.full(10, 20))


def test_class_skew_caps_classes_at_what_the_pool_has(train):
    labels = np.repeat(np.arange(3), [5, 100, 100])
    pool = _dataset(205, num_classes=3, labels=labels)
    splits = make_splits(train_of(3), pool, forget_fraction=0.5, public_size=60,
                         public_class_skew=5.0)
    counts = np.bincount(splits.public.labels, minlength=3)
    # Class 0 would want 60 * 5 / (5 + 100 e^-2.5 + 100 e^-5) = 21.6 examples but only has 5;
    # the remaining 55 are shared by classes 1 and 2 in the ratio 1 : e^-2.5.
    assert counts[0] == 5 and counts.sum() == 60
    assert abs(counts[1] - 55 / (1 + np.exp(-2.5))) <= 1
    assert abs(counts[2] - 55 * np.exp(-2.5) / (1 + np.exp(-2.5))) <= 1


def test_corruption_adds_gaussian_noise_of_requested_std(train, test):
    clean = make_splits(train, test, forget_fraction=0.1, public_size=300, seed=1)
    noisy = make_splits(train, test, forget_fraction=0.1, public_size=300, seed=1,
                        public_corruption=0.5)
    np.testing.assert_array_equal(clean.public.inputs, test.inputs[clean.public_indices])
    np.testing.assert_array_equal(clean.public_indices, noisy.public_indices)
    noise = noisy.public.inputs.astype(np.float64) - test.inputs[noisy.public_indices]
    assert noise.std() == pytest.approx(0.5, rel=0.02)
    assert abs(noise.mean()) < 0.01
    np.testing.assert_array_equal(noisy.public.labels, test.labels[noisy.public_indices])
    np.testing.assert_array_equal(noisy.test.inputs, clean.test.inputs)  # test stays clean


def test_spec_is_json_and_records_request(train, test):
    splits = make_splits(train, test, forget_classes=[1], public_fraction=0.1,
                         public_class_skew=0.5, seed=3)
    spec = json.loads(json.dumps(splits.spec))
    assert spec["kind"] == "classes" and spec["forget_classes"] == [1] and spec["seed"] == 3
    assert spec["public"]["class_skew"] == 0.5 and spec["public"]["size"] == 100
    assert spec["datasets"]["train"]["fingerprint"] == train.fingerprint()
    assert spec["datasets"]["test"]["size"] == 1000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"forget_fraction": 0.3, "public_size": 120, "public_class_skew": 2.0,
         "public_corruption": 0.2, "seed": 11},
        {"forget_classes": [0, 5]},
        {"forget_indices": [3, 1, 2], "public_fraction": 0.05},
    ],
)
def test_save_load_round_trip(tmp_path, train, test, kwargs):
    splits = make_splits(train, test, **kwargs)
    path = tmp_path / "splits.json"
    splits.save(path)
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)  # plain JSON, no pickle
    assert record["forget_indices"] == splits.forget_indices.tolist()

    loaded = Splits.load(path, train, test)
    for name in ("forget_indices", "retain_indices", "test_indices"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(splits, name))
    np.testing.assert_array_equal(loaded.test.inputs, splits.test.inputs)
    np.testing.assert_array_equal(loaded.forget_set.inputs, splits.forget_set.inputs)
    if splits.public is None:
        assert loaded.public is None
    else:
        np.testing.assert_array_equal(loaded.public_indices, splits.public_indices)
        np.testing.assert_array_equal(loaded.public.inputs, splits.public.inputs)
        np.testing.assert_array_equal(loaded.public.labels, splits.public.labels)
    assert loaded.spec == json.loads(json.dumps(splits.spec))


def test_load_with_public_source(tmp_path, train, test):
    source = _dataset(90, seed=6)
    splits = make_splits(train, test, forget_fraction=0.1, public_size=30, public_source=source,
                         public_corruption=0.1)
    splits.save(tmp_path / "s.json")
    loaded = Splits.load(tmp_path / "s.json", train, test, public_source=source)
    np.testing.assert_array_equal(loaded.public.inputs, splits.public.inputs)
    with pytest.raises(ValueError, match="public_source"):
        Splits.load(tmp_path / "s.json", train, test)
    with pytest.raises(ValueError, match="public_source"):
        Splits.load(tmp_path / "s.json", train, test, public_source=_dataset(90, seed=7))


def test_load_against_a_different_dataset_fails(tmp_path, train, test):
    make_splits(train, test, forget_fraction=0.2).save(tmp_path / "s.json")
    relabelled = train.labels.copy()
    relabelled[10] = (relabelled[10] + 1) % 10
    changed_train = Dataset(train.inputs, relabelled, 10)
    with pytest.raises(ValueError, match="train"):
        Splits.load(tmp_path / "s.json", changed_train, test)
    with pytest.raises(ValueError, match="train"):
        Splits.load(tmp_path / "s.json", _dataset(301), test)
    with pytest.raises(ValueError, match="test"):
        Splits.load(tmp_path / "s.json", train, _dataset(1000, seed=2))
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="Splits"):
        Splits.load(tmp_path / "other.json", train, test)


def test_splits_constructor_checks_partition(train, test):
    with pytest.raises(ValueError, match="forget_indices and retain_indices"):
        Splits(train, test, np.array([0, 1]), np.array([1, 2]))
    with pytest.raises(ValueError, match="forget_indices"):
        Splits(train, test, np.array([1, 0]), np.arange(2, 300))
    by_hand = Splits(train, test, np.array([0]), np.arange(1, 300))
    assert by_hand.forget_set.inputs.shape == (1, 4, 4, 2)


def test_hand_built_splits_save_and_load(tmp_path, train, test):
    by_hand = Splits(train, test, np.array([5, 9]), np.setdiff1d(np.arange(300), [5, 9]))
    by_hand.save(tmp_path / "s.json")
    loaded = Splits.load(tmp_path / "s.json", train, test)
    np.testing.assert_array_equal(loaded.forget_indices, [5, 9])
    assert loaded.public is None and len(loaded.test) == 1000
